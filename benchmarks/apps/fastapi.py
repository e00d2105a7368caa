"""FastAPI, written the way its tutorial does: typed parameters, dicts returned as JSON."""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ..routes_github import RouteSpec, answer, to_syntax
from ._common import FORTUNE_TEMPLATE, FORTUNES, HELLO, MESSAGE, TEMPLATES, static_dir

app = FastAPI()
templates = Jinja2Templates(directory=TEMPLATES)


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return HELLO


@app.get("/json")
async def json_view() -> dict[str, str]:
    return MESSAGE


@app.get("/users/{user_id}", response_class=PlainTextResponse)
async def user(user_id: int) -> str:
    return str(user_id)


@app.post("/echo")
async def echo(payload: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
    return payload


@app.get("/sync", response_class=PlainTextResponse)
def sync() -> str:
    return HELLO


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes(request: Request) -> Any:
    return templates.TemplateResponse(request, FORTUNE_TEMPLATE, {"fortunes": FORTUNES})


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


app.mount("/static", StaticFiles(directory=static_dir()))


def _view(route: RouteSpec) -> Any:
    async def view(request: Request) -> PlainTextResponse:
        return PlainTextResponse(answer(route, request.path_params))

    return view


def routing_app(routes: list[RouteSpec]) -> FastAPI:
    """One ``add_api_route`` per (method, path), in table order."""
    routing = FastAPI()
    for index, route in enumerate(routes):
        routing.add_api_route(
            to_syntax(route.path, "starlette"),
            _view(route),
            methods=[route.method],
            name=f"r{index}",
        )
    return routing


def github_app() -> Any:
    """The GitHub API table as an app (``uvicorn --factory module:github_app``)."""
    from ..routes_github import GITHUB_API

    return routing_app(GITHUB_API)
