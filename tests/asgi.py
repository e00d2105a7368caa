"""Driving an app over ASGI in tests, without a client: a scope, and a receive/send pair."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import anyio


def http_scope(
    path: str = "/",
    method: str = "GET",
    *,
    headers: Iterable[tuple[bytes, bytes]] = (),
    query: bytes = b"",
    raw_path: bytes | None = None,
    root_path: str = "",
    http_version: str = "1.1",
    client: tuple[str, int] | None = ("10.0.0.7", 4321),
) -> dict[str, Any]:
    """An HTTP scope as uvicorn builds it; ``headers`` are raw pairs, after ``host``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": http_version,
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw_path if raw_path is not None else path.encode("utf-8", "surrogateescape"),
        "query_string": query,
        "root_path": root_path,
        "headers": [(b"host", b"testserver"), *headers],
        "client": client,
        "server": ("testserver", 80),
        "extensions": {},
        "state": {},
    }


class Wire:
    """receive/send for one request: the body in ``chunks`` (counted), the answer kept."""

    def __init__(self, chunks: Iterable[bytes] = ()) -> None:
        self.chunks = list(chunks) or [b""]
        self.delivered = 0
        self.messages: list[dict[str, Any]] = []
        self.finished = anyio.Event()

    async def receive(self) -> dict[str, Any]:
        if self.delivered < len(self.chunks):
            index = self.delivered
            self.delivered += 1
            more = index + 1 < len(self.chunks)
            return {"type": "http.request", "body": self.chunks[index], "more_body": more}
        await self.finished.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        assert not self.finished.is_set(), f"sent after the response was complete: {message}"
        self.messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished.set()

    @property
    def status(self) -> int:
        assert self.messages, "no response"
        assert self.messages[0]["type"] == "http.response.start"
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in self.messages[0]["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)
