"""Pytrees: tuples, lists, dicts and namedtuples of leaves, flattened to a list and a spec
to rebuild them (what torch.utils._pytree does for torch.func and vmap)."""
import collections


class _Spec:
    """The shape of a pytree: kind ('*' for a leaf), the node's key data and children."""
    __slots__ = ("kind", "keys", "children", "n")

    def __init__(self, kind, keys=None, children=()):
        self.kind, self.keys, self.children = kind, keys, tuple(children)
        self.n = 1 if kind == "*" else sum(c.n for c in self.children)

    def __eq__(self, other):
        return (isinstance(other, _Spec) and self.kind == other.kind
                and self.keys == other.keys and self.children == other.children)

    def __str__(self):
        kids = [str(c) for c in self.children]
        if self.kind == "*":
            return "*"
        if self.kind is tuple:
            return "(" + ", ".join(kids) + ("," if len(kids) == 1 else "") + ")"
        if self.kind is list:
            return "[" + ", ".join(kids) + "]"
        if self.kind in (dict, collections.OrderedDict):
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.keys, kids)) + "}"
        return self.kind.__name__ + "(" + ", ".join(
            f"{k}={c}" for k, c in zip(self.kind._fields, kids)) + ")"


_LEAF = _Spec("*")


def tree_flatten(tree):
    """(leaves, spec); containers are tuples, lists, dicts and namedtuples."""
    leaves = []

    def walk(node):
        t = type(node)
        if t is tuple or t is list:
            return _Spec(t, None, [walk(c) for c in node])
        if t is dict or t is collections.OrderedDict:
            keys = tuple(node)
            return _Spec(t, keys, [walk(node[k]) for k in keys])
        if isinstance(node, tuple) and hasattr(t, "_fields"):
            return _Spec(t, None, [walk(c) for c in node])
        leaves.append(node)
        return _LEAF
    return leaves, walk(tree)


def tree_unflatten(leaves, spec):
    it = iter(leaves)

    def build(s):
        if s.kind == "*":
            return next(it)
        kids = [build(c) for c in s.children]
        if s.kind is tuple or s.kind is list:
            return s.kind(kids)
        if s.kind is dict or s.kind is collections.OrderedDict:
            return s.kind(zip(s.keys, kids))
        return s.kind(*kids)
    return build(spec)


# -- shared machinery --------------------------------------------------------------------
