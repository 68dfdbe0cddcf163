"""Hard limits (``resource.setrlimit``) of the processes that handle uploads.

Both the process that tries an uploaded model and the workers that parse
uploaded tables limit themselves with these: the kernel enforces them, in C
code too, where a Python-level check would never run.
"""

from __future__ import annotations

import math
import resource
import signal


def limit_memory(memory_mb: int) -> None:
    """Cap this process's address space at ``memory_mb``; dump no core.

    An allocation past it fails: Python raises MemoryError, Arrow
    ArrowMemoryError (a MemoryError too).
    """
    memory = memory_mb * 1024**2
    _set(resource.RLIMIT_AS, memory, memory)
    _set(resource.RLIMIT_CORE, 0, 0)


def limit_cpu(seconds: float, *, renewable: bool = False) -> None:
    """Let this process use ``seconds`` more CPU time; then SIGXCPU ends it.

    The seconds count from the CPU time used so far. A renewable limit
    leaves the hard limit where it is, so that a long-lived worker can give
    each task its own seconds; otherwise SIGKILL follows a second later.
    """
    used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    soft = math.ceil(used + seconds)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1] if renewable else soft + 1
    _set(resource.RLIMIT_CPU, soft, hard)


def limit_wall(seconds: float) -> None:
    """End this process ``seconds`` of wall-clock time from now, unless
    :func:`clear_wall` comes first: SIGALRM with its default action, so a
    task blocked in C code (a read that never returns) is stopped too,
    which no CPU limit does."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def clear_wall() -> None:
    """Cancel :func:`limit_wall`."""
    signal.setitimer(signal.ITIMER_REAL, 0)


def _set(which: int, soft: int, hard: int) -> None:
    # Never above a ceiling the service itself was started with.
    _, ceiling = resource.getrlimit(which)
    if ceiling != resource.RLIM_INFINITY:
        soft = min(soft, ceiling)
        hard = ceiling if hard == resource.RLIM_INFINITY else min(hard, ceiling)
    resource.setrlimit(which, (soft, hard))
