"""What the store asks of a database, whichever one holds the metadata.

The store's SQL is written once, in what SQLite and PostgreSQL share: ``?``
and ``:name`` parameters, ``RETURNING``, ``CREATE ... IF NOT EXISTS``, text
columns holding JSON and ISO times. A backend (:mod:`service.store.sqlite`,
the embedded default, or :mod:`service.store.postgres`) supplies the rest:

* one connection per thread, in autocommit, reopened in a forked child or
  after the server dropped it;
* :meth:`Backend.transaction`, a write transaction (SQLite's ``BEGIN
  IMMEDIATE`` takes the one write lock; PostgreSQL's ``BEGIN`` relies on
  row locks and :meth:`Backend.lock`);
* the few expressions that differ: :attr:`Backend.clock`,
  :attr:`Backend.skip_locked`, :attr:`Backend.insertion_order` and
  :meth:`Backend.json_text`;
* idempotent schema creation, and the errors callers handle as the same
  exceptions whichever database raised them: :class:`IntegrityError`,
  :class:`StorageFull` and :class:`DatabaseUnavailable`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import threading
import weakref
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class IntegrityError(Exception):
    """A write refused by a unique key or another constraint."""


class StorageFull(OSError):
    """The database could not write: its disk is full.

    An :class:`OSError` with ``ENOSPC``, so whatever handles a full disk
    (:func:`service.diskspace.is_disk_full`, the 507 handler) handles it too.
    """

    def __init__(self, message: str = "database or disk is full"):
        super().__init__(errno.ENOSPC, message)


class DatabaseUnavailable(Exception):
    """The database URL is wrong, or its server cannot be reached."""


class Connection(Protocol):
    """This thread's connection: autocommit, rows indexable by position and
    by column name (``dict(row)`` works)."""

    def execute(self, sql: str, params=()): ...


class DriverConnection:
    """A driver's connection (``raw``); subclasses run the store's SQL on it
    and raise the store's errors."""

    broken = False

    def __init__(self, raw):
        self.raw = raw

    def close(self) -> None:
        self.raw.close()


class Backend:
    """One database; subclasses open connections and know its dialect."""

    #: ``sqlite`` or ``postgresql``.
    name: str
    #: The database's clock, in seconds since the epoch: heartbeats compare
    #: times taken by one clock, so the hosts' clocks need not agree.
    clock: str
    #: After a ``SELECT`` that picks rows to claim: PostgreSQL's ``FOR UPDATE
    #: SKIP LOCKED``, so that concurrent claims take different rows.
    skip_locked = ""
    #: A jobs column that orders rows as they were inserted.
    insertion_order: str

    def __init__(self) -> None:
        self._local = threading.local()
        # (thread, pid, connection) of every connection this process opened:
        # a thread's connection is closed once the thread has ended.
        self._owners: list[tuple[weakref.ref, int, Connection]] = []
        self._owners_lock = threading.Lock()

    def connect(self) -> Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid != os.getpid():
            # A forked child must not use its parent's handle, nor close it
            # (as dropping it would): that would end the parent's session.
            self._local.inherited, conn = conn, None
        if conn is None or conn.broken:
            self._close_orphans()
            conn = self._open()
            self._local.conn, self._local.pid = conn, os.getpid()
            with self._owners_lock:
                owner = weakref.ref(threading.current_thread())
                self._owners.append((owner, os.getpid(), conn))
        return conn

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended (and the broken
        ones this thread replaces).

        Dropping them is not enough: a sqlite3 connection and its statement
        cache form a reference cycle, so it stayed open (two descriptors,
        its page cache) until a full garbage collection. Request threads
        come and go (the thread pool retires idle ones), and the service's
        memory grew ~3 MB a minute under the soak test with 46 connections
        open for 22 threads.
        """
        me, pid = threading.current_thread(), os.getpid()
        mine = getattr(self._local, "conn", None)
        with self._owners_lock:
            keep, done = [], []
            for owner, owner_pid, conn in self._owners:
                thread = owner()
                if owner_pid != pid:
                    continue  # a parent's: never ours to close
                ended = thread is None or not thread.is_alive()
                replaced = thread is me and conn is mine
                (done if ended or replaced else keep).append((owner, owner_pid, conn))
            self._owners = keep
        for _, _, conn in done:
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
            with self._owners_lock:
                self._owners = [o for o in self._owners if o[2] is not conn]
        self._local.conn = None

    def _open(self) -> Connection:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[Connection]:
        """This thread's connection inside a write transaction, committed
        when the block ends and rolled back if it raises."""
        raise NotImplementedError

    def lock(self, conn: Connection, key: str) -> None:
        """Hold ``key`` until the transaction ends: writers that lock the same
        key (an owner) take turns. SQLite's write lock covers it already."""

    def json_text(self, column: str, *keys: str) -> str:
        """SQL for the text at ``keys`` in the JSON of ``column`` (else NULL)."""
        raise NotImplementedError

    def create_schema(self, statements: list[str], added_columns) -> None:
        """Create the tables (idempotent, also when replicas start at once)
        and add ``(table, column, definition)`` that older schemas lack."""
        raise NotImplementedError

    def files(self) -> list[Path]:
        """The database's files in the data directory (none for a server)."""
        return []


def make_backend(database_url: str | None, sqlite_path: Path) -> Backend:
    """SQLite at ``sqlite_path`` without a URL, else the URL's server."""
    if database_url is None:
        from service.store.sqlite import SQLiteBackend

        return SQLiteBackend(sqlite_path)
    check_database_url(database_url)
    try:
        from service.store.postgres import PostgresBackend
    except ImportError as exc:  # pragma: no cover - depends on extras
        raise ImportError(
            "FEATIMP_DATABASE_URL=postgresql://... needs the 'postgres' extra: "
            "pip install 'featimp-toolkit[postgres]'"
        ) from exc
    return PostgresBackend(database_url)


def check_database_url(url: str) -> str:
    """``url`` if it names a PostgreSQL database; ValueError otherwise.

    Examples
    --------
    >>> check_database_url("postgresql://featimp@db.internal/featimp")
    'postgresql://featimp@db.internal/featimp'
    >>> check_database_url("mysql://db/featimp")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: FEATIMP_DATABASE_URL must start with postgresql:// (got ...
    """
    if not url.startswith(POSTGRES_SCHEMES):
        raise ValueError(
            f"FEATIMP_DATABASE_URL must start with postgresql:// (got "
            f"{redact_url(url)!r}); unset, metadata is kept in SQLite in the "
            "data directory"
        )
    return url


def redact_url(url: str) -> str:
    """``url`` without its password, for messages and logs.

    Examples
    --------
    >>> redact_url("postgresql://featimp:s3cret@db:5432/featimp")
    'postgresql://featimp:***@db:5432/featimp'
    """
    url = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", url)
