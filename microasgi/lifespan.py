"""Driving another ASGI app's lifespan: mounted children, the test clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from .typing import ASGIApp, Message


@asynccontextmanager
async def run_lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run ``app``'s lifespan around the block: startup before, shutdown after.

    A failed startup or shutdown raises :class:`RuntimeError` with the app's
    message; an app that does not speak lifespan (it raises, or returns
    without answering) is tolerated, as ASGI servers tolerate it.
    """
    to_app_send, to_app = anyio.create_memory_object_stream[Message](2)
    from_app_send, from_app = anyio.create_memory_object_stream[Message](2)

    async def run() -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        try:
            await app(scope, to_app.receive, from_app_send.send)
        except Exception:
            pass  # an app that does not speak lifespan raises on the scope type
        finally:
            from_app_send.close()

    # Errors (a failed startup, the test's own assertion) are raised after the
    # task group has exited, so the caller sees them bare, not in an ExceptionGroup.
    failed: str | None = None
    body_error: BaseException | None = None
    async with to_app_send, to_app, from_app_send, from_app, anyio.create_task_group() as tg:
        tg.start_soon(run)
        await to_app_send.send({"type": "lifespan.startup"})
        try:
            reply = await from_app.receive()
        except anyio.EndOfStream:
            reply = {"type": "lifespan.unsupported"}
        if reply["type"] == "lifespan.startup.failed":
            failed = f"Lifespan startup failed: {reply.get('message', '')}"
        else:
            try:
                yield
            except BaseException as exc:
                body_error = exc
            if reply["type"] == "lifespan.startup.complete":
                await to_app_send.send({"type": "lifespan.shutdown"})
                reply = await from_app.receive()
                if reply["type"] == "lifespan.shutdown.failed":
                    failed = f"Lifespan shutdown failed: {reply.get('message', '')}"
        tg.cancel_scope.cancel()
    if body_error is not None:
        raise body_error
    if failed is not None:
        raise RuntimeError(failed)
