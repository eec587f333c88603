"""torch.backends.mkldnn: lightgrad does not use oneDNN, so it is not available; `enabled`
is a plain flag."""
enabled = True


def is_available():
    return False
