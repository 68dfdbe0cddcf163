"""The machine, threads, load and package versions a benchmark ran under.

Import it at the top of a benchmark script: the load average is taken then
(the start of the run) and again when :func:`environment` builds the JSON
block (the end). Timings on a shared machine are only comparable at similar
load, so a run whose load average passed the core count at either end is
flagged ``"loaded": true`` in the JSON, and :func:`environment` says so on
stderr; ratios taken side by side in one run stay meaningful, absolute
seconds do not.
"""

from __future__ import annotations

import os
import platform
import sys

#: The load average when the benchmark started (this module's import).
START_LOAD = list(os.getloadavg())


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def threads() -> dict:
    """BLAS/OpenMP thread pools (threadpoolctl), OPENBLAS_CORETYPE and
    torch's and numba's thread counts where they are loaded: what decides
    how fast a dense or compiled kernel runs here."""
    try:
        from threadpoolctl import threadpool_info

        pools = [
            {
                k: p.get(k)
                for k in (
                    "user_api",
                    "internal_api",
                    "num_threads",
                    "version",
                    "architecture",
                )
            }
            for p in threadpool_info()
        ]
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        pools = None
    torch = sys.modules.get("torch")
    numba = sys.modules.get("numba")
    return {
        "threadpools": pools,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "numba_threads": numba.get_num_threads() if numba is not None else None,
    }


def environment(*modules: str) -> dict:
    """Platform, CPUs, threads, load at start and end, and the versions of
    the core packages and of ``modules`` (None for one not installed)."""
    core = ("numpy", "pandas", "sklearn", "featimp")
    cpus = os.cpu_count() or 1
    end_load = list(os.getloadavg())
    loaded = max(START_LOAD[0], end_load[0]) > cpus
    if loaded:
        print(
            f"warning: load average {START_LOAD[0]:.1f} at the start and "
            f"{end_load[0]:.1f} at the end on {cpus} cores: absolute times of "
            "this run are not comparable (flagged 'loaded' in the JSON)",
            file=sys.stderr,
        )
    return {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": cpus,
            "load_average_1_5_15_min": end_load,
            "load_average_at_start": START_LOAD,
            "loaded": loaded,
            **threads(),
        },
        "versions": {
            "python": sys.version.split()[0],
            **{
                ("scikit-learn" if m == "sklearn" else m): _version(m)
                for m in (*core, *modules)
            },
        },
    }


def one_numba_thread(func):
    """``func`` wrapped to run on one numba thread (the compiled kernels'
    count; numba's setting is restored afterwards)."""

    def run():
        import numba

        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return func()
        finally:
            numba.set_num_threads(threads)

    return run
