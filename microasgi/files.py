"""Sending files: :func:`send_file`, :func:`send_from_directory`, :func:`safe_join`.

A file's content is never read on the event loop: :class:`FileResponse` opens
and reads it in 64 KiB chunks in worker threads (:func:`.bridge.run_io`: never
a request's thread nor one of the app's sync slots, and only for the read, not
while the client takes the chunk), and stops and closes the file when the
client goes away. A file that fits in one
chunk costs a single trip to a worker thread. Where the server offers the ASGI
``http.response.pathsend`` extension, a whole file sent from a path is handed
to the server instead of being read here.

:func:`send_file` answers conditional requests as Flask does (``ETag``,
``Last-Modified``, ``304 Not Modified``, ``412`` for a failed ``If-Match``),
and single byte ranges (``206`` with ``Content-Range``, ``If-Range``; ``416``
when the range starts past the end). A malformed ``Range`` header, another
unit than ``bytes``, or several ranges at once are ignored: the whole file is
sent with ``200``, which RFC 9110 allows and every client understands.

Metadata (``os.stat``, ``realpath``) is read where the function is called: in
a worker thread for a sync view, on the loop for an async one (a few cheap
system calls, never the file's content).
"""

from __future__ import annotations

import io
import mimetypes
import os
import posixpath
import re
import stat
import time
import unicodedata
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import IO, Any
from urllib.parse import quote

import anyio
from werkzeug.http import http_date, quote_etag

from .bridge import run_io
from .conditional import evaluate
from .datastructures import ResponseHeaders
from .exceptions import NotFound, PreconditionFailed, RequestedRangeNotSatisfiable
from .globals import _cv_app
from .sansio.scaffold import Scaffold
from .typing import HeadersValue, Receive, Scope, Send, StatusValue
from .wrappers.response import Response

CHUNK_SIZE = 64 * 1024

_PATHSEND = "http.response.pathsend"
# Representation metadata a 304 leaves out (RFC 9110 15.4.5); the validators
# (ETag, Last-Modified) and caching headers stay.
_NOT_MODIFIED_DROP = frozenset(
    {b"content-type", b"content-length", b"content-encoding", b"content-language", b"content-range"}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"[A-Za-z]:")

_MaxAge = int | Callable[[str | None], int | None] | None


class _FileChunks:
    """The body of a :class:`FileResponse`: ``length`` bytes from ``offset``, in chunks.

    The sync methods block and run in worker threads. A path is opened on first
    read; the file is closed at its end, on error, or by ``close``/``aclose``.
    Streaming goes through ``__aiter__`` (one thread hop per chunk); ``__iter__``
    serves :meth:`Response.get_data`.
    """

    __slots__ = ("done", "file", "length", "offset", "opened", "owned", "path", "pending")

    def __init__(self, path: str | None, file: IO[bytes] | None) -> None:
        self.path = path
        self.file = file
        self.owned = file is None  # a file we opened: a short read is its end
        self.offset: int | None = None  # None: the start of a path, or where a file stands
        self.length: int | None = None  # None: to the end
        self.opened = False
        self.done = False
        self.pending: bytes | None = None

    def _read(self) -> bytes:
        """The next chunk; ``b""`` once the file is done (and closed)."""
        if self.done:
            return b""
        try:
            file = self.file
            if not self.opened:
                if file is None:
                    assert self.path is not None
                    file = self.file = open(self.path, "rb")  # noqa: SIM115 - see close()
                self.opened = True
                if self.offset is not None:
                    file.seek(self.offset)
            assert file is not None
            want = CHUNK_SIZE if self.length is None else min(CHUNK_SIZE, self.length)
            chunk = file.read(want) if want else b""
        except BaseException:
            self.close()
            raise
        if self.length is not None:
            self.length -= len(chunk)
        if not chunk or self.length == 0 or (self.owned and len(chunk) < want):
            self.close()
        return chunk

    def start(self) -> bytes:
        """Open the file and read the first chunk, so that errors come before the headers."""
        chunk = self._read()
        if not self.done:
            self.pending = chunk
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        if self.pending:
            chunk, self.pending = self.pending, None
            yield chunk
        while chunk := self._read():
            yield chunk

    async def _stream(self) -> AsyncIterator[bytes]:
        if self.pending:
            chunk, self.pending = self.pending, None
            yield chunk
        while not self.done:
            chunk = await run_io(self._read)
            if chunk:
                yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream()

    def close(self) -> None:
        self.done = True
        self.pending = None
        file = self.file
        if file is not None and not getattr(file, "closed", False):
            file.close()

    async def aclose(self) -> None:
        self.done = True
        file = self.file
        if file is not None and not getattr(file, "closed", False):
            with anyio.CancelScope(shield=True):
                await run_io(self.close)


class FileResponse(Response):
    """A response whose body is a file: a path, or a binary file object.

    ``FileResponse("/srv/report.pdf", mimetype="application/pdf")``. The file
    is read in chunks in worker threads (a file object from where it stands)
    and closed once sent, also when the client disconnects. Prefer
    :func:`send_file`, which adds the type, caching and conditional headers.
    """

    default_mimetype = "application/octet-stream"

    __slots__ = ("_chunks", "_whole")

    def __init__(
        self,
        path_or_file: str | os.PathLike[str] | IO[bytes],
        status: StatusValue | None = None,
        headers: HeadersValue | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        if isinstance(path_or_file, str | os.PathLike):
            chunks = _FileChunks(os.path.abspath(path_or_file), None)
        else:
            chunks = _FileChunks(None, path_or_file)
        super().__init__(chunks, status, headers, mimetype, content_type, direct_passthrough=True)
        self._sends_with_request = False  # read and sent from the loop: the request may end first
        self._chunks = chunks
        self._whole = True

    @property
    def path(self) -> str | None:
        """The absolute path of the file, or ``None`` for a file object."""
        return self._chunks.path

    def _set_extent(self, offset: int | None, length: int | None, whole: bool) -> None:
        self._chunks.offset = offset
        self._chunks.length = length
        self._whole = whole

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the file: by ``pathsend`` where offered, else read in worker threads."""
        chunks = self._chunks
        try:
            if self.status_code == 304:
                raw = [pair for pair in self._raw_headers() if pair[0] not in _NOT_MODIFIED_DROP]
                await send({"type": "http.response.start", "status": 304, "headers": raw})
                await send({"type": "http.response.body", "body": b""})
                return
            if self._iter is chunks and scope.get("method") != "HEAD":
                extensions = scope.get("extensions") or {}
                if self._whole and chunks.path is not None and _PATHSEND in extensions:
                    start = {"type": "http.response.start", "headers": self._raw_headers()}
                    await send({**start, "status": self.status_code})
                    await send({"type": _PATHSEND, "path": chunks.path})
                    return
                first = await run_io(chunks.start)
                if chunks.done:
                    self.set_data(first)
            await super().__call__(scope, receive, send)
        finally:
            await chunks.aclose()


def send_file(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: _MaxAge = None,
) -> FileResponse:
    """Send a file's content, as Flask's ``send_file``.

    ``path_or_file`` is a path (relative ones are relative to the app's
    ``root_path``) or a binary file object (closed once sent). ``mimetype`` is
    guessed from the name; ``download_name`` names the file in
    ``Content-Disposition`` (``attachment`` with ``as_attachment``, else
    ``inline``). ``max_age`` (seconds, or a function of the path) sets
    ``Cache-Control``; ``None`` uses the app's ``SEND_FILE_MAX_AGE_DEFAULT``.
    With ``conditional``, requests with ``If-None-Match``/``If-Modified-Since``
    get ``304``, and ``Range`` requests ``206``.

    Example: ``return send_file("reports/q3.pdf", as_attachment=True)``.
    """
    app_ctx = _cv_app.get(None)
    path: str | None = None
    file: IO[bytes] | None = None
    mtime: float | None = None
    position = 0
    if isinstance(path_or_file, str | os.PathLike):
        root = app_ctx.app.root_path if app_ctx is not None else os.getcwd()
        path = os.path.abspath(os.path.join(root, os.fspath(path_or_file)))
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(f"{path!r} is a directory, not a file.")
        size: int | None = st.st_size
        mtime = st.st_mtime
        if download_name is None:
            download_name = os.path.basename(path)
    else:
        file = path_or_file
        if isinstance(file, io.TextIOBase):
            raise ValueError("Files must be opened in binary mode ('rb'), or use io.BytesIO.")
        size, position = _remaining_size(file)

    headers = ResponseHeaders()
    encoding = None
    if mimetype is None:
        if download_name is None:
            raise ValueError(
                "Cannot guess the MIME type of a file object without a name: pass "
                "mimetype='...' or download_name='...' to send_file()."
            )
        mimetype, encoding = mimetypes.guess_type(download_name)
        mimetype = mimetype or "application/octet-stream"
    if download_name is not None:
        _set_disposition(headers, "attachment" if as_attachment else "inline", download_name)
    elif as_attachment:
        raise ValueError("An attachment needs a name: pass download_name='...' to send_file().")
    if encoding is not None and not as_attachment:
        # Not for attachments: browsers would save "x.tar.gz" decompressed.
        headers.add("Content-Encoding", encoding)

    if max_age is None and app_ctx is not None:
        max_age = app_ctx.app.get_send_file_max_age
    if callable(max_age):
        max_age = max_age(path)
    if max_age is None:
        headers.add("Cache-Control", "no-cache")
    else:
        cache = f"public, max-age={max_age}" if max_age > 0 else "no-cache, max-age=0"
        headers.add("Cache-Control", cache)
        headers.add("Expires", http_date(time.time() + max_age))

    modified = _timestamp(last_modified) if last_modified is not None else mtime
    modified_at = datetime.fromtimestamp(modified, timezone.utc) if modified is not None else None
    if modified is not None:
        headers.add("Last-Modified", http_date(modified))
    tag: str | None = None
    if isinstance(etag, str):
        if etag.startswith(('"', "W/")):
            tag = etag  # already quoted
        elif '"' in etag:
            raise ValueError(f"Invalid ETag {etag!r}: it may not contain a double quote.")
        else:
            tag = quote_etag(etag)
    elif etag and path is not None:
        check = zlib.adler32(os.fsencode(path)) & 0xFFFFFFFF
        tag = quote_etag(f"{mtime}-{size}-{check}")
    if tag is not None:
        headers.add("ETag", tag)

    status = 200
    byte_range: tuple[int, int] | None = None
    request = app_ctx.request if app_ctx is not None else None
    if conditional and request is not None and request.method in ("GET", "HEAD"):
        if size is not None:
            headers.add("Accept-Ranges", "bytes")
        try:
            status, byte_range = evaluate(request.headers, tag, modified_at, size)
        except (PreconditionFailed, RequestedRangeNotSatisfiable):
            if file is not None:
                file.close()
            raise

    response = FileResponse(path if path is not None else path_or_file, status, headers, mimetype)
    if status == 304:
        response.set_data(b"")
    elif byte_range is not None:
        start, end = byte_range
        assert size is not None
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        response.headers["Content-Length"] = str(end - start)
        response._set_extent(position + start, end - start, whole=False)
    elif size is not None:
        response.headers["Content-Length"] = str(size)
        if file is not None:
            response._set_extent(None, size, whole=True)
    return response


def send_from_directory(
    directory: str | os.PathLike[str], path: str | os.PathLike[str], **kwargs: Any
) -> FileResponse:
    """Send ``path`` from inside ``directory`` (both as in Flask); 404 if it is not a file there.

    ``path`` usually comes from the URL, so it is joined with :func:`safe_join`:
    nothing outside ``directory`` is ever sent, symlinks included. Other
    arguments are those of :func:`send_file`.
    """
    folder = os.fspath(directory)
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        folder = os.path.join(app_ctx.app.root_path, folder)
    filename = safe_join(folder, os.fspath(path))
    if filename is None or not os.path.isfile(filename):
        raise NotFound()
    return send_file(filename, **kwargs)


def send_static_file(owner: Scaffold, filename: str) -> FileResponse:
    """The ``static`` endpoint of an app or a blueprint: ``filename`` from its static folder."""
    if owner.static_folder is None:
        raise RuntimeError(f"{owner.name!r} has no static folder, so it cannot serve static files.")
    folder = os.path.join(owner.root_path, owner.static_folder)
    max_age = owner.get_send_file_max_age(filename)
    return send_from_directory(folder, filename, max_age=max_age)


def send_file_max_age(value: int | timedelta | None) -> int | None:
    """``SEND_FILE_MAX_AGE_DEFAULT`` in seconds (``None``: no caching)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return int(value)


def safe_join(directory: str | os.PathLike[str], *pathnames: str) -> str | None:
    """Join untrusted ``pathnames`` onto ``directory``; ``None`` if the result could escape it.

    Refused: ``..`` segments, absolute paths, backslashes, NUL bytes, Windows
    drive letters, and paths whose real location (symlinks resolved) is
    outside the real ``directory``. ``safe_join("static", "css/site.css")`` is
    ``"static/css/site.css"``; ``safe_join("static", "../app.py")`` is ``None``.
    """
    base = os.fspath(directory) or "."
    parts = [base]
    for name in pathnames:
        if not name:
            continue
        if (
            "\\" in name
            or "\x00" in name
            or name.startswith("/")
            or _DRIVE.match(name)
            or os.path.isabs(name)
            or ".." in name.split("/")
        ):
            return None
        parts.append(posixpath.normpath(name))
    joined = posixpath.join(*parts)
    real_base = os.path.realpath(base)
    real = os.path.realpath(joined)
    try:
        if os.path.commonpath([real_base, real]) != real_base:
            return None
    except ValueError:  # on Windows, another drive
        return None
    return joined


# -- headers --------------------------------------------------------------------


def _remaining_size(file: IO[bytes]) -> tuple[int | None, int]:
    """Bytes left from the file's position, and that position (``None`` when unknown)."""
    try:
        position = file.tell()
        if isinstance(file, io.BytesIO):
            with file.getbuffer() as view:
                return max(view.nbytes - position, 0), position
        st = os.fstat(file.fileno())
    except (AttributeError, OSError, ValueError):
        return None, 0
    if stat.S_ISREG(st.st_mode) and file.seekable():
        return max(st.st_size - position, 0), position
    return None, 0


def _set_disposition(headers: ResponseHeaders, kind: str, name: str) -> None:
    # As Werkzeug's send_file: an ASCII fallback, and RFC 8187's filename* for the rest.
    name = _CONTROL.sub("", name)
    if name.isascii():
        headers.set("Content-Disposition", kind, filename=name)
        return
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    encoded = quote(name, safe="!#$&+-.^_`|~")  # RFC 8187 attr-char
    names = {"filename": fallback, "filename*": f"UTF-8''{encoded}"}
    headers.set("Content-Disposition", kind, **names)


def _timestamp(value: datetime | int | float) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    return float(value)
