"""The import graph of src/lightgrad: no cycles, and each layer imports only downward
(docs/ARCHITECTURE.md). Every import counts, at the top of a module or inside a function,
and importing a submodule counts as importing its packages (Python runs their __init__)."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "src" / "lightgrad"


def _module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}


def _imports(name, source=None, is_package=None):
    """The lightgrad modules `name` imports, with the packages each import runs."""
    path = MODULES.get(name)
    if is_package is None:
        is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    out = set()
    for target in found:
        parts = target.split(".")
        for i in range(2, len(parts) + 1):       # every package on the way, not lightgrad
            q = ".".join(parts[:i])
            if q in MODULES and q != name and not name.startswith(q + "."):
                out.add(q)
    return out


GRAPH = {m: _imports(m) for m in MODULES}


def _cycles():
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_cycle():
    assert _cycles() == []


def _under(prefixes):
    return [m for m in MODULES if any(m == p or m.startswith(p + ".") for p in prefixes)]


# (modules, the modules they must not import): the layers from the bottom up
RULES = [
    (["lightgrad._tensor"], ["lightgrad._graph.graph", "lightgrad._graph.engine",
                             "lightgrad.ops", "lightgrad.autograd"]),
    (["lightgrad._graph"], ["lightgrad.ops", "lightgrad.autograd", "lightgrad._creation",
                            "lightgrad.nn", "lightgrad.func", "lightgrad._vmap"]),
    (["lightgrad.ops"], ["lightgrad.autograd", "lightgrad.nn", "lightgrad.optim",
                         "lightgrad.func", "lightgrad._vmap", "lightgrad.utils"]),
    (["lightgrad.autograd"], ["lightgrad.nn", "lightgrad.optim", "lightgrad.func",
                              "lightgrad._vmap"]),
    (["lightgrad.func", "lightgrad._vmap"], ["lightgrad.nn", "lightgrad.optim",
                                             "lightgrad.distributed"]),
    # nn.parallel's DistributedDataParallel is built on lightgrad.distributed, as in torch
    (["lightgrad.nn"], ["lightgrad.optim", "lightgrad.utils.data", "lightgrad.serialization"]),
    (["lightgrad.optim"], ["lightgrad.nn", "lightgrad.utils.data", "lightgrad.distributed"]),
]
# modules that stand above their package's layer, as in torch, and why
EXEMPT = {"lightgrad.optim.swa_utils": "AveragedModel is an nn.Module and update_bn walks "
                                       "a model's BatchNorm layers"}


@pytest.mark.parametrize("modules, forbidden", RULES, ids=[r[0][0] for r in RULES])
def test_each_layer_imports_only_downward(modules, forbidden):
    bad = {m: sorted(GRAPH[m] & set(_under(forbidden))) for m in _under(modules)
           if m not in EXEMPT}
    assert not {m: b for m, b in bad.items() if b}


def test_the_checker_sees_imports_inside_functions_and_packages():
    source = "def f():\n    from ..ops import _core\n    import lightgrad.nn.functional\n"
    found = _imports("lightgrad.autograd.x", source, is_package=False)
    assert {"lightgrad.ops", "lightgrad.ops._core", "lightgrad.nn",
            "lightgrad.nn.functional"} <= found
