"""Quart: Flask's API reimplemented on asyncio."""

from __future__ import annotations

from typing import Any

from quart import Quart, render_template, request, websocket

from ..routes_github import RouteSpec, answer, to_syntax
from ._common import FORTUNE_TEMPLATE, FORTUNES, HELLO, MESSAGE, TEMPLATES, static_dir

app = Quart(__name__, static_folder=static_dir(), template_folder=str(TEMPLATES))


@app.get("/plaintext")
async def plaintext() -> Any:
    return HELLO, {"content-type": "text/plain; charset=utf-8"}


@app.get("/json")
async def json_view() -> Any:
    return MESSAGE


@app.get("/users/<int:user_id>")
async def user(user_id: int) -> Any:
    return str(user_id), {"content-type": "text/plain; charset=utf-8"}


@app.post("/echo")
async def echo() -> Any:
    return await request.get_json()


@app.get("/sync")
def sync() -> Any:  # Quart runs a def view in its thread pool
    return HELLO, {"content-type": "text/plain; charset=utf-8"}


@app.get("/fortunes")
async def fortunes() -> Any:
    return await render_template(FORTUNE_TEMPLATE, fortunes=FORTUNES)


@app.websocket("/ws")
async def ws() -> None:
    while True:
        await websocket.send(await websocket.receive())


def _view(route: RouteSpec) -> Any:
    async def view(**params: Any) -> Any:
        return answer(route, params)

    return view


def routing_app(routes: list[RouteSpec]) -> Quart:
    """One ``add_url_rule`` per (method, path), in table order."""
    routing = Quart(__name__)
    for index, route in enumerate(routes):
        routing.add_url_rule(
            to_syntax(route.path, "flask"),
            endpoint=f"r{index}",
            view_func=_view(route),
            methods=[route.method],
        )
    return routing


def github_app() -> Any:
    """The GitHub API table as an app (``uvicorn --factory module:github_app``)."""
    from ..routes_github import GITHUB_API

    return routing_app(GITHUB_API)
