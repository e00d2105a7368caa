"""Starlette: the ASGI toolkit microasgi is built on."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..routes_github import RouteSpec, answer, to_syntax
from ._common import FORTUNE_TEMPLATE, FORTUNES, HELLO, MESSAGE, TEMPLATES, static_dir

templates = Jinja2Templates(directory=TEMPLATES)


async def plaintext(request: Request) -> Response:
    return PlainTextResponse(HELLO)


async def json_view(request: Request) -> Response:
    return JSONResponse(MESSAGE)


async def user(request: Request) -> Response:
    return PlainTextResponse(str(request.path_params["user_id"]))


async def echo(request: Request) -> Response:
    return JSONResponse(await request.json())


def sync(request: Request) -> Response:
    return PlainTextResponse(HELLO)


async def fortunes(request: Request) -> Response:
    return templates.TemplateResponse(request, FORTUNE_TEMPLATE, {"fortunes": FORTUNES})


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


app = Starlette(
    routes=[
        Route("/plaintext", plaintext),
        Route("/json", json_view),
        Route("/users/{user_id:int}", user),
        Route("/echo", echo, methods=["POST"]),
        Route("/sync", sync),
        Route("/fortunes", fortunes),
        Mount("/static", StaticFiles(directory=static_dir())),
        WebSocketRoute("/ws", ws),
    ]
)


def _view(route: RouteSpec) -> Any:
    async def view(request: Request) -> Response:
        return PlainTextResponse(answer(route, request.path_params))

    return view


def routing_app(routes: list[RouteSpec]) -> Starlette:
    """One ``Route`` per (method, path), in table order."""
    return Starlette(
        routes=[Route(to_syntax(r.path, "starlette"), _view(r), methods=[r.method]) for r in routes]
    )


def github_app() -> Any:
    """The GitHub API table as an app (``uvicorn --factory module:github_app``)."""
    from ..routes_github import GITHUB_API

    return routing_app(GITHUB_API)
