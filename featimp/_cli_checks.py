"""Checks the ``featimp`` command line makes before a fit.

Each raises :class:`UsageError` with one line naming the option, so that a
bad path or count is reported at once rather than after a long fit.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import socket
from pathlib import Path

#: The seed of every randomized method unless ``--seed`` or ``--param
#: random_state=...`` says otherwise, so that two runs give the same ranking.
DEFAULT_SEED = 0
#: Largest seed numpy's legacy ``RandomState`` accepts.
MAX_SEED = 2**32 - 1
#: Seconds ``featimp serve`` waits for the Dask scheduler to answer.
DASK_CONNECT_TIMEOUT = 5.0

TABLE_SUFFIXES = (".csv", ".json", ".parquet", ".pq")
PARQUET = (".parquet", ".pq")


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit code 2."""


def at_least_one(text: str) -> int:
    """An argparse ``type``: an integer >= 1 (``--top``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_seed(text: str) -> int:
    """An argparse ``type``: a seed in [0, 2**32 - 1] (``--seed``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be in [0, {MAX_SEED}], got {value}")
    return value


def feature_count(value) -> int | float:
    """An integer >= 1 or a fraction in (0, 1] (``-k``), else ArgumentTypeError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}")
    if isinstance(value, int) and value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a count >= 1 or a fraction in (0, 1], got {value}"
        )
    if isinstance(value, float) and not 0 < value <= 1:
        raise argparse.ArgumentTypeError(
            f"must be a count >= 1 or a fraction in (0, 1], got {value:g}"
        )
    return value


def check_feature_count(k, n_columns: int) -> None:
    """``-k`` as a count cannot exceed the number of feature columns."""
    if isinstance(k, int) and k > n_columns:
        raise UsageError(
            f"-k/--n-features {k} is larger than the number of feature columns "
            f"({n_columns})"
        )


def resolve_seed(seed: int | None, params: dict):
    """The seed of the run: ``--param random_state``, else ``--seed``, else 0.

    Both given and different is an error: which one was meant is unclear.
    """
    if "random_state" not in params:
        return DEFAULT_SEED if seed is None else seed
    given = params["random_state"]
    if seed is not None and given != seed:
        raise UsageError(f"--seed {seed} conflicts with --param random_state={given}")
    return given


def check_output_path(path: str, option: str, suffixes=TABLE_SUFFIXES) -> None:
    """``path`` can be written: a known suffix, in a writable directory."""
    suffix = Path(path).suffix.lower()
    if suffix not in suffixes:
        raise UsageError(
            f"{option} {path}: unsupported file type {suffix or '(none)'!r} "
            f"(use {', '.join(suffixes)})"
        )
    if suffix in PARQUET and not _importable("pyarrow", "fastparquet"):
        raise UsageError(
            f"{option} {path}: Parquet needs pyarrow: "
            "pip install 'featimp-toolkit[parquet]'"
        )
    _check_writable(path, option)


def check_plot_path(path: str) -> None:
    """``--plot``: matplotlib installed, a format it writes, a writable place."""
    if not _importable("matplotlib"):
        raise UsageError("--plot needs matplotlib: pip install 'featimp-toolkit[plot]'")
    from matplotlib.backend_bases import FigureCanvasBase

    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise UsageError(
            f"--plot {path}: unsupported image type {suffix or '(none)'!r} "
            f"(use one of: {', '.join(formats)})"
        )
    _check_writable(path, "--plot")


def _check_writable(path: str, option: str) -> None:
    try:
        problem = _unwritable(Path(path))
    except OSError as exc:  # e.g. a directory on the way we may not enter
        problem = (exc.strerror or str(exc)).lower()
    if problem:
        raise UsageError(f"{option} {path}: {problem}")


def _unwritable(target: Path) -> str | None:
    """Why ``target`` cannot be written, or None."""
    directory = target.parent
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        return f"directory {str(directory)!r} {what}"
    if target.is_dir():
        return "is a directory"
    if target.exists():
        writable = os.access(target, os.W_OK)
    else:
        writable = os.access(directory, os.W_OK | os.X_OK)
    return None if writable else "permission denied"


def _importable(*modules: str) -> bool:
    return any(importlib.util.find_spec(m) is not None for m in modules)


def check_dask_address(address: str, timeout: float = DASK_CONNECT_TIMEOUT) -> None:
    """Fail fast when no Dask scheduler answers at ``address``.

    The service's ``distributed.Client`` waits 30 s and raises inside the
    starting server; this connects and shakes hands within ``timeout``
    seconds. ``"local"`` (a cluster the service starts) is not probed.
    """
    if not _importable("distributed"):
        raise UsageError(
            "FEATIMP_DASK_ADDRESS needs the 'dask' extra: "
            "pip install 'featimp-toolkit[dask]'"
        )
    if address == "local":
        return
    try:
        _probe(address, timeout)
    except ValueError as exc:  # not an address
        raise UsageError(f"FEATIMP_DASK_ADDRESS {address!r}: {exc}") from None
    except OSError as exc:  # refused, unknown host, timed out
        reason = exc.strerror or " ".join(str(exc).split()) or "no answer"
    except Exception:  # e.g. a MemoryError reading a handshake that is not one
        reason = "what answers there is not a Dask scheduler"
    else:
        return
    raise UsageError(
        f"cannot reach the Dask scheduler at {address} (FEATIMP_DASK_ADDRESS) "
        f"within {timeout:g} s: {reason}"
    )


def _probe(address: str, timeout: float) -> None:
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme in ("tcp", "tls"):  # a refused port or unknown host fails at once
        host_port = parse_host_port(location, default_port=8786)
        socket.create_connection(host_port, timeout=timeout).close()
    asyncio.run(asyncio.wait_for(_handshake(address, timeout), timeout))


async def _handshake(address: str, timeout: float) -> None:
    from distributed.comm import connect
    from distributed.security import Security

    args = Security().get_connection_args("client")
    comm = await connect(address, timeout=timeout, **args)
    comm.abort()
