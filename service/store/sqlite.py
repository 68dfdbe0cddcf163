"""The embedded backend: one SQLite file (WAL) in the data directory.

One writer at a time: a write transaction starts with ``BEGIN IMMEDIATE``,
which takes SQLite's write lock at once (waiting up to 30 s for it), so the
store's check-then-write steps cannot interleave. Every process on the host
that opens the data directory shares that lock; SQLite over a network
filesystem does not, which is what :mod:`service.store.postgres` is for.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from service.store.backend import (
    Backend,
    DriverConnection,
    IntegrityError,
    StorageFull,
)


@contextmanager
def _translated():
    """SQLite's errors as the store's, where callers act on them."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(str(exc)) from exc
    except sqlite3.OperationalError as exc:
        if getattr(
            exc, "sqlite_errorname", None
        ) == "SQLITE_FULL" or "database or disk is full" in str(exc):
            raise StorageFull(str(exc)) from exc
        raise


#: Page cache of each connection, in KiB.
_CACHE_KIB = 256


class SQLiteConnection(DriverConnection):
    """An autocommit ``sqlite3`` connection whose errors are the store's."""

    def execute(self, sql: str, params=()):
        with _translated():
            return self.raw.execute(sql, params)


class SQLiteBackend(Backend):
    """``path`` as the database; made ``mode`` before SQLite creates it."""

    name = "sqlite"
    clock = "((julianday('now') - 2440587.5) * 86400.0)"
    insertion_order = "rowid"

    def __init__(self, path: Path, *, mode: int = 0o600):
        super().__init__()
        self.path = path
        self.mode = mode

    def _open(self) -> SQLiteConnection:
        # Used by its own thread only; check_same_thread=False lets another
        # thread close it once its own has ended (Backend._close_orphans).
        conn = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        # With WAL, NORMAL cannot corrupt the database; a power cut may lose
        # the last commits, a crash of the service cannot.
        conn.execute("PRAGMA synchronous = NORMAL")
        # Every thread has its own connection and so its own page cache
        # (2 MiB by default): 40 request threads could hold 80 MiB of copies
        # of a database of a few MiB that the OS caches once anyway. The
        # soak's RSS grew 2.7 MiB a minute with the default.
        conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        return SQLiteConnection(conn)

    @contextmanager
    def transaction(self):
        conn = self.connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.raw.execute("ROLLBACK")
            raise

    def json_text(self, column: str, *keys: str) -> str:
        path = ".".join(("$", *keys))
        value = f"json_extract({column}, '{path}')"
        return f"CASE WHEN json_valid({column}) THEN {value} END"

    def create_schema(self, statements: list[str], added_columns) -> None:
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, self.mode))
        conn = self.connect()
        conn.execute("PRAGMA journal_mode = WAL")
        conn.raw.executescript(";\n".join(statements))
        for table, column, definition in added_columns:
            present = {r["name"] for r in conn.execute(f"PRAGMA table_info({table})")}
            if column in present:
                continue
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            except sqlite3.OperationalError as exc:
                # Another process opening the same store added it first.
                if "duplicate column" not in str(exc):
                    raise

    def files(self) -> list[Path]:
        """The database and the WAL and shared-memory files SQLite gives its mode."""
        return [Path(f"{self.path}{suffix}") for suffix in ("", "-wal", "-shm")]
