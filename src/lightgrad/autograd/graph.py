"""torch.autograd.graph: Node, RemovableHandle and the saved-tensor hooks, plus lightgrad's
graph summary. (The graph layer itself is lightgrad._graph, below the ops.)"""
from .._graph._summary import GraphSummary, summary  # noqa: F401
from .._graph.graph import (AccumulateGrad, Node, RemovableHandle,  # noqa: F401
                            disable_saved_tensors_hooks, save_on_cpu, saved_tensors_hooks)

__all__ = ["Node", "RemovableHandle", "saved_tensors_hooks", "disable_saved_tensors_hooks",
           "save_on_cpu", "summary"]
