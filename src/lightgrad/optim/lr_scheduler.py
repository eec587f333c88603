"""torch.optim.lr_scheduler (being written)."""
