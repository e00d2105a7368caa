"""One request of the sync client, on two threads: the app runs on the client's
event loop; its sync code, and the reading of its response, on the thread that
made the request."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import suppress
from functools import partial
from io import BytesIO
from typing import IO, TYPE_CHECKING, Any

import anyio
from anyio.from_thread import BlockingPortal

from ..bridge import CALLER_THREAD, CallerThread
from ..typing import Message
from ..wrappers.response import _status_line, client_gone
from ._environ import Environ, scope_from_environ

if TYPE_CHECKING:
    from ._client import TestClient


CHUNK = 65536


class LoopThread:
    """An event loop in a daemon thread, reachable through a blocking portal."""

    def __init__(self) -> None:
        ready = threading.Event()
        self.portal: BlockingPortal | None = None

        async def main() -> None:
            async with BlockingPortal() as portal:
                self.portal = portal
                ready.set()
                await portal.sleep_until_stopped()

        # A daemon thread: a client the test never closed must not hang exit.
        self.thread = threading.Thread(
            target=anyio.run, args=(main,), daemon=True, name="microasgi-test-loop"
        )
        self.thread.start()
        ready.wait()

    def stop(self) -> None:
        if self.portal is not None:
            with suppress(RuntimeError):  # already stopped
                self.portal.call(self.portal.stop)
        self.thread.join(timeout=5)


_callers = threading.local()


def caller_thread() -> CallerThread:
    """This thread, lent to the requests it makes (one per thread, made on first use)."""
    thread: CallerThread | None = getattr(_callers, "thread", None)
    if thread is None:
        thread = _callers.thread = CallerThread()
    return thread


def _nothing() -> None:
    pass


def serve_while(portal: BlockingPortal, func: Callable[..., Any], *args: Any) -> Any:
    """``await func(*args)`` on the loop while this thread runs the sync calls it makes."""
    thread = caller_thread()
    future = portal.start_task_soon(func, *args)
    future.add_done_callback(lambda _: thread.call_soon(_nothing))  # wakes serve_until
    thread.serve_until(future.done)
    return future.result()


class Exchange:
    """One request of the sync client, seen from both threads.

    The app runs on the loop thread; its sync calls, and the reading of its
    response, happen on the thread that made the request. To Werkzeug's client
    it is a WSGI response: :meth:`body` is the ``app_iter``. Each chunk of a
    streamed body waits for the test to ask for it, as a WSGI iterable would.
    """

    def __init__(self, client: TestClient, environ: Environ) -> None:
        self.app = client.application
        self.portal = client._portal()
        self.thread = caller_thread()
        self.owner = threading.get_ident()
        scope = self.scope = scope_from_environ(environ)
        scope["extensions"][CALLER_THREAD] = self.thread
        if client.preserve_context:
            scope["extensions"]["microasgi.preserve_context"] = client._keep
        self.input: IO[bytes] | None = environ["wsgi.input"]
        length = str(environ.get("CONTENT_LENGTH", ""))
        self.left = int(length) if length.isdigit() else None  # else: to the stream's end
        self.input_start = _tell(self.input)
        # Test side: what the app sent, and whether it returned (set on this thread).
        self.inbox: deque[Message] = deque()
        self.finished = False
        self.error: BaseException | None = None
        # Loop side.
        self.gone = False  # the test closed the response before its end
        self.over: anyio.Event | None = None  # set: receive() says http.disconnect
        self.pulled: anyio.Event | None = None  # set: the test asked for the next chunk
        self.client = client
        client._exchanges.add(self)

    # -- on the loop thread

    async def serve(self) -> None:
        self.over = anyio.Event()
        try:
            await self.app(self.scope, self.receive, self.send)
        except anyio.get_cancelled_exc_class():  # the client's loop is stopping
            self.error = RuntimeError("The test client closed while the app was answering.")
            raise
        except BaseException as exc:  # raised in the test, where it belongs
            self.error = exc
        finally:
            self.thread.call_soon(self._finish)

    async def receive(self) -> Message:
        stream = self.input
        if stream is None:
            assert self.over is not None
            await self.over.wait()
            return {"type": "http.disconnect"}
        size = CHUNK if self.left is None else min(CHUNK, self.left)
        if isinstance(stream, BytesIO):
            chunk = stream.read(size)
        else:  # a file: read off the loop
            chunk = await anyio.to_thread.run_sync(stream.read, size)
        if self.left is not None:
            self.left -= len(chunk)
        more = bool(chunk) and self.left != 0
        if not more:
            self.input = None
            if self.input_start is not None:  # a followed 307 sends the body again
                with suppress(OSError, ValueError):
                    stream.seek(self.input_start)
        return {"type": "http.request", "body": chunk, "more_body": more}

    async def send(self, message: Message) -> None:
        if self.gone:
            raise OSError("The test closed the response.")
        body = message["type"] == "http.response.body"
        if body and message.get("more_body", False):
            pulled = self.pulled = anyio.Event()
            self.thread.call_soon(partial(self.inbox.append, message))
            await pulled.wait()
            if self.gone:
                raise OSError("The test closed the response.")
            return
        if body and self.over is not None:
            self.over.set()
        self.thread.call_soon(partial(self.inbox.append, message))

    def disconnect(self) -> None:
        self.gone = True
        if self.over is not None:
            self.over.set()
        if self.pulled is not None:
            self.pulled.set()

    # -- on the test's thread

    def _finish(self) -> None:
        self.finished = True
        self.client._exchanges.discard(self)

    def _raise(self) -> None:
        error, self.error = self.error, None
        if error is not None:
            try:
                raise error
            finally:
                del error  # no cycle through this frame's traceback entry

    def _next(self) -> Message | None:
        """The app's next message, running its sync calls meanwhile; ``None`` once it returned."""
        self.thread.serve_until(lambda: bool(self.inbox) or self.finished)
        if self.inbox:
            return self.inbox.popleft()
        self._raise()
        return None

    def body(self, start_response: Callable[..., Any]) -> Iterator[bytes]:
        """The WSGI ``app_iter``: calls ``start_response`` once the app has, then the chunks."""
        try:
            message = self._next()
            if message is None:
                raise RuntimeError("The app finished without sending a response.")
            headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", ())
            ]
            start_response(_status_line(message["status"]), headers)
            while (message := self._next()) is not None:
                if message["type"] != "http.response.body":
                    continue
                chunk = message.get("body", b"")
                if not message.get("more_body", False):
                    # The request ends (teardown hooks) before the last chunk is
                    # read, so it is over when a complete response is returned.
                    self.thread.serve_until(lambda: self.finished)
                    self._raise()
                    if chunk:
                        yield chunk
                    return
                if chunk:
                    yield chunk
                pulled = self.pulled
                assert pulled is not None
                self.portal.call(pulled.set)
        finally:
            self.close()

    def close(self) -> None:
        """End the request: the test closed its response, or read it all."""
        if self.finished:
            return
        if threading.get_ident() != self.owner:
            # Collected on another thread: nothing can run this request's sync
            # calls here; they run when its thread next serves.
            with suppress(Exception):
                self.portal.start_task_soon(self.disconnect)
            return
        try:
            self.portal.call(self.disconnect)
        except RuntimeError:  # the loop is gone, and the request with it
            return
        self.thread.serve_until(lambda: self.finished)
        error, self.error = self.error, None
        if error is not None and not client_gone(error):
            raise error


def _tell(stream: IO[bytes] | None) -> int | None:
    try:
        return stream.tell() if stream is not None and stream.seekable() else None
    except (OSError, ValueError, AttributeError):
        return None
