"""torch.autograd.anomaly_mode: detect_anomaly and set_detect_anomaly
(lightgrad._graph.anomaly_mode)."""
from .._graph.anomaly_mode import detect_anomaly, set_detect_anomaly

__all__ = ["detect_anomaly", "set_detect_anomaly"]
