"""torch.backends.cudnn: no cuDNN here. `deterministic`, `benchmark`, `enabled` and
`allow_tf32` are plain flags with torch's defaults; setting them changes nothing."""
enabled = True
deterministic = False
benchmark = False
benchmark_limit = 10
allow_tf32 = True


def is_available():
    """False: lightgrad has no cuDNN."""
    return False


def version():
    """None, as torch's is without cuDNN."""
    return None
