"""The SQLite database and the directory layout of the data directory."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import stat
import sys
import tempfile
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    n_rows INTEGER NOT NULL,
    n_columns INTEGER NOT NULL,
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
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT NOT NULL DEFAULT 'queued',
    error TEXT,
    executor TEXT,
    lease TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    result_rows INTEGER,
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
    size_bytes INTEGER NOT NULL,
    objective TEXT NOT NULL,
    n_classes INTEGER NOT NULL,
    n_features INTEGER NOT NULL,
    feature_names TEXT,
    created_at TEXT NOT NULL
);
"""
#: Columns added after a table was first released: (table, column, definition).
_ADDED_COLUMNS = (("jobs", "warnings", "TEXT NOT NULL DEFAULT '[]'"),)

_ID = re.compile(r"[0-9a-f]{32}")
#: Everything in the data directory is the service's alone: uploads, results,
#: fitted selectors and the generated API key are nobody else's to read.
DIR_MODE, FILE_MODE = 0o700, 0o600
#: SQLite integers are 64-bit: a larger LIMIT or OFFSET cannot be bound.
MAX_SQL_INT = 2**63 - 1
_KINDS = {
    "datasets": ".arrow",
    "results": ".parquet",
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
    """``LIMIT ? OFFSET ?`` arguments SQLite can bind; past the end is empty."""
    return min(limit, MAX_SQL_INT), min(offset, MAX_SQL_INT)


def new_id() -> str:
    return uuid.uuid4().hex


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Store:
    """The data directory: ``featimp.sqlite3`` plus one folder per file kind.

    Each thread keeps one autocommit connection. Opening a connection per
    query was the cost, not the query: closing the last connection to a WAL
    database checkpoints it, so a job or a status poll paid a checkpoint and
    its fsync every time.
    """

    data_dir: Path
    _local: threading.local = field(
        default_factory=threading.local, compare=False, repr=False
    )

    @property
    def database_path(self) -> Path:
        return self.data_dir / "featimp.sqlite3"

    @contextmanager
    def connect(self):
        """This thread's connection (autocommit: every statement commits)."""
        conn = getattr(self._local, "conn", None)
        # A forked child must not share its parent's SQLite handle.
        if conn is None or self._local.pid != os.getpid():
            conn = self._open()
            self._local.conn, self._local.pid = conn, os.getpid()
        yield conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.database_path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        # With WAL, NORMAL cannot corrupt the database; a power cut may lose
        # the last commits, a crash of the service cannot.
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    def path(self, kind: str, item_id: str) -> Path:
        """Where the file of an item lives; ids are checked, never trusted."""
        if kind not in _KINDS or not _ID.fullmatch(item_id):
            raise ValueError(f"invalid {kind} id {item_id!r}")
        return self.data_dir / kind / f"{item_id}{_KINDS[kind]}"

    def temp_path(self, suffix: str = "") -> Path:
        return self.data_dir / "tmp" / f"{new_id()}{suffix}"


def open_store(data_dir) -> Store:
    """Create the directory layout and the schema (idempotent).

    The folders are made (or made again) 0700 and the database 0600; SQLite
    gives its WAL and shared-memory files the database's mode.
    """
    store = Store(Path(data_dir).resolve())
    store.data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for folder in (store.data_dir, *(store.data_dir / f for f in (*_KINDS, "tmp"))):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        _restrict(folder, DIR_MODE)
    os.close(os.open(store.database_path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for suffix in ("", "-wal", "-shm"):
        _restrict(Path(f"{store.database_path}{suffix}"), FILE_MODE)
    with store.connect() as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(_SCHEMA)
        _add_columns(conn)
    return store


def _restrict(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` if it exists with another and is ours."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)


def _add_columns(conn: sqlite3.Connection) -> None:
    """Bring a database made by an earlier version up to the schema."""
    for table, column, definition in _ADDED_COLUMNS:
        present = {r["name"] for r in conn.execute(f"PRAGMA table_info({table})")}
        if column in present:
            continue
        try:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        except sqlite3.OperationalError as exc:
            # Another process opening the same store added it first.
            if "duplicate column" not in str(exc):
                raise
