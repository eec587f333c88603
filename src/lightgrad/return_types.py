"""torch.return_types: named tuples returned by max(dim), sort, topk, ... (being written)."""
