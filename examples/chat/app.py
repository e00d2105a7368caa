"""A broadcast chat room over WebSockets: ``microasgi --app examples.chat.app:app run``.

Each connection gets its own bounded queue and a task that sends from it, so a
slow client never blocks the room (when its queue is full it misses messages
instead) and no two tasks write to one socket at once. The room lives in one
process: run a single worker, or put a broker (Redis pub/sub) behind ``Room``.
"""

from __future__ import annotations

import json
from contextlib import suppress

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from microasgi import MicroASGI, websocket

app = MicroASGI(__name__)


class Room:
    """Everyone connected, each as the sending end of their queue."""

    def __init__(self) -> None:
        self.members: set[MemoryObjectSendStream[str]] = set()

    def broadcast(self, **message: str) -> None:
        text = json.dumps(message)
        for queue in list(self.members):
            with suppress(anyio.WouldBlock, anyio.BrokenResourceError):
                queue.send_nowait(text)


room = Room()


@app.get("/")
def index() -> str:
    """The chat page (plain HTML and a few lines of JavaScript)."""
    with app.open_resource("templates/chat.html", "r") as page:
        return str(page.read())


@app.websocket("/ws")
async def chat() -> None:
    name = (websocket.args.get("name") or "anonymous").strip()[:32] or "anonymous"
    queue_in, queue_out = anyio.create_memory_object_stream[str](100)
    await websocket.accept()

    async def forward() -> None:
        async for text in queue_out:
            await websocket.send_text(text)

    room.members.add(queue_in)
    room.broadcast(system=f"{name} joined")
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(forward)
            async for message in websocket:  # ends when the client leaves
                if isinstance(message, bytes):
                    message = message.decode("utf-8", "replace")
                room.broadcast(name=name, text=message[:1000])
            tg.cancel_scope.cancel()
    finally:
        room.members.discard(queue_in)
        queue_in.close()
        queue_out.close()
        room.broadcast(system=f"{name} left")
