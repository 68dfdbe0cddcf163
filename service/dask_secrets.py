"""The database URL for jobs on Dask, kept out of the task graph.

A task's arguments are shown by the Dask dashboard, kept in the scheduler's
task records and logged with its errors; a PostgreSQL URL carries a
password. So the service hands the URL to every worker once, in a
:class:`DatabaseURL` worker plugin (set up on the workers there are and on
every one that joins later), and each task carries only the URL's digest,
which :func:`database_url` looks up on the worker.
"""

from __future__ import annotations

import hashlib

from distributed.diagnostics.plugin import WorkerPlugin

#: digest -> URL, in each worker process.
_URLS: dict[str, str] = {}


def digest(url: str) -> str:
    """The name a task uses for ``url``: not the URL, and the same for every
    replica that shares the database."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


class DatabaseURL(WorkerPlugin):
    """Gives each worker the metadata database's URL under its digest."""

    def __init__(self, url: str):
        self.key = digest(url)
        self.name = f"featimp-database-{self.key}"
        self._url = url

    def setup(self, worker) -> None:
        _URLS[self.key] = self._url

    def __repr__(self) -> str:  # never the URL, wherever Dask prints plugins
        return f"DatabaseURL({self.key})"


def database_url(key: str | None) -> str | None:
    """The URL registered under ``key`` on this worker (None for SQLite)."""
    if key is None:
        return None
    try:
        return _URLS[key]
    except KeyError:
        raise RuntimeError(
            "this Dask worker has no database URL for the job: the service "
            "registers it when it connects; restart the service"
        ) from None
