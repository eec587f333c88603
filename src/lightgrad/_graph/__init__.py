"""The graph layer: nodes and edges (graph.py), the backward walk (engine.py), grad modes,
forward-mode tangents, batches of gradients, anomaly mode and the graph summary. It knows
the Tensor (below it) and no op; the ops fill its rule namespaces NP / T / B. The public
torch paths (torch.autograd.graph, .forward_ad, .grad_mode, .anomaly_mode) are re-exported
by lightgrad.autograd."""
