"""lightgrad.viz (draw, print_graph) and autograd.graph.summary."""
import io
import os
import shutil
import sys

import numpy as np
import pytest

import lightgrad
from lightgrad.autograd.graph import summary

from .conftest import CI, require


def _chapter(m):
    """The chapter's graph (python -m lightgrad): out = mean(3 * (x1 * (x2 + 2)) ** 2)."""
    x1 = m.ones(2, 2, requires_grad=True)
    x2 = m.tensor(1.1, requires_grad=True)
    y = x1 * (x2 + 2)
    z = y.pow(2) * 3
    return x1, x2, z.mean()


def _need_dot():
    if shutil.which("dot") is None:
        msg = "the Graphviz 'dot' program is missing (apt-get install graphviz)"
        if CI:
            pytest.fail(msg + " under CI=true")
        pytest.skip(msg)


def _torch_node_names(out):
    names, seen, stack = [], set(), [out.grad_fn]
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        names.append(n.name())
        stack.extend(c for c, _ in n.next_functions)
    return sorted(names)


def test_print_graph_chapter():
    x1, x2, out = _chapter(lightgrad)
    buf = io.StringIO()
    lightgrad.viz.print_graph(out, params={"x1": x1, "x2": x2}, file=buf)
    assert buf.getvalue() == (
        "tensor () float32\n"
        "└── MeanBackward0  () float32\n"
        "    └── MulBackward0\n"
        "        └── PowBackward0  (2, 2) float32\n"
        "            └── MulBackward0  (2, 2) float32\n"
        "                ├── x1  AccumulateGrad  (2, 2) float32\n"
        "                └── AddBackward0  () float32\n"
        "                    └── x2  AccumulateGrad  () float32\n")
    out.backward()
    text = lightgrad.viz.format_graph(out, params={"x1": x1, "x2": x2})
    g1 = np.linalg.norm(x1.grad.numpy())
    assert f"x1  AccumulateGrad  (2, 2) float32  grad norm {g1:.4g}" in text


def test_print_graph_marks_shared_nodes(capsys):
    a = lightgrad.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    c = (b * b + b).sum()
    lightgrad.viz.print_graph(c)
    text = capsys.readouterr().out
    assert text.count("ExpBackward0  (2,) float32  [#1]") == 1     # expanded once
    assert text.count("ExpBackward0  [#1 shown above]") == 2
    assert text.count("AccumulateGrad") == 1
    lightgrad.viz.print_graph(lightgrad.ones(2))
    assert "no grad_fn" in capsys.readouterr().out


def test_print_graph_node_names_match_torch(torch):
    for m in (lightgrad, torch):
        m.manual_seed(0)
    x = np.random.RandomState(0).randn(3, 4).astype(np.float32)
    outs = []
    for m in (lightgrad, torch):
        lin = m.nn.Linear(4, 2)
        t = m.tensor(x, requires_grad=True)
        outs.append(m.nn.functional.relu(lin(t)).softmax(-1).sum())
    text = lightgrad.viz.format_graph(outs[0])
    names = [line.split("── ")[1].split()[0] for line in text.splitlines()[1:]]
    names = sorted("torch::autograd::" + n if n == "AccumulateGrad" else n for n in names)
    assert names == _torch_node_names(outs[1])


def test_draw_source_names_every_node():
    require("graphviz")
    x1, x2, out = _chapter(lightgrad)
    dot = lightgrad.viz.draw(out, params={"x1": x1, "x2": x2})
    import graphviz
    assert isinstance(dot, graphviz.Digraph)
    src = dot.source
    for text in ("MeanBackward0\\n() float32", "PowBackward0\\n(2, 2) float32",
                 "AddBackward0\\n() float32", "x1\\nAccumulateGrad\\n(2, 2) float32",
                 "x2\\nAccumulateGrad\\n() float32", "output\\n() float32"):
        assert text in src, text
    assert src.count("MulBackward0") == 2 and "grad norm" not in src
    assert src.count("->") == 7                   # 6 graph edges and one to the output
    out.backward(retain_graph=True)
    src = lightgrad.viz.draw(out, params={"x1": x1, "x2": x2}).source
    assert f"grad norm {np.linalg.norm(x2.grad.numpy()):.4g}" in src
    saved = lightgrad.viz.draw(out, params={"x1": x1, "x2": x2}, show_saved=True).source
    assert "x1\\nself\\n(2, 2) float32" in saved and "style=dashed" in saved
    assert "other\\n() float32" in saved


def test_draw_model_parameters():
    require("graphviz")
    nn = lightgrad.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    loss = model(lightgrad.randn(5, 3)).pow(2).mean()
    src = lightgrad.viz.draw(loss, params=dict(model.named_parameters())).source
    for name, p in model.named_parameters():
        assert f"{name}\\nAccumulateGrad\\n{tuple(p.shape)} float32" in src
    assert "AddmmBackward0" in src and "ReluBackward0" in src


def test_render_svg(tmp_path):
    require("graphviz")
    _need_dot()
    _, _, out = _chapter(lightgrad)
    path = lightgrad.viz.draw(out).render(outfile=str(tmp_path / "g.svg"))
    with open(path) as f:
        text = f.read()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "MeanBackward0" in text
    assert lightgrad.viz.draw(out).pipe(format="png")[:4] == b"\x89PNG"


def test_missing_graphviz_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    _, _, out = _chapter(lightgrad)
    with pytest.raises(ImportError, match=r"pip install 'lightgrad\[viz\]'"):
        lightgrad.viz.draw(out)


def test_missing_dot_says_how_to_install(monkeypatch, tmp_path):
    require("graphviz")
    _, _, out = _chapter(lightgrad)
    dot = lightgrad.viz.draw(out)
    monkeypatch.setenv("PATH", str(tmp_path))       # no `dot` there
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        dot.render(outfile=str(tmp_path / "g.svg"))
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        dot.pipe(format="svg")


def test_docs_graph_svg_is_committed():
    path = os.path.join(os.path.dirname(__file__), "..", "docs", "graph.svg")
    with open(path) as f:
        text = f.read()
    for name in ("MeanBackward0", "PowBackward0", "AddBackward0", "x1", "x2"):
        assert name in text


# -- summary -------------------------------------------------------------------------------
def test_summary_counts_nodes_and_saved_bytes(torch):
    x = np.random.RandomState(0).randn(64, 32).astype(np.float32)
    w = np.random.RandomState(1).randn(32, 128).astype(np.float32)
    w2 = np.random.RandomState(2).randn(128, 10).astype(np.float32)
    outs = []
    for m in (lightgrad, torch):
        xs, ws, w2s = m.tensor(x), m.tensor(w, requires_grad=True), m.tensor(w2,
                                                                              requires_grad=True)
        outs.append(((xs @ ws).tanh() @ w2s).relu().sum())
    s = summary(outs[0])
    assert s.num_nodes == len(_torch_node_names(outs[1])) == 7
    assert sorted(n for n, k in s.node_counts.items() for _ in range(k)) == \
        _torch_node_names(outs[1])
    # x (leaf, 8 KiB), tanh's result (32 KiB; also matmul's saved self: counted once),
    # w2 (leaf, 5 KiB), relu's result (2.5 KiB)
    assert s.saved_bytes == (64 * 32 + 64 * 128 + 128 * 10 + 64 * 10) * 4
    assert s.leaf_bytes == (64 * 32 + 128 * 10) * 4
    big = s.largest[0]
    assert big.nbytes == 64 * 128 * 4 and big.shape == (64, 128)
    assert big.node.name() in ("MmBackward0", "TanhBackward0")
    text = str(s)
    assert "7 nodes" in text and "Largest saved values:" in text
    assert "TanhBackward0._saved_result  [64, 128] float32" in text
    outs[0].backward()
    after = summary(outs[0])
    assert after.saved_bytes == 0 and after.freed_nodes == 4
    assert "already freed" in str(after)


def test_summary_counts_a_view_of_a_parameter_as_leaf_memory():
    # F.linear saves weight.t() for addmm: the parameter's own memory, not an activation
    lin = lightgrad.nn.Linear(4, 3)
    x = lightgrad.randn(5, 4, requires_grad=True)
    s = summary(lin(x).sum())
    mat2 = [v for v in s.saved if v.name.endswith("mat2")]
    assert mat2 and all(v.is_leaf for v in mat2)
    assert s.leaf_bytes == (5 * 4 + 3 * 4) * 4 and s.activation_bytes == 0


def test_summary_with_hooks_counts_what_the_hook_keeps():
    from lightgrad.autograd.graph import saved_tensors_hooks
    a = lightgrad.randn(100, requires_grad=True)
    with saved_tensors_hooks(lambda t: None, lambda p: lightgrad.zeros(100)):
        y = a.exp().sin().sum()
    s = summary(y)
    assert s.saved_bytes == 0 and len(s.saved) == 2 and all(v.packed for v in s.saved)
    assert "(packed by a hook)" in str(s)
