"""The op-table entry type (modelled on PyTorch's OpInfo and JAX's autodiff tests)."""
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Op:
    """One op under test.

    name:   the public op it covers (a name in lightgrad.ops._core.DECLARED)
    fn:     fn(module, *inputs) -> Tensor or tuple; `module` is lightgrad or torch, so the
            same expression runs in both, e.g. `lambda m, x, y: m.mul(x, y)`
    shapes: input shapes, one tuple per input, e.g. [(3, 1), (4,)] for a broadcasting pair
    domain: (low, high) of the uniform random inputs, or a callable shape -> ndarray
    np_ref: optional NumPy reference for the forward, np_ref(*arrays) -> array
    grad / gradgrad: run gradcheck / gradgradcheck in float64
    nondiff: indices of inputs that do not require grad (e.g. integer indices)
    make_inputs: optional callable(rng) -> list of arrays, overriding shapes/domain
    """
    name: str
    fn: Callable
    shapes: list
    domain: tuple = (-2.0, 2.0)
    np_ref: Callable = None
    grad: bool = True
    gradgrad: bool = True
    nondiff: tuple = ()
    make_inputs: Callable = None
    atol: float = 1e-5
    rtol: float = 1e-3
    torch_atol: float = 1e-6
    id: str = ""
    extra: dict = field(default_factory=dict)

    def label(self):
        return self.id or f"{self.name}-{'x'.join(str(list(s)) for s in self.shapes)}"
