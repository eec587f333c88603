"""autograd.graph.summary and the graph walk it shares with lightgrad.viz: what a graph
keeps alive for backward, and which ops saved it."""
from .graph import AccumulateGrad, Node, SavedOutput

def _packed_arrays(obj):
    """The arrays a pack hook's result keeps alive (a Tensor, an array, or a tuple/list or
    dict of them; other objects are opaque and count as nothing)."""
    if hasattr(obj, "_data"):
        return [obj._data]
    if hasattr(obj, "nbytes") and hasattr(obj, "dtype"):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [a for o in obj for a in _packed_arrays(o)]
    if isinstance(obj, dict):
        return [a for o in obj.values() for a in _packed_arrays(o)]
    return []


def _saved_array(node, v):
    """(arrays kept alive, shape, dtype, nbytes, is_leaf, packed) for an entry of _saved."""
    tv = type(v)
    if tv is tuple:
        t, version = v
        if version is None:                   # packed: count what the hook kept
            return _packed_arrays(t.packed), t.shape, t.dtype, t.nbytes, False, True
        # a view of a leaf (addmm saves weight.t()) holds the leaf's memory, not new memory
        on_leaf = t.grad_fn is None or t._base is not None and t._base.grad_fn is None
        return [t._data], t._data.shape, t._data.dtype, t._data.nbytes, on_leaf, False
    if tv is SavedOutput:
        if v.version is None:
            h = v.data
            return _packed_arrays(h.packed), h.shape, h.dtype, h.nbytes, False, True
        return [v.data], v.data.shape, v.data.dtype, v.data.nbytes, False, False
    if hasattr(v, "nbytes") and hasattr(v, "dtype"):
        return [v], v.shape, v.dtype, v.nbytes, False, False
    return None


class SavedValue:
    """One value saved for backward: the node that saved it and under which name."""
    __slots__ = ("node", "name", "shape", "dtype", "nbytes", "is_leaf", "packed")

    def __init__(self, node, name, shape, dtype, nbytes, is_leaf, packed):
        self.node, self.name, self.shape, self.dtype = node, name, tuple(shape), dtype
        self.nbytes, self.is_leaf, self.packed = nbytes, is_leaf, packed

    def __repr__(self):
        return (f"SavedValue({self.node.name()}._saved_{self.name}, shape={self.shape}, "
                f"dtype={self.dtype}, nbytes={self.nbytes})")


def _fmt_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


class GraphSummary:
    """What `summary` found. Attributes: num_nodes, node_counts (name -> count), saved
    (every SavedValue), saved_bytes (distinct arrays kept for backward), leaf_bytes (the part
    that are leaves, alive anyway), activation_bytes, by_op (name -> bytes), largest.
    Values that went through saved_tensors_hooks count by what the hook kept (nothing for
    checkpoint's handles); their `nbytes` is their size when they were saved."""

    def __init__(self, nodes, saved, saved_bytes, leaf_bytes, freed, top):
        self.nodes = nodes
        self.num_nodes = len(nodes)
        counts = {}
        for n in nodes:
            counts[n.name()] = counts.get(n.name(), 0) + 1
        self.node_counts = counts
        self.saved = saved
        self.saved_bytes = saved_bytes
        self.leaf_bytes = leaf_bytes
        self.activation_bytes = saved_bytes - leaf_bytes
        self.freed_nodes = freed
        by_op = {}
        for s in saved:
            by_op[s.node.name()] = by_op.get(s.node.name(), 0) + s.nbytes
        self.by_op = dict(sorted(by_op.items(), key=lambda kv: -kv[1]))
        self.largest = sorted(saved, key=lambda s: -s.nbytes)[:top]

    def __repr__(self):
        return (f"GraphSummary(num_nodes={self.num_nodes}, saved_bytes={self.saved_bytes}, "
                f"saved_values={len(self.saved)})")

    def __str__(self):
        lines = [f"Autograd graph: {self.num_nodes} nodes, {len(self.saved)} saved values, "
                 f"{_fmt_bytes(self.saved_bytes)} saved for backward "
                 f"({_fmt_bytes(self.activation_bytes)} intermediate, "
                 f"{_fmt_bytes(self.leaf_bytes)} leaves)"]
        if self.freed_nodes:
            lines.append(f"{self.freed_nodes} nodes already freed their saved values "
                         "(backward ran without retain_graph)")
        if self.by_op:
            lines.append("Saved bytes by node:")
            w = max(len(k) for k in self.by_op)
            for name, b in self.by_op.items():
                lines.append(f"  {name:<{w}}  {_fmt_bytes(b):>10}  "
                             f"(x{self.node_counts.get(name, 0)})")
        if self.largest:
            lines.append("Largest saved values:")
            for s in self.largest:
                shape = "[" + ", ".join(map(str, s.shape)) + "]"
                kind = " leaf" if s.is_leaf else " (packed by a hook)" if s.packed else ""
                lines.append(f"  {_fmt_bytes(s.nbytes):>10}  {s.node.name()}._saved_{s.name}"
                             f"  {shape} {s.dtype.name}{kind}")
        return "\n".join(lines)


def _as_roots(tensors):
    roots = []
    for t in tensors:
        if isinstance(t, (list, tuple)):
            roots.extend(_as_roots(t))
        elif isinstance(t, Node):
            roots.append(t)
        elif getattr(t, "grad_fn", None) is not None:
            roots.append(t.grad_fn)
    return roots


def walk(roots):
    """Every node reachable from `roots` through next_functions, each once (DFS order)."""
    seen, order, stack = set(), [], list(reversed(roots))
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        order.append(n)
        for child, _ in reversed(getattr(n, "next_functions", ())):
            if child is not None and id(child) not in seen:
                stack.append(child)
    return order


def summary(*tensors, top=10):
    """A report on the graph behind `tensors`: node count, bytes saved for backward (each
    distinct array counted once), and the largest saved values with the nodes that saved
    them. `print(summary(loss))` answers "why does my backward use so much memory?"."""
    from .._dtype import from_numpy_dtype
    nodes = walk(_as_roots(tensors))
    saved, seen, total, leaf, freed = [], set(), 0, 0, 0
    for n in nodes:
        try:
            entries = object.__getattribute__(n, "_saved")
        except AttributeError:
            entries = None
        if entries is None:
            if not isinstance(n, AccumulateGrad):
                freed += 1
            continue
        names = type(n)._saved_names
        for i, v in enumerate(entries):
            info = _saved_array(n, v)
            if info is None:
                continue
            arrays, shape, dtype, nbytes, is_leaf, packed = info
            name = names[i] if i < len(names) else str(i)
            saved.append(SavedValue(n, name, shape, from_numpy_dtype(dtype), nbytes, is_leaf,
                                    packed))
            for base in arrays:     # count each buffer once, whole (a view keeps its base)
                while getattr(base, "base", None) is not None and hasattr(base.base, "nbytes"):
                    base = base.base
                if id(base) in seen:
                    continue
                seen.add(id(base))
                total += base.nbytes
                if is_leaf:
                    leaf += base.nbytes
    return GraphSummary(nodes, saved, total, leaf, freed, top)
