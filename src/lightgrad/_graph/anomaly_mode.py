"""Anomaly detection (spec section 9): forward tracebacks for failing nodes and NaN checks."""
import warnings


__all__ = ["detect_anomaly", "set_detect_anomaly"]

anomaly = [False, True]  # [enabled, check_nan]; read on the hot path, so a plain list


def is_anomaly_enabled():
    return anomaly[0]


def is_anomaly_check_nan_enabled():
    return anomaly[1]


def hint():
    if anomaly[0]:
        return ("Hint: the backtrace further above shows the operation that failed to compute "
                "its gradient. The variable in question was changed in there or anywhere later. "
                "Good luck!")
    return ("Hint: enable anomaly detection to find the operation that failed to compute its "
            "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


class detect_anomaly:
    """Context manager that turns anomaly detection on (not a decorator, as in torch)."""

    def __init__(self, check_nan=True):
        self.prev = tuple(anomaly)
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        anomaly[:] = [True, self.check_nan]

    def __exit__(self, *exc):
        anomaly[:] = self.prev


class set_detect_anomaly:
    """Applies at construction, so a plain call works; restores on exit as a context."""

    def __init__(self, mode, check_nan=True):
        self.prev = tuple(anomaly)
        anomaly[:] = [bool(mode), check_nan]

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        anomaly[:] = self.prev
