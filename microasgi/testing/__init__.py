"""Test clients: Flask's synchronous one, an async twin, and the CLI runner.

The sync client (``app.test_client()``) is Flask's: a ``werkzeug.test.Client``,
so requests take Werkzeug's ``EnvironBuilder`` arguments, and cookies,
redirects and responses (``werkzeug.test.TestResponse``) are Werkzeug's. Only
the last step differs: the request goes to the app's ASGI interface, which runs
on an event loop in a background thread, while the test's own thread runs the
request's sync code (``def`` views, hooks, teardown, a generator's steps), as
under Flask's client. Thread-local state the test set up (a per-thread
``sqlite3`` connection, say) is what the view sees::

    client = app.test_client()
    response = client.post("/items", json={"name": "x"}, headers={"X-Id": "1"})
    assert response.status_code == 201
    assert response.json == {"id": 1}

``with client:`` runs the app's lifespan (``before_serving``/``after_serving``)
and keeps the last request's context afterwards, so ``request``, ``session``
and ``g`` can be inspected after a request, as with Flask's client.

The async client (``app.async_test_client()``, for ``async`` tests) is an
httpx client calling the app directly; its ``def`` views run in worker threads,
as served (the test's thread is the event loop). It is imported on first use:
the sync client needs no httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.test import Cookie, TestResponse

from ._cli import CliRunner, FlaskCliRunner
from ._client import FlaskClient, TestClient
from ._environ import EnvironBuilder, build_scope
from ._websockets import WebsocketConnection, WebsocketDenied, WebsocketSession

if TYPE_CHECKING:
    from ._async import AsyncTestClient

__all__ = [
    "AsyncTestClient",
    "CliRunner",
    "Cookie",
    "EnvironBuilder",
    "FlaskCliRunner",
    "FlaskClient",
    "TestClient",
    "TestResponse",
    "WebsocketConnection",
    "WebsocketDenied",
    "WebsocketSession",
    "build_scope",
]


def __getattr__(name: str) -> Any:
    # The async client needs httpx; the rest of the module does not.
    if name == "AsyncTestClient":
        from ._async import AsyncTestClient

        return AsyncTestClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
