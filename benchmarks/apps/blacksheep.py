"""BlackSheep (Cython-accelerated), written the way its docs do.

A ``def`` handler is called on the event loop, not in a thread: its ``/sync``
number is not a thread round trip like the others'.
"""

from __future__ import annotations

from typing import Any

from blacksheep import Application, Request, Response, Router, WebSocket, html, json, text
from blacksheep.server.websocket import WebSocketDisconnectError

from ..routes_github import RouteSpec, answer, to_syntax
from ._common import FORTUNE_TEMPLATE, FORTUNES, HELLO, MESSAGE, jinja_env, static_dir

app = Application(router=Router())
_template = jinja_env().get_template(FORTUNE_TEMPLATE)


@app.router.get("/plaintext")
async def plaintext() -> Response:
    return text(HELLO)


@app.router.get("/json")
async def json_view() -> Response:
    return json(MESSAGE)


@app.router.get("/users/{int:user_id}")
async def user(user_id: int) -> Response:
    return text(str(user_id))


@app.router.post("/echo")
async def echo(request: Request) -> Response:
    return json(await request.json())


@app.router.get("/sync")
def sync() -> Response:  # runs on the event loop: BlackSheep does not offload def handlers
    return text(HELLO)


@app.router.get("/fortunes")
async def fortunes() -> Response:
    # BlackSheep's view() appends ".jinja" to template names; render the shared
    # template through a Jinja2 environment like its renderer's instead.
    return html(_template.render(fortunes=FORTUNES))


@app.router.ws("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnectError:
        pass


app.serve_files(static_dir(), root_path="static", extensions={".bin"})


def _view(route: RouteSpec) -> Any:
    async def view(request: Request) -> Response:
        return text(answer(route, request.route_values or {}))

    return view


def routing_app(routes: list[RouteSpec]) -> Application:
    """One ``router.add`` per (method, path), in table order."""
    routing = Application(router=Router())
    for route in routes:
        routing.router.add(route.method, to_syntax(route.path, "blacksheep"), _view(route))
    return routing


def github_app() -> Any:
    """The GitHub API table as an app (``uvicorn --factory module:github_app``)."""
    from ..routes_github import GITHUB_API

    return routing_app(GITHUB_API)
