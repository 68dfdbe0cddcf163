"""Request bodies: uploads streamed to disk, JSON read with a limit.

Uploads are streamed to disk with a byte counter (413 past the limit). They
may be a raw body (``Content-Type: text/csv``, ``application/octet-stream``,
...) or ``multipart/form-data`` with the table in the one part named
``file``. Multipart is parsed as it arrives, so nothing is held in memory or
spooled twice; a body that is not well-formed multipart (a bad boundary or
part header, no closing boundary, two ``file`` parts) is a 400.

JSON bodies (jobs, transforms) go through :class:`JSONBodyRoute`, which reads
and checks them before FastAPI parses them.
"""

from __future__ import annotations

import email.message
import json
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartState, parse_options_header

from service.problems import Problem

FILE_FIELD = "file"
#: JSON nested deeper than this is refused: no request of the API needs it.
MAX_JSON_DEPTH = 64
#: Digits of the largest integer a JSON body may hold: a double's range.
_MAX_INT_DIGITS = 308
#: Multipart framing (boundaries, part headers, other small fields) allowed
#: beyond the upload limit.
MULTIPART_OVERHEAD = 64 * 1024


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
    if (
        length is not None
        and length.isdigit()
        and int(length) > limit + MULTIPART_OVERHEAD
    ):
        raise Problem(
            413,
            f"the upload ({length} bytes) is larger than the limit of {limit} bytes",
        )
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if (
        content_type.startswith(b"multipart/")
        and content_type != b"multipart/form-data"
    ):
        raise Problem(
            415,
            f"Content-Type {content_type.decode('latin-1')!r}: send the table as "
            "multipart/form-data (part 'file') or as the raw body",
        )
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
    received, allowed = 0, sink.limit + MULTIPART_OVERHEAD
    try:
        parser = MultipartParser(boundary, part.callbacks())
        async for chunk in request.stream():
            received += len(chunk)
            if received > allowed:  # other parts than 'file' count too
                raise Problem(
                    413, f"the upload is larger than the limit of {sink.limit} bytes"
                )
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise Problem(400, f"malformed multipart body: {exc}") from None
    if parser.state != MultipartState.END:
        raise Problem(
            400,
            "the multipart body ends before its closing boundary "
            f"('--{boundary.decode('latin-1')}--'): was the upload cut short?",
        )
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
        if options.get(b"name") != FILE_FIELD.encode():
            return
        if self.found:
            raise Problem(
                400,
                f"the multipart body has more than one part named {FILE_FIELD!r}: "
                "upload one table per request",
                field=FILE_FIELD,
            )
        self._in_file = self.found = True
        name = options.get(b"filename")
        self.filename = name.decode("utf-8", "replace") if name else None

    def _data(self, data, start, end) -> None:
        if self._in_file:
            self.sink.write(data[start:end])


class JSONBodyRoute(APIRoute):
    """A route whose JSON body is read and checked before FastAPI parses it.

    Counted against ``FEATIMP_MAX_JSON_BYTES`` from Content-Length, and again
    while a chunked body streams: 413 past it, before anything is parsed.
    A body that is not ``application/json`` is a 415; bytes that are not
    UTF-8, or JSON nested deeper than :data:`MAX_JSON_DEPTH`, a 400; invalid
    JSON, and numbers (NaN, Infinity, 1e400) or text (an unpaired surrogate
    such as ``"\\ud800"``) that JSON does not have, a 422 naming the field.
    """

    def get_route_handler(self):
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def read_then_handle(request: Request) -> Response:
            limit = request.app.state.settings.max_json_bytes
            body, data = await _read_limited(request, limit), None
            if body:  # else FastAPI names the missing body itself
                _check_json_type(request.headers.get("content-type"))
                data = parse_json(body)
            return await handler(_ParsedRequest(request, body, data))

        return read_then_handle


class _ParsedRequest(Request):
    """A request whose body was read (and parsed) already; FastAPI's way to
    swap how a route reads it (see "Custom Request and APIRoute class")."""

    def __init__(self, request: Request, body: bytes, data):
        super().__init__(request.scope, request.receive)
        self._read_body, self._parsed = body, data

    async def body(self) -> bytes:
        return self._read_body

    async def json(self):
        return self._parsed


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type is JSON (``application/json`` or ``+json``)."""
    message = email.message.Message()
    message["content-type"] = content_type or ""
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def read_json(request: Request):
    """The request's JSON body, within ``FEATIMP_MAX_JSON_BYTES`` (413) and
    checked as :class:`JSONBodyRoute` checks it."""
    body = await _read_limited(request, request.app.state.settings.max_json_bytes)
    if not body:
        raise Problem(422, "the JSON body is empty")
    return parse_json(body)


async def _read_limited(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise Problem(
            413, f"the body ({length} bytes) is larger than the limit of {limit} bytes"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"the body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_json_type(content_type: str | None) -> None:
    if not is_json(content_type):
        shown = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        raise Problem(415, f"{shown}: send the body as application/json")


def parse_json(body: bytes):
    """The JSON value of ``body``; a :class:`Problem` for anything else.

    Examples
    --------
    >>> parse_json(b'{"a": [1, 2.5, "x"]}')
    {'a': [1, 2.5, 'x']}
    >>> parse_json(b'{"a": [1, NaN]}')
    Traceback (most recent call last):
    ...
    service.problems.Problem: a[1]: not a finite number (NaN, Infinity, over 1.8e308)
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(
            400, f"the body is not UTF-8: invalid byte at offset {exc.start}"
        ) from None
    try:
        # Numbers JSON does not have come back as NaN or inf; _check_values
        # names where they are.
        data = json.loads(text, parse_int=_int)
    except RecursionError:
        raise Problem(400, "the JSON body is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise Problem(
            422,
            f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, "
            f"column {exc.colno})",
            field="body",
        ) from None
    _check_values(data)
    return data


def _int(text: str) -> int | float:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:  # beyond a double, too
        return math.inf
    return int(text)


def _check_values(data) -> None:
    """Depth, finite numbers and valid Unicode, walked without recursion."""
    stack = [(data, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise Problem(
                400,
                f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels "
                f"(at {_dotted(path)})",
            )
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, (*path, key))
                stack.append((item, (*path, key), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, (*path, i), depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, float) and not math.isfinite(value):
            name = _dotted(path)
            raise Problem(
                422,
                f"{name}: not a finite number (NaN, Infinity, over 1.8e308)",
                field=name,
            )


def _check_text(text: str, path: tuple) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        name = _dotted(path)
        raise Problem(
            422,
            f"{name}: text with an unpaired surrogate (\\ud800-\\udfff) is "
            "not valid Unicode",
            field=name,
        ) from None


def _dotted(path: tuple) -> str:
    """``("params", "grid", 0)`` -> ``"params.grid[0]"``."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name.lstrip(".") or "body"
