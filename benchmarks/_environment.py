"""The machine and package versions a benchmark ran on, for its JSON."""

from __future__ import annotations

import os
import platform
import sys


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def environment(*modules: str) -> dict:
    """Platform, CPUs, load and the versions of the core packages and of
    ``modules`` (None for one that is not installed)."""
    core = ("numpy", "pandas", "sklearn", "featimp")
    return {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            # Timings on a shared machine are only comparable at similar load.
            "load_average_1_5_15_min": list(os.getloadavg()),
        },
        "versions": {
            "python": sys.version.split()[0],
            **{
                ("scikit-learn" if m == "sklearn" else m): _version(m)
                for m in (*core, *modules)
            },
        },
    }
