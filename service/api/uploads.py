"""Stream a request body to disk with a byte counter (413 past the limit).

Accepts a raw body (``Content-Type: text/csv``, ``application/octet-stream``,
...) or ``multipart/form-data`` with the table in a part named ``file``.
Multipart is parsed as it arrives, so nothing is held in memory or spooled
twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePath

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from service.problems import Problem

FILE_FIELD = "file"


@dataclass
class _Sink:
    """Writes bytes to ``path`` and counts them against ``limit``."""

    path: Path
    limit: int
    size: int = 0
    _file: object = field(default=None, repr=False)

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise Problem(
                413, f"the upload is larger than the limit of {self.limit} bytes"
            )
        if self._file is None:
            self._file = self.path.open("wb")
        self._file.write(data)

    def close(self) -> None:
        if self._file is None:
            self.path.touch()
        else:
            self._file.close()


@dataclass
class Upload:
    filename: str | None
    size: int


def display_name(filename: str | None, name: str | None) -> str:
    """The name shown for an upload: metadata only, never part of a path."""
    raw = name or filename or "upload"
    return PurePath(raw.replace("\\", "/")).name[:200] or "upload"


async def ingest_upload(request: Request, *, store, limit: int, name, ingest, **kwargs):
    """Stream the request body to a temporary file and ``ingest`` it.

    ``ingest(store=, upload=, tmp=, name=, **kwargs)`` runs in a worker thread
    and moves ``tmp`` where it belongs; whatever it leaves behind is removed.
    """
    tmp = store.temp_path(".upload")
    try:
        upload = await receive_upload(request, dest=tmp, limit=limit)
        return await run_in_threadpool(
            ingest,
            store=store,
            upload=upload,
            tmp=tmp,
            name=display_name(upload.filename, name),
            **kwargs,
        )
    finally:
        tmp.unlink(missing_ok=True)


async def receive_upload(request: Request, *, dest: Path, limit: int) -> Upload:
    """Save the uploaded table to ``dest``; the caller removes it on error."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit + 64 * 1024:
        raise Problem(
            413,
            f"the upload ({length} bytes) is larger than the limit of {limit} bytes",
        )
    content_type, options = parse_options_header(request.headers.get("content-type"))
    sink = _Sink(dest, limit)
    try:
        if content_type == b"multipart/form-data":
            filename = await _receive_multipart(request, sink, options)
        else:
            filename = None
            async for chunk in request.stream():
                sink.write(chunk)
    finally:
        sink.close()
    return Upload(filename, sink.size)


async def _receive_multipart(request: Request, sink: _Sink, options: dict) -> str:
    boundary = options.get(b"boundary")
    if not boundary:
        raise Problem(400, "multipart body without a boundary")
    part = _PartState(sink)
    parser = MultipartParser(boundary, part.callbacks())
    async for chunk in request.stream():
        parser.write(chunk)
    parser.finalize()
    if not part.found:
        raise Problem(
            422,
            f"the multipart body has no part named {FILE_FIELD!r}",
            field=FILE_FIELD,
        )
    return part.filename


class _PartState:
    """Callbacks of python-multipart: route the ``file`` part to the sink."""

    def __init__(self, sink: _Sink):
        self.sink = sink
        self.found = False
        self.filename = None
        self._in_file = False
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
        }

    def _begin(self) -> None:
        self._headers, self._in_file = {}, False

    def _header_field(self, data, start, end) -> None:
        self._field += data[start:end]

    def _header_value(self, data, start, end) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(
            self._headers.get(b"content-disposition", b"")
        )
        if options.get(b"name") == FILE_FIELD.encode() and not self.found:
            self._in_file = self.found = True
            name = options.get(b"filename")
            self.filename = name.decode("utf-8", "replace") if name else None

    def _data(self, data, start, end) -> None:
        if self._in_file:
            self.sink.write(data[start:end])
