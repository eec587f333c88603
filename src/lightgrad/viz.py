"""Graphs you can look at: the backward graph as a picture (`draw`) or a text tree
(`print_graph`).

`draw` returns a `graphviz.Digraph`, as torchviz's `make_dot` does: it renders to SVG, PNG
or PDF with `.render(outfile="g.svg")` and shows inline in Jupyter. It needs the optional
extra (`pip install 'lightgrad[viz]'`) and the Graphviz `dot` program to render.
`print_graph` needs nothing: it is the chapter's walk over `next_functions`, done for you.

Node labels use torch's node names (MulBackward0, AccumulateGrad). Shapes of intermediate
results are shown where the graph knows them (saved values, broadcast metadata, outputs).
"""
import sys

import numpy as np

from ._dtype import from_numpy_dtype
from ._graph._summary import walk
from ._graph.graph import AccumulateGrad, SavedOutput

__all__ = ["draw", "print_graph", "format_graph"]

_INSTALL_PY = ("lightgrad.viz.draw needs the 'graphviz' Python package. Install it with "
               "pip install 'lightgrad[viz]' (or pip install graphviz).")
_INSTALL_DOT = ("rendering the graph needs the Graphviz 'dot' program, which was not found on "
                "PATH. Install Graphviz: apt-get install graphviz (Debian/Ubuntu), "
                "brew install graphviz (macOS), conda install graphviz, or see "
                "https://graphviz.org/download/.")


def _fmt(shape, dtype):
    return f"{tuple(shape)} {from_numpy_dtype(np.dtype(dtype)).name}"


def _out_shapes(roots, nodes):
    """(id(node), output_nr) -> (shape, dtype) for every node output the graph can tell."""
    known = {}
    for t in roots:
        if t.grad_fn is not None:
            known[(id(t.grad_fn), t._out_nr)] = (t._data.shape, t._data.dtype)
    for n in nodes:
        if isinstance(n, AccumulateGrad):
            v = n.variable
            if v is not None:
                known[(id(n), 0)] = (v._data.shape, v._data.dtype)
            continue
        ins = getattr(n, "_in", None)
        if ins:
            for (child, nr), m in zip(n.next_functions, ins):
                if child is not None and m is not None:
                    known.setdefault((id(child), nr), m)
        out_meta = getattr(n, "_out_meta", None)   # autograd.Function nodes
        if out_meta:
            metas = [m for m in out_meta if m is not None]
            for nr, m in enumerate(metas):
                known.setdefault((id(n), nr), m)
        for v in object.__getattribute__(n, "_saved") or ():
            if type(v) is SavedOutput:      # data is an array, or a SavedPacked
                known.setdefault((id(n), v.nr), (v.data.shape, v.data.dtype))
            elif type(v) is tuple:
                t, version = v
                if version is None:
                    if t.grad_fn is not None:
                        known.setdefault((id(t.grad_fn), t.nr), (t.shape, t.dtype))
                elif t.grad_fn is not None:
                    known.setdefault((id(t.grad_fn), t._out_nr), (t._data.shape, t._data.dtype))
    return known


def _roots(tensors):
    out = []
    for t in tensors:
        if isinstance(t, (list, tuple)):
            out.extend(_roots(t))
        elif isinstance(t, dict):
            out.extend(_roots(list(t.values())))
        else:
            out.append(t)
    return out


def _grad_norm(t):
    g = t.grad
    if g is None:
        return None
    return float(np.linalg.norm(np.asarray(g._data, dtype=np.float64).ravel()))


def _node_lines(node, known, names, show_grad):
    """Label lines of a node: name, output shapes/dtypes, a leaf's name and grad norm."""
    if isinstance(node, AccumulateGrad):
        v = node.variable
        lines = []
        if v is not None and id(v) in names:
            lines.append(names[id(v)])
        lines.append("AccumulateGrad")
        if v is not None:
            lines.append(_fmt(v._data.shape, v._data.dtype))
            if show_grad:
                gn = _grad_norm(v)
                if gn is not None:
                    lines.append(f"grad norm {gn:.4g}")
        return lines
    lines = [node.name()]
    nout = max(getattr(node, "_nout", 1), 1)
    for nr in range(nout):
        m = known.get((id(node), nr))
        if m is not None:
            lines.append((f"out {nr}: " if nout > 1 else "") + _fmt(*m))
    return lines


def _saved_entries(node):
    """(name, shape, dtype) of each tensor a node saved (nothing once backward freed them)."""
    entries = object.__getattribute__(node, "_saved")
    if not entries:
        return []
    names = type(node)._saved_names
    out = []
    for i, v in enumerate(entries):
        name = names[i] if i < len(names) else f"saved[{i}]"
        if type(v) is SavedOutput:
            out.append((name, v.data.shape, v.data.dtype, None))
        elif type(v) is tuple:
            t = v[0]
            if v[1] is None:
                out.append((name, t.shape, t.dtype, None))
            else:
                out.append((name, t._data.shape, t._data.dtype, t))
        elif hasattr(v, "shape") and hasattr(v, "dtype"):
            out.append((name, v.shape, v.dtype, None))
    return out


def _digraph_class():
    try:
        import graphviz
    except ImportError:
        raise ImportError(_INSTALL_PY) from None

    class Digraph(graphviz.Digraph):
        """graphviz.Digraph whose rendering explains how to install a missing `dot`."""

        def render(self, *args, **kwargs):
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                raise RuntimeError(_INSTALL_DOT) from e

        def pipe(self, *args, **kwargs):
            try:
                return super().pipe(*args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                raise RuntimeError(_INSTALL_DOT) from e

    return Digraph


def _quote(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n")


def draw(*tensors, params=None, show_saved=False, show_grad=True, show_attrs=None):
    """The backward graph of `tensors` as a graphviz.Digraph (like torchviz's make_dot).

    params: name -> tensor (e.g. dict(model.named_parameters())) to label leaves.
    show_saved: also draw the tensors each node saved for backward (dashed edges).
    show_grad: label leaves that have a .grad with its norm (after backward()).
    Output tensors are green, leaves blue, saved tensors orange."""
    Digraph = _digraph_class()
    roots = _roots(tensors)
    names = {id(t): k for k, t in (params or {}).items()}
    nodes = walk([t.grad_fn if t.grad_fn is not None else _leaf_node(t) for t in roots
                  if t.grad_fn is not None or t.requires_grad])
    known = _out_shapes(roots, nodes)
    ids = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    dot = Digraph(name="lightgrad", format="svg",
                  node_attr={"style": "filled", "shape": "box", "align": "left",
                             "fontsize": "10", "ranksep": "0.1", "height": "0.2",
                             "fontname": "monospace"},
                  graph_attr={"size": "12,12"})
    for n in nodes:
        leaf = isinstance(n, AccumulateGrad)
        dot.node(ids[id(n)], _quote("\n".join(_node_lines(n, known, names, show_grad))),
                 fillcolor="lightblue" if leaf else "lightgrey")
        if show_saved and not leaf:
            for k, (name, shape, dtype, t) in enumerate(_saved_entries(n)):
                sid = f"{ids[id(n)]}s{k}"
                label = [names[id(t)]] if t is not None and id(t) in names else []
                label += [name, _fmt(shape, dtype)]
                dot.node(sid, _quote("\n".join(label)), fillcolor="orange")
                dot.edge(sid, ids[id(n)], style="dashed", dir="none")
        for child, _ in getattr(n, "next_functions", ()):
            if child is not None:
                dot.edge(ids[id(child)], ids[id(n)])
    for i, t in enumerate(roots):
        rid = f"out{i}"
        label = ([names[id(t)]] if id(t) in names else []) + ["output", _fmt(t._data.shape,
                                                                              t._data.dtype)]
        dot.node(rid, _quote("\n".join(label)), fillcolor="darkolivegreen1")
        src = t.grad_fn if t.grad_fn is not None else (_leaf_node(t) if t.requires_grad
                                                       else None)
        if src is not None:
            dot.edge(ids[id(src)], rid)
    return dot


def _leaf_node(t):
    return t._acc if t._acc is not None else t._get_acc()


def format_graph(*tensors, params=None, show_grad=True):
    """The text of `print_graph`."""
    roots = _roots(tensors)
    names = {id(t): k for k, t in (params or {}).items()}
    starts = [t.grad_fn if t.grad_fn is not None else (_leaf_node(t) if t.requires_grad
                                                        else None) for t in roots]
    nodes = walk([s for s in starts if s is not None])
    known = _out_shapes(roots, nodes)
    # nodes reached more than once get a number, and are expanded only the first time
    refs = {}
    for s in starts:
        if s is not None:
            refs[id(s)] = refs.get(id(s), 0) + 1
    for n in nodes:
        for child, _ in getattr(n, "next_functions", ()):
            if child is not None:
                refs[id(child)] = refs.get(id(child), 0) + 1
    tags, shown, out = {}, set(), []

    def line(n):
        text = "  ".join(_node_lines(n, known, names, show_grad))
        if refs.get(id(n), 0) > 1:
            if id(n) not in tags:
                tags[id(n)] = f"#{len(tags) + 1}"
            text += f"  [{tags[id(n)]}]"
        return text

    def emit(n, prefix, last, top):
        branch = "" if top else ("└── " if last else "├── ")
        if id(n) in shown:
            out.append(f"{prefix}{branch}{n.name()}  [{tags[id(n)]} shown above]")
            return
        shown.add(id(n))
        out.append(prefix + branch + line(n))
        kids = [c for c, _ in getattr(n, "next_functions", ()) if c is not None]
        child_prefix = prefix if top else prefix + ("    " if last else "│   ")
        for i, c in enumerate(kids):
            emit(c, child_prefix, i == len(kids) - 1, False)

    for t, s in zip(roots, starts):
        head = [names[id(t)]] if id(t) in names else []
        head.append(f"tensor {_fmt(t._data.shape, t._data.dtype)}")
        if s is None:
            out.append("  ".join(head) + "  (no grad_fn: not part of a graph)")
            continue
        out.append("  ".join(head))
        emit(s, "", True, False)
    return "\n".join(out)


def print_graph(*tensors, params=None, show_grad=True, file=None):
    """Print the backward graph of `tensors` as an indented tree: torch node names, output
    shapes and dtypes where known, leaves with their parameter names (from `params`) and
    gradient norms; a node reached twice is expanded once and marked [#k] both times."""
    text = format_graph(*tensors, params=params, show_grad=show_grad)
    print(text, file=sys.stdout if file is None else file)

