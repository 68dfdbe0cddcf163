"""Parse and describe an uploaded table once; keep it as an Arrow file.

The stored copy is uncompressed Arrow IPC (Feather v2), memory-mapped when a
job reads it, so that a job does not pay for parsing again. A CSV that Arrow
cannot parse is scanned again to name the line or byte at fault.

The limits are checked before any data is read, from the Parquet footer
(rows, columns, nested types, decoded size) or the CSV header (columns),
and again while the table is read in bounded batches and written batch by
batch: an upload that passes a limit is refused there, with no more of it
decoded. (:mod:`service.parsing` runs all this in a worker process with
hard memory and CPU limits, for whatever these checks miss.)

Column types are kept as the file has them: text stays text, Parquet's
dictionary (pandas ``category``) and nullable columns stay what they are, and
an empty CSV cell is a missing value in every column, text included (the
methods encode text and missing values themselves). A CSV's types are
inferred from its first block; a later value that the inferred type cannot
hold widens the column (integers to floats, anything to text) and the CSV is
read again, as Arrow does when it reads a whole file at once.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

_PARQUET_MAGIC = b"PAR1"
_PARQUET_SOURCE = re.compile(r"^Could not open Parquet input source '[^']*': ")
_CHUNK = 1 << 24
# Arrow's default null markers ("", "NA", "NaN", "null", ...), as pandas
# reads them, and in text columns too: an empty cell is missing, not "".
_CSV_CONVERT = pa_csv.ConvertOptions(strings_can_be_null=True)
#: CSV text parsed at a time (a row must fit in one); the first block's
#: values decide the column types.
_CSV_BLOCK_BYTES = 4 * 1024**2
#: A CSV up to this size is parsed in one parallel ``read_csv`` (3x faster
#: than the streaming reader on 100,000 x 50; its table fits the parse
#: sandbox's memory many times); larger ones stream in blocks.
_WHOLE_CSV_BYTES = 128 * 1024**2
#: The CSV header may take this many bytes per allowed column, and 64 KiB.
_HEADER_BYTES_PER_COLUMN = 1024
_FIRST_HEADER_BYTES = 64 * 1024
#: A CSV read again more often than this, to widen a column, is refused.
_MAX_RETYPES = 20
_CONVERSION = re.compile(
    r"^In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to [^:]+"
    r"(?:: invalid value '(.*)')?",
    re.DOTALL,
)
#: Decoded Parquet rows come in batches of about this many bytes.
_BATCH_BYTES = 32 * 1024**2
_MAX_BATCH_ROWS = 65_536
#: Compressed Parquet bytes read at a time from a column chunk (not the
#: whole chunk, or row group, that pre-buffering reads).
_PARQUET_BUFFER = 1024**2
#: A Parquet footer (the metadata, parsed whole) larger than this is refused.
MAX_FOOTER_BYTES = 32 * 1024**2
# Dictionary columns grow one dictionary each: the file gets deltas, never
# the replacements that the IPC file format cannot hold.
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(emit_dictionary_deltas=True)


class TableError(ValueError):
    """An upload that cannot become a dataset; ``status`` is the HTTP code."""

    def __init__(
        self, detail: str, *, status: int = 422, title: str = "Invalid dataset"
    ):
        super().__init__(detail)
        self.status = status
        self.title = title


def too_large(detail: str) -> TableError:
    return TableError(detail, status=413, title="Dataset too large")


@dataclass(frozen=True)
class TableDescription:
    format: str
    n_rows: int
    columns: list[dict]


@dataclass(frozen=True)
class Limits:
    """What an upload may hold; ``max_bytes`` bounds its stored (decoded)
    size, None for no bound."""

    max_rows: int
    max_columns: int
    max_bytes: int | None = None

    def check_columns(self, names: list[str], n_columns: int | None = None) -> None:
        duplicated = sorted(n for n, c in Counter(names).items() if c > 1)
        if duplicated:
            raise TableError(
                f"duplicate column name(s): {', '.join(map(repr, duplicated))}"
            )
        n_columns = len(names) if n_columns is None else n_columns
        if n_columns > self.max_columns:
            raise too_large(f"{n_columns} columns: the limit is {self.max_columns}")

    def check_rows(self, n_rows: int, *, so_far: bool = False) -> None:
        if n_rows > self.max_rows:
            counted = f"at least {n_rows}" if so_far else str(n_rows)
            raise too_large(f"{counted} rows: the limit is {self.max_rows}")

    def check_bytes(self, n_bytes: int, *, at_row: int | None = None) -> None:
        if self.max_bytes is not None and n_bytes > self.max_bytes:
            if at_row is None:
                raise too_large(
                    f"the dataset decodes to at least {n_bytes} bytes: the "
                    f"limit is {self.max_bytes}"
                )
            raise too_large(
                f"decoded, the dataset takes more than the limit of "
                f"{self.max_bytes} bytes (passed at row {at_row})"
            )


@dataclass(frozen=True)
class _Stored:
    schema: pa.Schema
    n_rows: int
    nulls: list[int]


def describe_and_store(
    upload: Path,
    dest: Path,
    *,
    max_rows: int,
    max_columns: int,
    max_bytes: int | None = None,
) -> TableDescription:
    """Parse ``upload`` (CSV or Parquet) within the limits into ``dest``.

    Nothing is left at ``dest`` (or :func:`partial_path`) when it fails.
    """
    limits = Limits(max_rows, max_columns, max_bytes)
    fmt = sniff_format(upload)
    tmp = partial_path(dest)
    try:
        store = _store_parquet if fmt == "parquet" else _store_csv
        stored = store(upload, tmp, limits)
        if stored.n_rows == 0:
            raise TableError("the dataset has a header but no rows")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(dest)
    return TableDescription(fmt, stored.n_rows, _describe_columns(stored))


def partial_path(dest: Path) -> Path:
    """Where ``dest`` is written until it is complete."""
    return dest.with_suffix(".partial")


def sniff_format(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(4)
    if not head:
        raise TableError("the uploaded file is empty")
    return "parquet" if head == _PARQUET_MAGIC else "csv"


def _write_batches(tmp: Path, schema: pa.Schema, batches, limits: Limits) -> _Stored:
    """Write ``batches`` to an Arrow file as they come, within the limits."""
    dictionaries = _Dictionaries(schema)
    n_rows, nulls = 0, [0] * len(schema)
    with (
        pa.OSFile(str(tmp), "wb") as sink,
        pa.ipc.new_file(sink, schema, options=_IPC_OPTIONS) as writer,
    ):
        for batch in batches:
            writer.write_batch(dictionaries.unify(batch))
            n_rows += batch.num_rows
            nulls = [
                n + column.null_count
                for n, column in zip(nulls, batch.columns, strict=True)
            ]
            limits.check_rows(n_rows, so_far=True)
            limits.check_bytes(sink.tell(), at_row=n_rows)
    return _Stored(schema, n_rows, nulls)


class _Dictionaries:
    """One dictionary per dictionary column that grows batch by batch, with
    the indices remapped to it (as ``write_feather`` unified a whole table's)."""

    def __init__(self, schema: pa.Schema):
        self._known = {
            i: None for i, t in enumerate(schema.types) if pa.types.is_dictionary(t)
        }
        self._names = schema.names

    def unify(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if not self._known:
            return batch
        columns = batch.columns
        for i, known in self._known.items():
            column = columns[i]
            if known is None:
                self._known[i] = column.dictionary
            elif not column.dictionary.equals(known):
                columns[i] = self._remap(i, column)
        return pa.RecordBatch.from_arrays(columns, schema=batch.schema)

    def _remap(self, i: int, column: pa.DictionaryArray) -> pa.DictionaryArray:
        values, known = column.dictionary, self._known[i]
        new = values.filter(pc.invert(pc.is_in(values, value_set=known)))
        known = pa.concat_arrays([known, new])
        index_type = column.type.index_type
        signed = pa.types.is_signed_integer(index_type)
        if len(known) > 2 ** (index_type.bit_width - signed):
            raise TableError(
                f"column {self._names[i]!r}: its dictionaries hold {len(known)} "
                f"values together, more than its {index_type} indices can address"
            )
        self._known[i] = known
        positions = pc.index_in(values, value_set=known).cast(index_type)
        return pa.DictionaryArray.from_arrays(
            positions.take(column.indices), known, ordered=column.type.ordered
        )


def _describe_columns(stored: _Stored) -> list[dict]:
    return [
        {"name": field.name, "dtype": str(field.type), "n_missing": n_missing}
        for field, n_missing in zip(stored.schema, stored.nulls, strict=True)
    ]


# -- Parquet -------------------------------------------------------------------


def _store_parquet(path: Path, tmp: Path, limits: Limits) -> _Stored:
    _check_footer_size(path)
    # From an open file, not a path: Arrow's errors name the path they read.
    with pa.OSFile(str(path)) as source:
        parquet = _open_parquet(source)
        batch_rows = _check_parquet(parquet, limits)
        batches = _parquet_batches(parquet, batch_rows)
        return _write_batches(tmp, parquet.schema_arrow, batches, limits)


def _check_footer_size(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - 8))
        tail = f.read(8)
    length = int.from_bytes(tail[:4], "little")
    # A length past the file's size is Arrow's to report.
    if tail[4:] == _PARQUET_MAGIC and MAX_FOOTER_BYTES < length <= size:
        raise too_large(
            f"the Parquet footer (its metadata) takes {length} bytes: the "
            f"limit is {MAX_FOOTER_BYTES}"
        )


def _open_parquet(source) -> pq.ParquetFile:
    try:
        parquet = pq.ParquetFile(source, buffer_size=_PARQUET_BUFFER, pre_buffer=False)
        parquet.schema_arrow  # noqa: B018 - types Arrow cannot read fail here
    except MemoryError:
        raise
    except (pa.ArrowException, OSError) as exc:
        raise _invalid_parquet(exc) from None
    return parquet


def _invalid_parquet(exc: Exception) -> TableError:
    reason = _PARQUET_SOURCE.sub("", str(exc))
    return TableError(f"not a valid Parquet file: {reason}")


def _check_parquet(parquet: pq.ParquetFile, limits: Limits) -> int:
    """Check the limits from the footer alone; the rows a batch should have."""
    meta, schema = parquet.metadata, parquet.schema_arrow
    limits.check_columns(schema.names, meta.num_columns)  # leaf columns
    for field in schema:
        if pa.types.is_nested(field.type):
            raise TableError(
                f"column {field.name!r} is nested ({field.type}): upload a "
                "table of flat columns (numbers, text, categories, dates)"
            )
    limits.check_rows(meta.num_rows)
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    fixed = sum(_min_bits(t) for t in schema.types) / 8
    limits.check_bytes(
        int(max(sum(g.total_byte_size for g in groups), fixed * meta.num_rows))
    )
    row_bytes = max(
        [fixed] + [g.total_byte_size / g.num_rows for g in groups if g.num_rows]
    )
    return max(1, min(_MAX_BATCH_ROWS, int(_BATCH_BYTES // max(row_bytes, 1))))


def _min_bits(type_: pa.DataType) -> int:
    """The fewest bits a value of ``type_`` takes decoded (offsets, for text)."""
    try:
        return type_.bit_width  # a dictionary's indices, for a dictionary
    except ValueError:
        return 0 if pa.types.is_null(type_) else 32


def _parquet_batches(parquet: pq.ParquetFile, batch_rows: int):
    batches = parquet.iter_batches(batch_size=batch_rows)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except MemoryError:
            raise
        except (pa.ArrowException, OSError) as exc:
            raise _invalid_parquet(exc) from None
        yield batch


# -- CSV -----------------------------------------------------------------------


class _Retype(Exception):
    """A column must be read again as ``type``."""

    def __init__(self, name: str, type_: pa.DataType):
        super().__init__(name)
        self.name, self.type = name, type_


def _store_csv(path: Path, tmp: Path, limits: Limits) -> _Stored:
    _check_head_is_text(path)
    header = _csv_header(path, _header_limit(limits.max_columns))
    limits.check_columns(header.names)
    block = max(_CSV_BLOCK_BYTES, 2 * header.size)
    column_types: dict[str, pa.DataType] = {}
    for _ in range(_MAX_RETYPES + 1):
        try:
            return _write_csv(path, tmp, limits, block, column_types)
        except _Retype as retype:
            column_types[retype.name] = retype.type
            changed = retype.name
    raise TableError(
        f"the CSV was read {_MAX_RETYPES} times and its column types still "
        f"change after the first {block} bytes (last: {changed!r}); put "
        "rows that show each column's type first"
    )


def _write_csv(path, tmp, limits, block: int, column_types: dict) -> _Stored:
    read = pa_csv.ReadOptions(block_size=block)
    convert = pa_csv.ConvertOptions(strings_can_be_null=True, column_types=column_types)
    try:
        reader = pa_csv.open_csv(path, read_options=read, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise _csv_error(path, None, str(exc)) from None
    with reader:
        schema = reader.schema
        if len(schema) == 0:
            raise TableError("the CSV has no columns")
        if any(pa.types.is_binary(t) for t in schema.types):
            # Arrow reads bytes that are not UTF-8 as a binary column.
            check_utf8_text(path)
        limits.check_columns(schema.names)
        if path.stat().st_size <= _WHOLE_CSV_BYTES:
            batches = _whole_csv_batches(path, read, schema)
        else:
            batches = _csv_batches(path, reader)
        return _write_batches(tmp, schema, batches, limits)


def _whole_csv_batches(path: Path, read: pa_csv.ReadOptions, schema: pa.Schema):
    """The rest of a small CSV read at once, in parallel, with the types the
    streaming reader took from the first block: the same table, and the same
    errors (a value that does not fit its column's type widens it)."""
    convert = pa_csv.ConvertOptions(strings_can_be_null=True, column_types=schema)
    try:
        table = pa_csv.read_csv(path, read_options=read, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise _csv_error(path, schema, str(exc)) from None
    return table.to_batches(max_chunksize=_MAX_BATCH_ROWS)


def _csv_batches(path: Path, reader):
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            raise _csv_error(path, reader.schema, str(exc)) from None
        yield batch


def _csv_error(path: Path, schema: pa.Schema | None, reason: str) -> Exception:
    """What Arrow's ``reason`` means: a column to widen, bytes that are not
    UTF-8, or a line that does not parse."""
    conversion = _CONVERSION.match(reason)
    if conversion is not None and schema is not None:
        field = schema.field(int(conversion.group(1)))
        if not pa.types.is_string(field.type):
            return _Retype(field.name, _wider(field.type, conversion.group(2)))
    check_utf8_text(path)
    return TableError(_ragged_line(path, reason))


def _wider(current: pa.DataType, value: str | None) -> pa.DataType:
    """The type of a column of ``current`` values and ``value`` too.

    Examples
    --------
    >>> _wider(pa.null(), "1.5"), _wider(pa.int64(), "1.5"), _wider(pa.int64(), "x")
    (DataType(double), DataType(double), DataType(string))
    """
    if value is None:
        return pa.string()
    alone = _inferred(value)
    if pa.types.is_null(current):
        return alone
    # A float column that fails again holds more than numbers.
    if current != pa.float64() and _is_number(current) and _is_number(alone):
        return pa.float64()
    return pa.string()


def _is_number(type_: pa.DataType) -> bool:
    return pa.types.is_integer(type_) or pa.types.is_floating(type_)


def _inferred(value: str) -> pa.DataType:
    """The type Arrow infers for a CSV column of the one ``value``."""
    # Quoted, which Arrow infers the type of as it does unquoted.
    cell = '"' + value.replace('"', '""') + '"'
    data = io.BytesIO(f"v\n{cell}\n".encode("utf-8", "surrogateescape"))
    return pa_csv.read_csv(data, convert_options=_CSV_CONVERT).schema.field(0).type


def _header_limit(max_columns: int) -> int:
    return 64 * 1024 + max_columns * _HEADER_BYTES_PER_COLUMN


@dataclass(frozen=True)
class _Header:
    names: list[str]
    size: int  # bytes


def _csv_header(path: Path, limit: int) -> _Header:
    """The names in the CSV's first record, read from at most ``limit``
    bytes, as Arrow reads them (a BOM and empty lines skipped, bytes that are
    not UTF-8 replaced)."""
    # Read 64 KiB, then 16 times more until the first record ends: the
    # header of a narrow file costs no more than that, however wide the limit.
    size = min(_FIRST_HEADER_BYTES, limit)
    while True:
        with path.open("rb") as f:
            head = f.read(size + 1)
        whole = len(head) <= size
        text = head[:size].decode("utf-8", "replace").removeprefix("\ufeff")
        lines = io.StringIO(text, newline="")
        reader = csv.reader(lines)
        try:
            names = next((row for row in reader if row), [])
            error = None
        except csv.Error as exc:
            names, error = [], exc
        read = text[: lines.tell()]
        ended = error is None and read.endswith(("\n", "\r"))
        if whole or ended or size >= limit:
            break
        size = min(16 * size, limit)
    if error is not None:
        raise TableError(f"cannot parse the CSV header: {error}")
    if not (whole or ended):
        raise too_large(
            f"the CSV header (its first line) is longer than {limit} bytes, the limit"
        )
    return _Header(names, len(read.encode("utf-8", "replace")))


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
