"""microasgi: Flask's programming model, native on ASGI (the framework under test)."""

from __future__ import annotations

from typing import Any

from microasgi import MicroASGI, render_template, request, websocket

from ..routes_github import RouteSpec, answer, to_syntax
from ._common import FORTUNE_TEMPLATE, FORTUNES, HELLO, MESSAGE, TEMPLATES, static_dir

app = MicroASGI(__name__, static_folder=static_dir(), template_folder=str(TEMPLATES))
# Tuned as under `microasgi run`, which this harness stands in for (uvicorn directly).
app.config["GC_TUNING"] = True

_TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/plaintext")
async def plaintext() -> Any:
    return HELLO, _TEXT


@app.get("/json")
async def json_view() -> Any:
    return MESSAGE


@app.get("/users/<int:user_id>")
async def user(user_id: int) -> Any:
    return str(user_id), _TEXT


@app.post("/echo")
async def echo() -> Any:
    return request.get_json()


@app.get("/sync")
def sync() -> Any:  # a def view: microasgi runs it in a worker thread
    return HELLO, _TEXT


@app.get("/fortunes")
async def fortunes() -> Any:
    return render_template(FORTUNE_TEMPLATE, fortunes=FORTUNES)


@app.websocket("/ws")
async def ws() -> None:
    async for message in websocket:
        await websocket.send(message)


def _view(route: RouteSpec) -> Any:
    async def view(**params: Any) -> Any:
        return answer(route, params)

    return view


def routing_app(routes: list[RouteSpec]) -> MicroASGI:
    """One ``add_url_rule`` per (method, path), in table order."""
    routing = MicroASGI(__name__, static_folder=None)
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
