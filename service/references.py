"""Datasets registered by reference: the user's files under allowed roots.

``POST /v1/datasets`` with ``{"uri": ...}`` names Parquet or CSV files that
the service reads where they are, never copying them: one file, a directory
(its ``.parquet``, ``.pq`` and ``.csv`` files, recursively) or a glob, as an
absolute path or a ``file://`` URL. The operator lists the directories that
may be named in ``FEATIMP_DATA_ROOTS``; everything else is refused with 403
before the disk is looked at, so a request can never probe or read an
arbitrary path. Symbolic links count where they lead: a file whose real
path leaves the roots is refused too.

Registration resolves the files once (sorted, by real path) and describes
them from metadata alone: Parquet footers give the rows, the schema and,
where every row group has statistics, each column's missing values; a CSV
file's schema is inferred from its first block and its rows stay unknown
(None) until a job reads it. The record keeps the files; a job reads
exactly those, and refuses to start if one of them now leads elsewhere.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
MAX_FILES = 100_000
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class UnusableReference(Exception):
    """A URI that cannot be registered; ``status`` is the HTTP status."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Reference:
    """What a registered URI is: its root, files, format and description."""

    uri: str
    root: str
    format: str
    files: list[dict]
    n_rows: int | None
    columns: list[dict]

    @property
    def size_bytes(self) -> int:
        return sum(f["size"] for f in self.files)

    def to_record(self) -> dict:
        """What the dataset's row keeps (``DatasetRecord.reference``)."""
        return {
            "uri": self.uri,
            "root": self.root,
            "format": self.format,
            "files": self.files,
        }


def register(uri: str, roots: list[str], *, max_columns: int) -> Reference:
    """Resolve ``uri`` under ``roots`` and describe its files.

    Raises :class:`UnusableReference`: 403 for a URI (or a file it reaches)
    outside the roots, or when no roots are configured; 422 for a URI that
    is not an absolute local path, matches no data file, mixes formats or
    names files that cannot be read or whose schemas differ; 413 for more
    than ``max_columns`` columns or :data:`MAX_FILES` files.
    """
    if not roots:
        raise UnusableReference(
            403,
            "this service registers no datasets by reference: the operator "
            "allows directories with FEATIMP_DATA_ROOTS",
        )
    path = _local_path(uri)
    root = _root_of(_fixed_prefix(path), roots)
    if root is None:
        raise UnusableReference(403, f"uri {uri!r} is outside the allowed data roots")
    paths = _expand(path, uri)
    files = []
    for found in paths:
        real = os.path.realpath(found)
        if not _under(real, root):
            raise UnusableReference(
                403,
                f"{_shown(found, root)} leads outside the allowed data roots",
            )
        files.append({"path": real, "size": os.path.getsize(real)})
    formats = {SUFFIXES[os.path.splitext(f["path"])[1].lower()] for f in files}
    if len(formats) > 1:
        raise UnusableReference(
            422, f"uri {uri!r} mixes Parquet and CSV files: name one format"
        )
    (fmt,) = formats
    n_rows, columns = _describe(files, fmt, root)
    if len(columns) > max_columns:
        raise UnusableReference(
            413,
            f"the files have {len(columns)} columns, more than this service "
            f"takes ({max_columns}, FEATIMP_MAX_COLUMNS)",
        )
    return Reference(uri, root, fmt, files, n_rows, columns)


def check_unchanged(reference: dict) -> list[str]:
    """The files of a registered dataset, refused (ValueError) if one is gone
    or now leads elsewhere (a link swapped since registration)."""
    paths = []
    for item in reference["files"]:
        path = item["path"]
        shown = _shown(path, reference["root"])
        if not os.path.exists(path):
            raise ValueError(f"{shown} of dataset {reference['uri']!r} is gone")
        if os.path.realpath(path) != path:
            raise ValueError(
                f"{shown} of dataset {reference['uri']!r} now leads elsewhere: "
                "register the dataset again"
            )
        paths.append(path)
    return paths


def shown_paths(text: str, reference: dict) -> str:
    """``text`` with the files' root dropped: messages name a file by its
    path under its root, which neither reveals nor depends on where the
    operator mounted it."""
    root = reference["root"].rstrip("/") + "/"
    return text.replace(root, "")


def _local_path(uri: str) -> str:
    if not isinstance(uri, str) or not uri or "\x00" in uri:
        raise UnusableReference(422, "uri must be a non-empty path")
    if uri.startswith("file://"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise UnusableReference(
                403, f"uri {uri!r} names another host: only local files"
            )
        uri = unquote(parsed.path)
    elif _SCHEME.match(uri):
        raise UnusableReference(
            403,
            f"uri {uri!r}: only local paths under the allowed data roots can "
            "be registered (absolute, or file://)",
        )
    if not os.path.isabs(uri):
        raise UnusableReference(422, f"uri {uri!r} must be an absolute path")
    return os.path.normpath(uri)


def _fixed_prefix(path: str) -> str:
    """The part of ``path`` before its first glob pattern, symlinks resolved."""
    parts = path.split(os.sep)
    for i, part in enumerate(parts):
        if glob.has_magic(part):
            return os.path.realpath(os.sep.join(parts[:i]) or os.sep)
    return os.path.realpath(path)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _root_of(path: str, roots: list[str]) -> str | None:
    return next((r for r in roots if _under(path, r)), None)


def _shown(path: str, root: str) -> str:
    return repr(os.path.relpath(path, root)) if _under(path, root) else "a file"


def _is_data(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in SUFFIXES


def _expand(path: str, uri: str) -> list[str]:
    if glob.has_magic(path):
        found = [p for p in glob.glob(path, recursive=True) if os.path.isfile(p)]
        others = [p for p in found if not _is_data(p)]
        found = [p for p in found if _is_data(p)]
    elif os.path.isdir(path):
        found = [
            os.path.join(folder, name)
            for folder, _, names in os.walk(path)
            for name in names
            if _is_data(name)
        ]
        others = []
    elif os.path.isfile(path):
        found, others = ([path], []) if _is_data(path) else ([], [path])
    else:
        raise UnusableReference(422, f"uri {uri!r}: no such file or directory")
    if not found:
        what = "no .parquet, .pq or .csv file"
        raise UnusableReference(
            422,
            f"uri {uri!r} names {what}"
            + (f" (it matches {len(others)} other file(s))" if others else ""),
        )
    if len(found) > MAX_FILES:
        raise UnusableReference(
            413, f"uri {uri!r} matches {len(found)} files, more than {MAX_FILES}"
        )
    return sorted(found)


def _describe(files: list[dict], fmt: str, root: str):
    """Rows (None for CSV) and columns (name, dtype, n_missing or None) from
    metadata; every file must have the first one's schema."""
    first = None
    n_rows = 0 if fmt == "parquet" else None
    missing = None
    for item in files:
        shown = _shown(item["path"], root)
        try:
            if fmt == "parquet":
                with pq.ParquetFile(item["path"]) as file:
                    schema, metadata = file.schema_arrow, file.metadata
            else:
                schema, metadata = ds.dataset(item["path"], format="csv").schema, None
        except (OSError, pa.ArrowException) as exc:
            raise UnusableReference(422, f"cannot read {shown}: {exc}") from None
        if first is None:
            first = schema
            missing = [0] * len(schema) if metadata is not None else None
        elif not schema.equals(first):
            raise UnusableReference(
                422,
                f"{shown} has a different schema from "
                f"{_shown(files[0]['path'], root)}: every file must have the "
                "same columns and types",
            )
        if metadata is not None:
            n_rows += metadata.num_rows
            missing = _add_nulls(missing, metadata, schema)
    columns = [
        {
            "name": field.name,
            "dtype": str(field.type),
            "n_missing": None if missing is None else missing[j],
        }
        for j, field in enumerate(first)
    ]
    return n_rows, columns


def _add_nulls(missing, metadata, schema):
    """Missing values per column from the row groups' statistics; None for a
    column once a row group has none (or the schema is nested)."""
    if metadata.num_columns != len(schema):  # nested columns: leaves differ
        return [None] * len(schema)
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for j in range(len(schema)):
            if missing[j] is None:
                continue
            stats = group.column(j).statistics
            if stats is None or not stats.has_null_count:
                missing[j] = None
            else:
                missing[j] += stats.null_count
    return missing
