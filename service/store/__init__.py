"""Metadata in SQLite (WAL, the default) or PostgreSQL, files beside it.

Every file path is built here from an id the service generated; nothing a
request sends is ever used as a path.
"""

from service.store.backend import DatabaseUnavailable, IntegrityError, StorageFull
from service.store.db import Store, open_store

__all__ = [
    "DatabaseUnavailable",
    "IntegrityError",
    "StorageFull",
    "Store",
    "open_store",
]
