"""Read job results: JSON pages with an opaque cursor, or a streamed CSV."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

_CURSOR_PREFIX = "o:"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The row offset in a cursor; a ValueError for anything we did not issue."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("cursor is not one this service issued") from None
    digits = text[len(_CURSOR_PREFIX) :]
    # ASCII digits only ("²" and "١" are digits too), and at most an int64.
    if not text.startswith(_CURSOR_PREFIX) or not (
        digits.isascii() and digits.isdigit() and len(digits) <= 18
    ):
        raise ValueError("cursor is not one this service issued")
    return int(digits)


def read_page(
    path: Path, *, offset: int, limit: int
) -> tuple[list[str], list[dict], int, str | None]:
    """``(columns, rows, total_rows, next_cursor)`` of one page."""
    table = pq.read_table(path)
    page = table.slice(offset, limit)
    end = offset + page.num_rows
    next_cursor = encode_cursor(end) if end < table.num_rows else None
    return table.column_names, page.to_pylist(), table.num_rows, next_cursor


def iter_csv(path: Path, *, batch_size: int = 65536) -> Iterator[bytes]:
    """The Parquet file as CSV, one record batch at a time.

    The file is opened now (FileNotFoundError here, not while streaming),
    so a job deleted meanwhile cannot cut the CSV short.
    """
    return _csv_batches(pq.ParquetFile(path), batch_size)


def _csv_batches(parquet: pq.ParquetFile, batch_size: int) -> Iterator[bytes]:
    header = True
    for batch in parquet.iter_batches(batch_size=batch_size):
        buffer = io.BytesIO()
        pa_csv.write_csv(
            batch, buffer, write_options=pa_csv.WriteOptions(include_header=header)
        )
        header = False
        yield buffer.getvalue()
    if header:  # an empty result still gets its header
        buffer = io.BytesIO()
        pa_csv.write_csv(parquet.schema_arrow.empty_table(), buffer)
        yield buffer.getvalue()
