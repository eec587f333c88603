"""Process-wide memory settings that speed up training loops: opt-in, never done on import."""
import ctypes
import sys

__all__ = ["tune_malloc"]


def tune_malloc(trim_threshold=64 << 20, mmap_threshold=16 << 20):
    """Keep freed array memory in the process instead of handing it back to the OS.

    glibc serves arrays above ~128 KiB with fresh mmap pages and trims its heap eagerly; a
    conv training step allocates and frees a few such buffers per op, and each one then
    costs hundreds of page faults (measured: ~40% of a digits-CNN step on a 2-core VM).
    Raising the mmap and trim thresholds (bytes) lets those buffers reuse warm heap memory.
    It changes malloc for the whole process, so lightgrad never does it by itself: call it
    once at the start of a script. Returns True when the settings were applied (glibc on
    Linux), False where there is nothing to tune.

        >>> import lightgrad.utils
        >>> lightgrad.utils.tune_malloc()    # doctest: +SKIP
        True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        m_trim_threshold, m_mmap_threshold = -1, -3     # glibc's mallopt parameter numbers
        return bool(libc.mallopt(m_trim_threshold, int(trim_threshold))) and \
            bool(libc.mallopt(m_mmap_threshold, int(mmap_threshold)))
    except (OSError, AttributeError):   # not glibc
        return False
