"""Run a WSGI (PEP 3333) app, such as a Flask or Django project, as an ASGI app.

``WSGIApp(wsgi_app)`` serves each request the way a threaded WSGI server does:
the app is called, and its response iterated, in one worker thread. The threads
are the WSGIApp's own: at most ``thread_limit`` requests run at once, apart
from the mounting app's ``SYNC_THREAD_LIMIT`` slots, so a legacy app that is
slow (or whose clients trickle their uploads) cannot starve the app it is
mounted in. A body is bounded by the mounting app's ``MAX_CONTENT_LENGTH`` (or
the WSGIApp's own ``max_content_length``): 413 before a larger declared body
is read, and as soon as an undeclared one passes it. The thread talks to the
event loop through ``anyio.from_thread.run``:

- ``wsgi.input`` pulls ``http.request`` messages one at a time as the app
  reads, so an upload is never held in memory unless the app reads it whole;
- each chunk of the response is sent before the next one is asked for, so the
  app cannot run ahead of a slow client;
- a task on the loop is the only reader of ``receive``: it hands body messages
  to ``wsgi.input`` (one at a time) and notices ``http.disconnect``, after
  which the thread's next read or write raises :class:`ClientGone`
  (logged as one debug line: a client that leaves is not the app's error).
  The iterable's ``close()`` is called whatever happens.

The environ follows PEP 3333: ``SCRIPT_NAME`` is the scope's ``root_path`` and
``PATH_INFO`` the rest of ``path``, both as "bytes in a str" (UTF-8 bytes read
as latin-1); repeated headers are joined with ``,`` (cookies with ``; ``), and
header names containing ``_`` are dropped, as gunicorn and nginx do.
``wsgi.errors`` logs to the ``microasgi.wsgi`` logger, where the app's uncaught
exceptions are logged too (the client gets a bare 500 if nothing was sent yet;
a response already under way is cut off, so the client sees it is incomplete).
"""

from __future__ import annotations

import concurrent.futures
import io
import logging
import traceback
from collections.abc import Callable, Coroutine, Iterable, Iterator
from functools import partial
from typing import IO, TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.abc
import anyio.from_thread
import anyio.to_thread

from .bridge import thread_limiter
from .datastructures import _check_header
from .exceptions import ClientGone, RequestEntityTooLarge
from .globals import _cv_app
from .typing import Message, Receive, Scope, Send
from .wrappers.response import client_gone

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import WSGIApplication

__all__ = ["BodyTooLarge", "WSGIApp"]

logger = logging.getLogger("microasgi.wsgi")

T = TypeVar("T")

_ERROR_BODY = b"Internal Server Error"
_TOO_LARGE_BODY = b"Request Entity Too Large: the body is larger than this server accepts."


class _Inherit:
    """The mounting app's ``MAX_CONTENT_LENGTH`` (the default of ``max_content_length``)."""

    def __repr__(self) -> str:
        return "<the mounting app's MAX_CONTENT_LENGTH>"


_INHERIT = _Inherit()


class BodyTooLarge(RequestEntityTooLarge):
    """Raised in the WSGI app by ``wsgi.input`` when an undeclared body passes the limit.

    Werkzeug's ``RequestEntityTooLarge``, which a Flask app answers with a 413;
    whatever the app does, the client gets a 413 if nothing was sent yet.
    """


class WSGIApp:
    """An ASGI app that runs the WSGI app ``wsgi_app`` in worker threads.

    ``thread_limit`` caps the requests served at once (each holds one of the
    WSGIApp's own threads until its response is sent; others wait their turn).
    ``max_content_length`` bounds a request body; by default the mounting
    microasgi app's ``MAX_CONTENT_LENGTH`` applies (none outside one), and
    ``None`` lifts it. Response chunks larger than ``chunk_size`` bytes are
    sent in pieces of that size.

    ``app.mount("/legacy", WSGIApp(flask_app))``
    """

    def __init__(
        self,
        wsgi_app: WSGIApplication,
        *,
        thread_limit: int = 40,
        max_content_length: int | _Inherit | None = _INHERIT,
        chunk_size: int = 65536,
    ) -> None:
        if thread_limit < 1:
            raise ValueError(f"thread_limit must be at least 1 (got {thread_limit}).")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1 byte (got {chunk_size}).")
        self.wsgi_app = wsgi_app
        self.thread_limit = thread_limit
        self.max_content_length = max_content_length
        self.chunk_size = chunk_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI interface: HTTP goes to the WSGI app, lifespan is acknowledged."""
        kind = scope["type"]
        if kind == "http":
            await self._handle_http(scope, receive, send)
        elif kind == "lifespan":
            await _acknowledge_lifespan(receive, send)
        elif kind == "websocket":
            # WSGI has no websockets: refuse the handshake (a 403 for the client).
            await receive()
            await send({"type": "websocket.close", "code": 1000})
        else:
            raise RuntimeError(f"WSGIApp cannot serve ASGI scope type {kind!r}.")

    def _body_limit(self) -> int | None:
        if not isinstance(self.max_content_length, _Inherit):
            return self.max_content_length
        ctx = _cv_app.get(None)  # the mounting app is current while its child runs
        return ctx.app.config["MAX_CONTENT_LENGTH"] if ctx is not None else None

    async def _handle_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._body_limit()
        if limit is not None:
            declared = _declared_length(scope["headers"])
            if declared is not None and declared > limit:
                # Refused before a byte of it is read (a client sending
                # `Expect: 100-continue` never sends it at all).
                await _send_error(send, 413, _TOO_LARGE_BODY)
                return
        early = None
        if _body_declared(scope):
            # Its first message, read here on the loop, saves the app's thread a
            # round trip to the loop (a POST of one message then needs none), and
            # no thread is held while a slow client has yet to send it.
            early = await receive()
            if early["type"] == "http.disconnect":
                return  # gone before the body came: nobody to answer
        exchange = _Exchange(receive, send, self.chunk_size, limit)
        exchange.early = early
        method, path = scope.get("method"), scope.get("path")
        try:
            async with anyio.create_task_group() as tg:
                # Started, not just scheduled: its `finally` must run even if we are
                # cancelled at once, or a thread reading the body would wait forever.
                await tg.start(exchange.pump)
                limiter = thread_limiter(id(self), self.thread_limit)
                await anyio.to_thread.run_sync(
                    exchange.serve, self.wsgi_app, scope, limiter=limiter
                )
                error = exchange.error
                try:
                    if error is None:
                        await exchange.finish()
                except ClientGone as exc:
                    error = exc
                if error is None:
                    pass
                elif isinstance(error, ClientGone) or (exchange.gone and not exchange.finished):
                    # Not the app's fault, and nobody left to tell (gunicorn logs
                    # nothing for it).
                    logger.debug("The client left during %s %s", method, path)
                elif exchange.too_large:
                    await exchange.end_after_error(413, _TOO_LARGE_BODY)
                else:
                    logger.error("Exception in WSGI app on %s %s", method, path, exc_info=error)
                    # While the pump still runs, so a client that left is known.
                    await exchange.end_after_error()
                tg.cancel_scope.cancel()
        finally:
            if exchange.error is not None:
                _clear_frames(exchange.error)
            exchange.close()
            error = exchange.error = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.wsgi_app!r}>"


async def _acknowledge_lifespan(receive: Receive, send: Send) -> None:
    # WSGI has no lifespan; answering keeps servers that require it happy.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class _Exchange:
    """One request, seen from both sides: the event loop and the app's worker thread.

    Methods that are coroutines run on the loop; the others run in the thread
    and reach the loop through ``anyio.from_thread.run``.
    """

    def __init__(self, receive: Receive, send: Send, chunk_size: int, limit: int | None) -> None:
        self._receive = receive
        self._send = send
        self._chunk_size = chunk_size
        self._limit = limit
        self._received = 0
        self.too_large = False
        self.error: Exception | None = None  # what the app raised (see serve)
        # Seen in the thread when the request is cancelled while it waits on the loop.
        self._cancelled = anyio.get_cancelled_exc_class()
        # One slot: while it is full the pump waits, holding one more message, so
        # an upload the app reads slowly is never buffered here beyond that.
        self._inbox_writer, self._inbox = anyio.create_memory_object_stream[Message](1)
        # Reading `receive` starts with the first read of the body or with the
        # response, not before: a server sends `100 Continue` on the first read.
        self._pump_wanted = anyio.Event()
        self._sending: anyio.CancelScope | None = None
        self._body_done = False
        # A body message read before the app's thread started (see _handle_http).
        self.early: Message | None = None
        self._status: int | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        # The Content-Length the app declared, and a body that has reached it: kept
        # to go out with the end of the response (see write()).
        self._length: int | None = None
        self._held: bytes | None = None
        self.gone = False
        self.started = False
        self.finished = False

    # -- event loop side -----------------------------------------------------------

    async def pump(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        """Hand request messages to ``wsgi.input``; note when the client goes away."""
        try:
            task_status.started()
            await self._pump_wanted.wait()
            while True:
                try:
                    message = await self._receive()
                except OSError:
                    return  # a server reporting the disconnect its own way
                if message["type"] == "http.disconnect":
                    return
                await self._inbox_writer.send(message)
        finally:
            # Also reached when the request is cancelled (server shutdown): the
            # thread must stop rather than wait for messages nobody will pump.
            self.gone = True
            self._inbox_writer.close()
            if self._sending is not None:
                self._sending.cancel()

    def close(self) -> None:
        """Release the message channel (once the thread and the pump are done)."""
        self._inbox_writer.close()
        self._inbox.close()

    async def _next_message(self) -> Message:
        self._pump_wanted.set()
        try:
            return await self._inbox.receive()
        except anyio.EndOfStream:
            raise ClientGone("The client disconnected.") from None

    async def _transmit(self, body: bytes, more_body: bool) -> None:
        if self.gone:
            raise ClientGone("The client disconnected.")
        failed = False
        with anyio.CancelScope() as scope:
            # A send waiting on a slow client is abandoned when it disconnects. Not
            # the last one: servers report a disconnect once the response is complete.
            self._sending = scope if more_body else None
            try:
                if not self.started:
                    self.started = True
                    self._pump_wanted.set()
                    await self._send(
                        {
                            "type": "http.response.start",
                            "status": self._status,
                            "headers": self._headers,
                        }
                    )
                await self._send(
                    {"type": "http.response.body", "body": body, "more_body": more_body}
                )
                self.finished = not more_body
            except Exception as exc:
                if not client_gone(exc):
                    raise
                failed = True  # ASGI 2.4: `send` raises once the client is gone
            finally:
                self._sending = None
        if failed or scope.cancelled_caught:
            self.gone = True
            raise ClientGone("The client disconnected.")

    async def finish(self) -> None:
        """End the response (sent from the loop: a round trip fewer for the thread)."""
        held, self._held = self._held, None
        await self._transmit(held or b"", False)

    async def end_after_error(self, status: int = 500, body: bytes = _ERROR_BODY) -> None:
        """After the app raised: a bare 500 (or ``status``) if nothing was sent yet.

        A response already under way is left unfinished: the server then drops
        the connection, so the client knows the body is cut short (ending it
        cleanly would pass a partial body off as whole), as a WSGI server does.
        """
        if self.gone or self.finished or self.started:
            return
        try:
            if self._held is not None:
                # The whole declared body was produced (the app failed after, in
                # close(), say): the response is complete, so it is sent.
                await self.finish()
            else:
                await _send_error(self._send, status, body)
        except Exception as exc:
            if not client_gone(exc):
                raise  # the client left meanwhile: nobody to tell

    # -- worker thread side ----------------------------------------------------------

    def serve(self, app: WSGIApplication, scope: Scope) -> None:
        """Call the WSGI app and send its body, closing its iterable whatever happens.

        The final, empty body message is left to :meth:`finish`. An exception is
        kept in :attr:`error`, for the loop to report and then drop with its
        frames' locals (see :func:`_clear_frames`), rather than raised across the
        thread hop.
        """
        errors = _ErrorStream()
        environ = _build_environ(scope, _InputStream(self.read_body), errors, self._chunk_size)
        try:
            result = app(environ, self.start_response)
            try:
                for chunk in result:
                    if chunk:
                        self.write(chunk)
                if self._status is None:
                    raise RuntimeError("The WSGI app returned without calling start_response().")
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception as exc:
            self.error = exc
        finally:
            errors.flush()

    def _on_loop(self, func: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        try:
            return anyio.from_thread.run(func, *args)
        except (self._cancelled, concurrent.futures.CancelledError):
            # The request was cancelled (a server shutting down): to the app, as to
            # one under a WSGI server being stopped, the connection is gone.
            raise ClientGone("The request was cancelled.") from None

    def read_body(self) -> bytes:
        """The next piece of the request body; ``b""`` once it is all read."""
        while not self._body_done:
            message, self.early = self.early, None
            if message is None:
                message = self._on_loop(self._next_message)
            self._body_done = not message.get("more_body", False)
            body: bytes = message.get("body", b"")
            self._received += len(body)
            if self._limit is not None and self._received > self._limit:
                self.too_large = self._body_done = True
                raise BodyTooLarge()
            if body:
                return body
        return b""

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: OptExcInfo | None = None,
        /,
    ) -> Callable[[bytes], object]:
        """PEP 3333's ``start_response``: set the status and headers, return ``write``."""
        if exc_info is not None:
            try:
                if self.started and exc_info[1] is not None:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # PEP 3333: break the frame <-> traceback cycle
            self._held = None  # a body kept back belonged to the response now replaced
        elif self._status is not None:
            raise RuntimeError(
                "start_response() was already called; pass exc_info as the third "
                "argument to replace the status and headers of an error response."
            )
        self._status = _parse_status(status)
        self._headers = _encode_headers(headers)
        self._length = _declared_length(self._headers)
        return self.write

    def write(self, data: bytes) -> None:
        """PEP 3333's ``write()``: send ``data`` now (starting the response if needed)."""
        if self._status is None:
            raise RuntimeError("write() was called before start_response().")
        if not data:
            return
        if not isinstance(data, bytes):
            if isinstance(data, str):
                raise TypeError("A WSGI app must send bytes, not str: encode it first.")
            data = bytes(data)
        if self._held is not None:  # more than the declared length: send it all
            held, self._held = self._held, None
            self._on_loop(self._transmit, held, True)
        size = self._chunk_size
        if len(data) <= size:
            if not self.started and len(data) == self._length:
                # The whole body in one piece, as most apps answer: nothing more
                # is coming, so it goes out with the end of the response, from
                # the loop, without a round trip from this thread.
                self._held = data
                return
            self._on_loop(self._transmit, data, True)
            return
        for start in range(0, len(data), size):
            self._on_loop(self._transmit, data[start : start + size], True)


def _body_declared(scope: Scope) -> bool:
    """Whether the request declares a body, and its client does not wait for ``100 Continue``.

    The server sends ``100 Continue`` on the first read of the body, so that read
    is left to the app, which may refuse the request without reading it.
    """
    declared = False
    for name, value in scope["headers"]:
        if name == b"expect":
            return False
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            declared = True
    return declared


async def _send_error(send: Send, status: int, body: bytes) -> None:
    # A fresh list: middleware may add headers to the one it is given.
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(body)),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _clear_frames(exc: BaseException) -> None:
    """Drop the locals of the frames in ``exc``'s tracebacks (and its causes').

    Once it is logged: what the frames held (a body being read, the future and
    the streams of the exchange, which hold the very exception) goes now, not
    when the garbage collector finds the cycle.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        current = current.__cause__ or current.__context__


def _parse_status(status: str) -> int:
    code = status[:3] if isinstance(status, str) else ""
    if not (code.isdigit() and code.isascii() and status[3:4] in ("", " ")):
        raise ValueError(f"Invalid status {status!r}: it should look like '200 OK'.")
    return int(code)


def _declared_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    """The first Content-Length of raw ``headers``, if it is a plain number."""
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() and len(value) <= 18 else None
    return None


def _encode_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    raw = []
    for name, value in headers:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"Header {name!r}: {value!r} must be a pair of str.")
        _check_header(name, value)
        try:
            raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        except UnicodeEncodeError:
            raise ValueError(
                f"Header {name!r}: {value!r} is not latin-1; WSGI headers must be, "
                "so encode other text first (RFC 8187 or percent-encoding)."
            ) from None
    return raw


def _wsgi_str(text: str) -> str:
    # PEP 3333 "bytes as str": UTF-8 bytes, each one a latin-1 character.
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def _build_environ(
    scope: Scope, wsgi_input: _InputStream, errors: _ErrorStream, chunk_size: int
) -> dict[str, Any]:
    scheme = scope.get("scheme", "http")
    root_path = scope.get("root_path", "").rstrip("/")
    path = scope["path"]
    # ASGI 2.5: `path` includes `root_path`; some servers still send it without.
    if root_path and (path == root_path or path.startswith(root_path + "/")):
        path = path[len(root_path) :]
    server = scope.get("server") or ("localhost", None)
    port = server[1] if server[1] is not None else (443 if scheme == "https" else 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": _wsgi_str(root_path),
        "PATH_INFO": _wsgi_str(path),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": wsgi_input,
        "wsgi.errors": errors,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        # The body ends where `wsgi.input` says, with or without Content-Length
        # (a chunked upload); Werkzeug reads to that end when this is set.
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": partial(_FileWrapper, min_block_size=chunk_size),
        "asgi.scope": scope,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = str(client[0])
        environ["REMOTE_PORT"] = str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        if name == "content-type":
            key = "CONTENT_TYPE"
        elif name == "content-length":
            key = "CONTENT_LENGTH"
        elif "_" in name:
            # `X_Forwarded_For` would become HTTP_X_FORWARDED_FOR, passing as a
            # header a proxy believes it controls; drop it (as gunicorn, nginx).
            continue
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ


class _InputStream:
    """``wsgi.input``: the request body, pulled from the client as the app reads it."""

    def __init__(self, pull: Callable[[], bytes]) -> None:
        self._pull = pull
        self._buffer = bytearray()
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._pull()
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def _take(self, size: int) -> bytes:
        if size >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
        return data

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when ``size`` is negative or None)."""
        if size is None or size < 0:
            # Gathered in a BytesIO, whose getvalue() hands its buffer over
            # without a copy: the body is held once, not twice.
            whole = io.BytesIO(self._take(len(self._buffer)))
            whole.seek(0, io.SEEK_END)
            while not self._eof:
                chunk = self._pull()
                if not chunk:
                    self._eof = True
                whole.write(chunk)
            return whole.getvalue()
        if not self._buffer and not self._eof and size:
            # The common case, a read per message: no copy through the buffer.
            chunk = self._pull()
            if len(chunk) == size:
                return chunk
            if not chunk:
                self._eof = True
            self._buffer += chunk
        while len(self._buffer) < size and self._fill():
            pass
        return self._take(size)

    def readline(self, size: int | None = -1) -> bytes:
        """One line, ending with ``b"\\n"`` unless it is the last (at most ``size`` bytes)."""
        limit = size if size is not None and size >= 0 else None
        searched = 0
        while True:
            newline = self._buffer.find(b"\n", searched)
            if newline >= 0:
                end = newline + 1
                break
            searched = len(self._buffer)
            if (limit is not None and searched >= limit) or not self._fill():
                end = searched
                break
        return self._take(end if limit is None else min(end, limit))

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """The remaining lines (stopping once ``hint`` bytes are read, if positive)."""
        lines = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        """The remaining lines, one at a time."""
        return iter(self.readline, b"")


class _FileWrapper:
    """``wsgi.file_wrapper``: a file sent in blocks of at least ``min_block_size`` bytes.

    Flask asks for 8 KiB blocks and Django for 4 KiB; each block costs a round
    trip to the event loop, so small ones are read bigger.
    """

    def __init__(self, file: IO[bytes], block_size: int = 8192, *, min_block_size: int) -> None:
        self._file = file
        self._block_size = max(block_size, min_block_size)

    def __iter__(self) -> Iterator[bytes]:
        """The file's blocks, read as they are sent."""
        read = self._file.read
        while block := read(self._block_size):
            yield block

    def close(self) -> None:
        """Close the file (Django makes this close its response too)."""
        self._file.close()


class _ErrorStream:
    """``wsgi.errors``: what the app writes is logged on ``microasgi.wsgi``.

    Text is held until a newline, so a message written in pieces (``print``), or a
    log record with its traceback, becomes one log record.
    """

    def __init__(self) -> None:
        self._pending: list[str] = []

    def write(self, text: str) -> int:
        """Log ``text`` once a line is complete."""
        self._pending.append(text)
        if text.endswith("\n"):
            self.flush()
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        """Write each of ``lines``."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Log what is held, complete line or not."""
        text = "".join(self._pending).rstrip("\n")
        self._pending.clear()
        if text:
            logger.error("%s", text)
