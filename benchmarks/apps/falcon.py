"""Falcon's ASGI app (``falcon.asgi.App``): one resource class per path.

Falcon's ASGI responders must be coroutines; ``/sync`` wraps a ``def`` with
``falcon.util.wrap_sync_to_async``, Falcon's documented way to run it in the
default executor.
"""

from __future__ import annotations

from typing import Any

import falcon
import falcon.asgi
from falcon.util import wrap_sync_to_async

from ..routes_github import RouteSpec, answer, grouped_by_path, to_syntax
from ._common import FORTUNE_TEMPLATE, FORTUNES, HELLO, MESSAGE, jinja_env, static_dir

Req = falcon.asgi.Request
Resp = falcon.asgi.Response

_template = jinja_env().get_template(FORTUNE_TEMPLATE)


class Plaintext:
    async def on_get(self, req: Req, resp: Resp) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = HELLO


class Json:
    async def on_get(self, req: Req, resp: Resp) -> None:
        resp.media = MESSAGE


class User:
    async def on_get(self, req: Req, resp: Resp, user_id: int) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = str(user_id)


class Echo:
    async def on_post(self, req: Req, resp: Resp) -> None:
        resp.media = await req.get_media()


def _sync(req: Req, resp: Resp) -> None:
    resp.content_type = falcon.MEDIA_TEXT
    resp.text = HELLO


class Sync:
    on_get = staticmethod(wrap_sync_to_async(_sync))


class Fortunes:
    async def on_get(self, req: Req, resp: Resp) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = _template.render(fortunes=FORTUNES)


class Echoes:
    async def on_websocket(self, req: Req, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except falcon.WebSocketDisconnected:
            pass


app = falcon.asgi.App()
app.add_route("/plaintext", Plaintext())
app.add_route("/json", Json())
app.add_route("/users/{user_id:int}", User())
app.add_route("/echo", Echo())
app.add_route("/sync", Sync())
app.add_route("/fortunes", Fortunes())
app.add_route("/ws", Echoes())
app.add_static_route("/static", static_dir())


def _resource(routes: list[RouteSpec]) -> Any:
    """A resource answering each method of ``routes`` (which share one path)."""
    responders: dict[str, Any] = {}
    for route in routes:

        async def responder(
            self: Any, req: Req, resp: Resp, _route: RouteSpec = route, **params: Any
        ) -> None:
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = answer(_route, params)

        responders[f"on_{route.method.lower()}"] = responder
    return type("Resource", (), responders)()


def routing_app(routes: list[RouteSpec]) -> Any:
    """One resource per path (methods grouped, as Falcon requires), in table order."""
    routing = falcon.asgi.App()
    for path, group in grouped_by_path(routes).items():
        routing.add_route(to_syntax(path, "starlette"), _resource(group))
    return routing


def github_app() -> Any:
    """The GitHub API table as an app (``uvicorn --factory module:github_app``)."""
    from ..routes_github import GITHUB_API

    return routing_app(GITHUB_API)
