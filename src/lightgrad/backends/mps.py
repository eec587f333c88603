"""torch.backends.mps: Apple's Metal backend, absent in lightgrad."""


def is_available():
    return False


def is_built():
    return False
