"""ASGI scopes for tests that call an app directly, without a client."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


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
