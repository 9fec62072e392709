"""glibc's allocator told to give large buffers back to the system: one definition for the
gunicorn workers (catsite/gunicorn_conf.py, post_fork) and the model service (serve_model).

Large buffers (a decoded photo, libjpeg's coefficients, libwebp's canvases: megabytes each)
go straight to mmap and back to the system when freed. By default glibc raises its mmap
threshold after the first such free (up to 32 MB), so later photos come from per-thread
arenas that keep their pages: one gunicorn worker with 4 threads, sent hostile uploads that each
decode within 170 MB one at a time, peaked at 586 MB and kept 436 MB; with these settings 378 MB
and 210 MB (the 193 MB it started with, plus the model's warm buffers). The model service,
sent 64 WebP photos of 3000 x 3000 in one request, kept 954 MB without them.

Set with mallopt() inside the process rather than MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ in
the environment: glibc reads those only when a process starts, before gunicorn forks its workers,
and a setting in the image's entry point would not follow a process started another way.
No Django here.
"""
from __future__ import annotations

import ctypes

MMAP_THRESHOLD_BYTES = 1024 * 1024
ARENAS = 2
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc's mallopt parameters (malloc.h)


def return_large_buffers() -> bool:
    """Apply the settings to this process (call it before it starts its threads). False when
    the C library is not glibc: memory then returns to the system only as that library decides."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return False
    # mallopt returns 1 on success; fixing the threshold also stops glibc from raising it.
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                and libc.mallopt(_M_ARENA_MAX, ARENAS))
