"""The store: metadata in a database, files in the data directory.

The database is SQLite in the data directory by default, or the PostgreSQL
server of ``FEATIMP_DATABASE_URL``; both sit behind one small interface
(:mod:`service.store.backend`), so every query below is written once.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from service.store.backend import Backend, make_backend

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    n_rows BIGINT NOT NULL,
    n_columns BIGINT NOT NULL,
    columns TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    type TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    stage TEXT NOT NULL DEFAULT 'queued',
    error TEXT,
    executor TEXT,
    lease TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    result_rows BIGINT,
    selector_id TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    warnings TEXT NOT NULL DEFAULT '[]',
    UNIQUE (owner, idempotency_key)
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);
CREATE TABLE IF NOT EXISTS selectors (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    job_id TEXT NOT NULL,
    method TEXT NOT NULL,
    params TEXT NOT NULL,
    features_in TEXT NOT NULL,
    selected TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    objective TEXT NOT NULL,
    n_classes BIGINT NOT NULL,
    n_features BIGINT NOT NULL,
    feature_names TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS replicas (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    host_key TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat DOUBLE PRECISION NOT NULL
)
"""
#: Columns added after a table was first released: (table, column, definition).
_ADDED_COLUMNS = (
    ("jobs", "warnings", "TEXT NOT NULL DEFAULT '[]'"),
    ("jobs", "replica", "TEXT"),
    # A dataset registered by reference: JSON of its URI, files and format.
    ("datasets", "reference", "TEXT"),
)
DATABASE_NAME = "featimp.sqlite3"

_ID = re.compile(r"[0-9a-f]{32}")
#: Everything in the data directory is the service's alone: uploads, results,
#: fitted selectors and the generated API key are nobody else's to read.
DIR_MODE, FILE_MODE = 0o700, 0o600
#: SQL integers are 64-bit: a larger LIMIT or OFFSET cannot be bound.
MAX_SQL_INT = 2**63 - 1
_KINDS = {
    "datasets": ".arrow",
    "results": ".parquet",
    "reports": ".json",
    "selectors": ".joblib",
    "models": ".model",
}


def redact_paths(text: str, *roots) -> str:
    """``text`` with every path under ``roots`` (and the temporary directory
    and the Python installation) replaced by ``<path>``.

    Messages of Arrow, the OS or a library name the file they failed on;
    users must see what went wrong, never where the service keeps its files.

    Examples
    --------
    >>> redact_paths("cannot open '/srv/featimp/tmp/1f.upload': gone", "/srv/featimp")
    "cannot open '<path>': gone"
    """
    candidates = {*map(str, roots), tempfile.gettempdir(), sys.prefix, sys.base_prefix}
    for root in sorted((r.rstrip("/") for r in candidates), key=len, reverse=True):
        if os.path.isabs(root) and len(root) > 1:  # "/v1/jobs" is not a path
            text = re.sub(re.escape(root) + r"(?![\w.-])[^\s'\"]*", "<path>", text)
    return text


def page(limit: int, offset: int) -> tuple[int, int]:
    """``LIMIT ? OFFSET ?`` arguments a database can bind; past the end is empty."""
    return min(limit, MAX_SQL_INT), min(offset, MAX_SQL_INT)


def new_id() -> str:
    return uuid.uuid4().hex


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Store:
    """The data directory (one folder per file kind) and the metadata database:
    ``featimp.sqlite3`` there, or the PostgreSQL server of ``database_url``.

    Each thread keeps one autocommit connection. Opening a connection per
    query was the cost, not the query: closing the last connection to a WAL
    database checkpoints it, so a job or a status poll paid a checkpoint and
    its fsync every time.
    """

    data_dir: Path
    database_url: str | None = field(default=None, repr=False)
    backend: Backend = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        backend = make_backend(self.database_url, self.data_dir / DATABASE_NAME)
        object.__setattr__(self, "backend", backend)

    @property
    def database_path(self) -> Path:
        return self.data_dir / DATABASE_NAME

    @contextmanager
    def connect(self):
        """This thread's connection (autocommit: every statement commits)."""
        yield self.backend.connect()

    def transaction(self):
        """This thread's connection in a write transaction (see
        :meth:`~service.store.backend.Backend.transaction`)."""
        return self.backend.transaction()

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        self.backend.close()

    def path(self, kind: str, item_id: str) -> Path:
        """Where the file of an item lives; ids are checked, never trusted."""
        if kind not in _KINDS or not _ID.fullmatch(item_id):
            raise ValueError(f"invalid {kind} id {item_id!r}")
        return self.data_dir / kind / f"{item_id}{_KINDS[kind]}"

    def temp_path(self, suffix: str = "") -> Path:
        return self.data_dir / "tmp" / f"{new_id()}{suffix}"


def open_store(data_dir, database_url: str | None = None) -> Store:
    """Create the directory layout and the schema (idempotent).

    The folders are made (or made again) 0700 and SQLite's files 0600.
    Raises :class:`~service.store.backend.DatabaseUnavailable` when the
    database server cannot be reached.
    """
    store = Store(Path(data_dir).resolve(), database_url)
    store.data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for folder in (store.data_dir, *(store.data_dir / f for f in (*_KINDS, "tmp"))):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        _restrict(folder, DIR_MODE)
    statements = [s.strip() for s in _SCHEMA.split(";") if s.strip()]
    store.backend.create_schema(statements, _ADDED_COLUMNS)
    for path in store.backend.files():
        _restrict(path, FILE_MODE)
    return store


def _restrict(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` if it exists with another and is ours."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)
