"""Parse and describe an uploaded table once; keep it as an Arrow file.

The stored copy is uncompressed Arrow IPC (Feather v2), memory-mapped when a
job reads it, so that a job does not pay for parsing again. A CSV that Arrow
cannot parse is scanned again to name the line or byte at fault.

Column types are kept as the file has them: text stays text, Parquet's
dictionary (pandas ``category``) and nullable columns stay what they are, and
an empty CSV cell is a missing value in every column, text included (the
methods encode text and missing values themselves).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.feather as feather
import pyarrow.parquet as pq

_PARQUET_MAGIC = b"PAR1"
_PARQUET_SOURCE = re.compile(r"^Could not open Parquet input source '[^']*': ")
_CHUNK = 1 << 24
# Arrow's default null markers ("", "NA", "NaN", "null", ...), as pandas
# reads them, and in text columns too: an empty cell is missing, not "".
_CSV_CONVERT = pa_csv.ConvertOptions(strings_can_be_null=True)


class TableError(ValueError):
    """An upload that cannot become a dataset; ``status`` is the HTTP code."""

    def __init__(
        self, detail: str, *, status: int = 422, title: str = "Invalid dataset"
    ):
        super().__init__(detail)
        self.status = status
        self.title = title


@dataclass(frozen=True)
class TableDescription:
    format: str
    n_rows: int
    columns: list[dict]


def describe_and_store(
    upload: Path, dest: Path, *, max_rows: int, max_columns: int
) -> TableDescription:
    """Parse ``upload`` (CSV or Parquet), check the limits, write ``dest``."""
    fmt = sniff_format(upload)
    table = _read_parquet(upload) if fmt == "parquet" else read_csv_checked(upload)
    _check_table(table, max_rows=max_rows, max_columns=max_columns)
    tmp = dest.with_suffix(".partial")
    feather.write_feather(table, tmp, compression="uncompressed")
    tmp.replace(dest)
    return TableDescription(fmt, table.num_rows, describe_columns(table))


def sniff_format(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(4)
    if not head:
        raise TableError("the uploaded file is empty")
    return "parquet" if head == _PARQUET_MAGIC else "csv"


def _read_parquet(path: Path) -> pa.Table:
    try:
        # From an open file, not a path: Arrow's errors name the path they read.
        with pa.OSFile(str(path)) as source:
            return pq.read_table(source)
    except (pa.ArrowException, OSError) as exc:
        reason = _PARQUET_SOURCE.sub("", str(exc))
        raise TableError(f"not a valid Parquet file: {reason}") from None


def _check_head_is_text(path: Path) -> None:
    """NUL bytes up front: binary or UTF-16 data, which Arrow might accept."""
    with path.open("rb") as f:
        head = f.read(1 << 16)
    if b"\0" in head:
        check_utf8_text(path)


def check_utf8_text(path: Path) -> None:
    """Reject binary data and bytes that are not UTF-8, naming the line."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset, lines = 0, 1
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            nul = chunk.find(b"\0")
            if nul >= 0:
                line = lines + chunk.count(b"\n", 0, nul)
                raise TableError(
                    f"binary data (a NUL byte) at byte {offset + nul}, line {line}: "
                    "upload a UTF-8 CSV or a Parquet file",
                    status=415,
                    title="Unsupported file type",
                )
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = lines + chunk.count(b"\n", 0, exc.start)
                raise TableError(
                    f"the CSV is not UTF-8: invalid byte at offset "
                    f"{offset + exc.start}, line {line}; re-save it as UTF-8"
                ) from None
            offset += len(chunk)
            lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise TableError("the CSV is not UTF-8: it ends inside a character") from None


def read_csv_checked(path: Path) -> pa.Table:
    _check_head_is_text(path)
    try:
        table = pa_csv.read_csv(path, convert_options=_CSV_CONVERT)
    except pa.ArrowInvalid as exc:
        check_utf8_text(path)
        raise TableError(_ragged_line(path, str(exc))) from None
    if any(pa.types.is_binary(f.type) for f in table.schema):
        # Arrow reads bytes that are not UTF-8 as a binary column.
        check_utf8_text(path)
    if table.num_columns == 0:
        raise TableError("the CSV has no columns")
    return table


def _ragged_line(path: Path, reason: str) -> str:
    """Name the first row whose field count differs from the header's, or
    the line where Python's csv module fails too, with Arrow's ``reason``."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    return (
                        f"ragged CSV: line {reader.line_num} has {len(row)} "
                        f"fields, the header has {len(header)}"
                    )
        except csv.Error:
            # Such as a field over the csv module's 128 KiB limit (an
            # unclosed quote, often): the line is the one it was on.
            return f"cannot parse the CSV at line {reader.line_num}: {reason}"
    return f"cannot parse the CSV: {reason}"


def _check_table(table: pa.Table, *, max_rows: int, max_columns: int) -> None:
    names = table.column_names
    duplicated = sorted(n for n, c in Counter(names).items() if c > 1)
    if duplicated:
        raise TableError(
            f"duplicate column name(s): {', '.join(map(repr, duplicated))}"
        )
    if table.num_columns > max_columns:
        raise TableError(
            f"{table.num_columns} columns: the limit is {max_columns}",
            status=413,
            title="Dataset too large",
        )
    if table.num_rows > max_rows:
        raise TableError(
            f"{table.num_rows} rows: the limit is {max_rows}",
            status=413,
            title="Dataset too large",
        )
    if table.num_rows == 0:
        raise TableError("the dataset has a header but no rows")


def describe_columns(table: pa.Table) -> list[dict]:
    return [
        {
            "name": field.name,
            "dtype": str(field.type),
            "n_missing": table.column(i).null_count,
        }
        for i, field in enumerate(table.schema)
    ]
