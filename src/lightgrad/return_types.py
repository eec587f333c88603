"""lightgrad.return_types: the named tuples returned by max(dim), sort, topk, ...

They behave like torch's structseq types (`torch.return_types.max`): a tuple subclass with
named fields, built from one sequence (`return_types.max((values, indices))`), unpackable,
indexable, and equal to the plain tuple of its fields.

Printing: the repr keeps torch's `torch.return_types.` prefix, exactly as torch prints it
(AUTOGRAD_SPEC §8), because that is what users compare output against:

    torch.return_types.max(
    values=tensor([3., 5.], grad_fn=<MaxBackward0>),
    indices=tensor([1, 0]))

The types themselves live in this module (`type(r).__module__ == 'lightgrad.return_types'`).
"""

__all__ = []


class _StructSeq(tuple):
    """Base of every return type: a tuple with named fields, made from one sequence."""
    __slots__ = ()
    _fields = ()

    def __new__(cls, sequence):
        try:
            items = tuple(sequence)
        except TypeError:
            raise TypeError("constructor requires a sequence") from None
        n = len(cls._fields)
        if len(items) != n:
            raise TypeError(f"torch.return_types.{cls.__name__}() takes a {n}-sequence "
                            f"({len(items)}-sequence given)")
        return tuple.__new__(cls, items)

    def __repr__(self):
        body = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{body})"

    __str__ = __repr__

    def __reduce__(self):
        return (type(self), (tuple(self),))


def _field(i):
    return property(lambda self: tuple.__getitem__(self, i))


def _make_type(name, fields):
    ns = {"__slots__": (), "_fields": tuple(fields), "__module__": __name__,
          "__qualname__": name, "n_fields": len(fields), "n_sequence_fields": len(fields),
          "n_unnamed_fields": 0}
    for i, f in enumerate(fields):
        ns[f] = _field(i)
    cls = type(name, (_StructSeq,), ns)
    globals()[name] = cls
    __all__.append(name)
    return cls


for _name, _fields in [
        ("max", "values indices"), ("min", "values indices"), ("sort", "values indices"),
        ("topk", "values indices"), ("kthvalue", "values indices"),
        ("median", "values indices"), ("nanmedian", "values indices"),
        ("mode", "values indices"), ("cummax", "values indices"),
        ("cummin", "values indices"), ("aminmax", "min max"),
        ("frexp", "mantissa exponent"), ("geqrf", "a tau"),
        ("histogram", "hist bin_edges"), ("histogramdd", "hist bin_edges"),
        ("qr", "Q R"), ("slogdet", "sign logabsdet"), ("svd", "U S V"),
        ("triangular_solve", "solution cloned_coefficient"), ("lu_unpack", "P L U"),
        ("linalg_cholesky_ex", "L info"), ("linalg_eig", "eigenvalues eigenvectors"),
        ("linalg_eigh", "eigenvalues eigenvectors"), ("linalg_inv_ex", "inverse info"),
        ("linalg_ldl_factor", "LD pivots"), ("linalg_ldl_factor_ex", "LD pivots info"),
        ("linalg_lstsq", "solution residuals rank singular_values"),
        ("linalg_lu", "P L U"), ("linalg_lu_factor", "LU pivots"),
        ("linalg_lu_factor_ex", "LU pivots info"), ("linalg_qr", "Q R"),
        ("linalg_slogdet", "sign logabsdet"), ("linalg_solve_ex", "result info"),
        ("linalg_svd", "U S Vh")]:
    _make_type(_name, _fields.split())
del _name, _fields
