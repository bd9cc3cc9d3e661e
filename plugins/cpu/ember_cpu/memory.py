"""Host memory behaviour for the cpu backend: glibc keeps freed blocks for reuse.

numpy allocates every array of more than a few hundred bytes with ``malloc``. glibc serves large
requests (above its mmap threshold, 128 KiB until it adapts) with fresh ``mmap`` pages and
returns them to the system on ``free``, and trims the top of its heap once more than its trim
threshold is free; a training step allocates and frees the same large temporaries every step
(im2col columns, activations, gradients), so each step touches fresh pages again: a page fault
and the kernel zeroing each 4 KiB page. On the digits CNN's eager step that was a quarter of its
CPU time (docs/benchmarks.md). PyTorch's CPU tuning guide answers the same problem by preloading
jemalloc or tcmalloc; here :func:`keep_freed_memory` raises glibc's two thresholds with
``mallopt``, so blocks up to :data:`MMAP_THRESHOLD` come from the heap and up to
:data:`TRIM_THRESHOLD` of freed heap stays mapped for the next step. The cost: a process keeps up
to that much freed memory instead of returning it. ``EMBER_CPU_KEEP_FREED=0`` leaves glibc's
defaults; other C libraries are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

__all__ = ["keep_freed_memory", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

#: requests up to this size are served from the heap (glibc's largest allowed value on 64-bit)
MMAP_THRESHOLD = 32 * 1024 * 1024
#: freed memory at the top of the heap kept mapped, up to this much
TRIM_THRESHOLD = 128 * 1024 * 1024
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_done: list[str] = []


def keep_freed_memory() -> str:
    """Raise glibc's mmap and trim thresholds once per process (see the module docstring); says
    what was done, or why not."""
    if _done:
        return _done[0]
    if os.environ.get("EMBER_CPU_KEEP_FREED", "1") == "0":
        how = "glibc defaults (EMBER_CPU_KEEP_FREED=0)"
    elif platform.libc_ver()[0] != "glibc":
        how = "the C library's defaults (not glibc)"
    else:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            ok = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
        except (OSError, AttributeError) as e:
            ok, how = False, f"glibc defaults (mallopt unavailable: {e})"
        else:
            how = (
                f"freed blocks kept (glibc mmap threshold {MMAP_THRESHOLD >> 20} MiB, "
                f"trim threshold {TRIM_THRESHOLD >> 20} MiB)"
                if ok
                else "glibc defaults (mallopt refused the thresholds)"
            )
    _done.append(how)
    return how
