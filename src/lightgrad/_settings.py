"""Process-wide switches scripts set in their first lines: deterministic algorithms and
float32 matmul precision. lightgrad's NumPy kernels are deterministic and always compute
float32 matmuls in float32, so these only record the setting, with torch's checks and
answers."""
import warnings

__all__ = ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]

_state = {"debug_mode": 0, "matmul_precision": "highest"}   # 0 off, 1 warn, 2 error
_DEBUG_NAMES = {"default": 0, "warn": 1, "error": 2}


def _want_bool(name, value, position=""):
    if type(value) is not bool:
        raise TypeError(f"_set_deterministic_algorithms(): argument '{name}'{position} must be "
                        f"bool, not {type(value).__name__}")


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms (lightgrad's are); warn_only as in torch."""
    _want_bool("mode", mode, " (position 1)")
    _want_bool("warn_only", warn_only)
    _state["debug_mode"] = (1 if warn_only else 2) if mode else 0


def are_deterministic_algorithms_enabled():
    return _state["debug_mode"] > 0


def is_deterministic_algorithms_warn_only_enabled():
    return _state["debug_mode"] == 1


def set_deterministic_debug_mode(debug_mode):
    """"default"/0, "warn"/1 or "error"/2, as use_deterministic_algorithms sets them."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_NAMES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = _DEBUG_NAMES[debug_mode]
    elif isinstance(debug_mode, int):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                               f"{debug_mode}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    _state["debug_mode"] = int(debug_mode)


def get_deterministic_debug_mode():
    return _state["debug_mode"]


def set_float32_matmul_precision(precision):
    """"highest", "high" or "medium": recorded; lightgrad multiplies float32 in float32."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in ("highest", "high", "medium"):
        # torch's text, its missing space included
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _state["matmul_precision"]
