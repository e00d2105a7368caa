"""The smallest app of each framework, for the idle-memory comparison."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from microasgi import MicroASGI

from ._common import HELLO


async def _hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(HELLO)


starlette_app = Starlette(routes=[Route("/plaintext", _hello)])

microasgi_app = MicroASGI(__name__, static_folder=None, template_folder=None)


@microasgi_app.get("/plaintext")
async def plaintext() -> str:
    return HELLO
