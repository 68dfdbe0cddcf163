"""Metadata in SQLite (WAL), files beside it.

Every file path is built here from an id the service generated; nothing a
request sends is ever used as a path.
"""

from service.store.db import Store, open_store

__all__ = ["Store", "open_store"]
