"""PostgreSQL: metadata that replicas on several hosts share (psycopg 3).

``FEATIMP_DATABASE_URL=postgresql://user:password@host:5432/featimp``. The
store's ``?`` and ``:name`` parameters become psycopg's ``%s`` and
``%(name)s`` here. Statements run in autocommit, each atomic on its own;
a check followed by a write runs in a transaction that first takes an
advisory lock on the owner (:meth:`PostgresBackend.lock`), and claims pick
their row ``FOR UPDATE SKIP LOCKED``, so two replicas never take one job.
"""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager

import psycopg

from service.store.backend import (
    Backend,
    DatabaseUnavailable,
    DriverConnection,
    IntegrityError,
    StorageFull,
    redact_url,
)

#: A literal, a positional or a named parameter, or a percent sign.
_TOKENS = re.compile(r"'[^']*'|\?|(?<![:\w]):([A-Za-z_]\w*)|%")
#: Held while the schema is created: CREATE ... IF NOT EXISTS is not safe
#: against itself in two sessions at once.
_SCHEMA_LOCK = 0x66656174  # "feat"
#: Columns only this backend needs: SQLite's rowid orders jobs as inserted.
_OWN_COLUMNS = (("jobs", "seq", "BIGSERIAL"),)


@functools.lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """The store's SQL with psycopg's placeholders.

    Examples
    --------
    >>> to_pyformat("SELECT x::jsonb FROM t WHERE a = ? AND b = :b AND c LIKE '%?'")
    "SELECT x::jsonb FROM t WHERE a = %s AND b = %(b)s AND c LIKE '%%?'"
    """

    def placeholder(match: re.Match) -> str:
        text = match.group(0)
        if text.startswith("'"):
            return text.replace("%", "%%")
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        return f"%({match.group(1)})s"

    return _TOKENS.sub(placeholder, sql)


class Row(tuple):
    """A row by position and by column name, as :class:`sqlite3.Row`."""

    def __new__(cls, values, index: dict[str, int]):
        row = super().__new__(cls, values)
        row._index = index
        return row

    def keys(self):
        return self._index.keys()

    def __getitem__(self, key):
        if isinstance(key, str):
            key = self._index[key]
        return super().__getitem__(key)


def _rows(cursor):
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: Row(values, index)


@contextmanager
def _translated():
    """psycopg's errors as the store's, where callers act on them."""
    try:
        yield
    except psycopg.errors.IntegrityError as exc:
        raise IntegrityError(str(exc)) from exc
    except psycopg.errors.DiskFull as exc:
        raise StorageFull(str(exc)) from exc


class PostgresConnection(DriverConnection):
    """An autocommit psycopg connection that takes the store's SQL."""

    @property
    def broken(self) -> bool:
        """Dropped by the server (a restart): the next use reconnects."""
        return self.raw.broken or self.raw.closed

    def execute(self, sql: str, params=()):
        with _translated():
            if not params:
                return self.raw.execute(sql)
            return self.raw.execute(to_pyformat(sql), params)


class PostgresBackend(Backend):
    name = "postgresql"
    clock = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    insertion_order = "seq"

    def __init__(self, url: str):
        super().__init__()
        self.url = url

    def _open(self) -> PostgresConnection:
        options = {} if "connect_timeout" in self.url else {"connect_timeout": 10}
        try:
            conn = psycopg.connect(
                self.url, autocommit=True, row_factory=_rows, **options
            )
        except psycopg.Error as exc:
            reason = " ".join(str(exc).split())
            raise DatabaseUnavailable(
                f"cannot connect to the database {redact_url(self.url)}: {reason}"
            ) from exc
        return PostgresConnection(conn)

    @contextmanager
    def transaction(self):
        conn = self.connect()
        with _translated(), conn.raw.transaction():
            yield conn

    def lock(self, conn: PostgresConnection, key: str) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))

    def json_text(self, column: str, *keys: str) -> str:
        return f"({column}::jsonb #>> '{{{','.join(keys)}}}')"

    def create_schema(self, statements: list[str], added_columns) -> None:
        with self.transaction() as conn:
            conn.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
            for statement in statements:
                conn.execute(statement)
            for table, column, definition in (*added_columns, *_OWN_COLUMNS):
                conn.execute(
                    f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} "
                    f"{definition}"
                )
