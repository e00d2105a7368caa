"""Litestar, written the way its docs do: typed handlers, a template engine, a listener."""

from __future__ import annotations

from typing import Any

from litestar import HttpMethod, Litestar, MediaType, Request, get, post, route, websocket_listener
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from ..routes_github import RouteSpec, answer, to_syntax
from ._common import FORTUNE_TEMPLATE, FORTUNES, HELLO, MESSAGE, TEMPLATES, static_dir


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return HELLO


@get("/json")
async def json_view() -> dict[str, str]:
    return MESSAGE


@get("/users/{user_id:int}", media_type=MediaType.TEXT)
async def user(user_id: int) -> str:
    return str(user_id)


@post("/echo", status_code=200)
async def echo(data: dict[str, Any]) -> dict[str, Any]:
    return data


@get("/sync", media_type=MediaType.TEXT, sync_to_thread=True)
def sync() -> str:
    return HELLO


@get("/fortunes")
async def fortunes() -> Template:
    return Template(template_name=FORTUNE_TEMPLATE, context={"fortunes": FORTUNES})


@websocket_listener("/ws")
async def ws(data: str) -> str:
    return data


app = Litestar(
    route_handlers=[
        plaintext,
        json_view,
        user,
        echo,
        sync,
        fortunes,
        ws,
        create_static_files_router(path="/static", directories=[static_dir()]),
    ],
    template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
    logging_config=None,
)


# Litestar reserves some names (``state``, ``query``, ...) for its own injected values, and
# the GitHub table has a ``{state}`` parameter: it is registered as ``state_`` here.
_RESERVED = {"state", "headers", "cookies", "data", "scope", "socket", "body", "query"}


def _handler(index: int, route_spec: RouteSpec) -> Any:
    async def view(request: Request[Any, Any, Any]) -> str:
        params = {key.removesuffix("_"): value for key, value in request.path_params.items()}
        return answer(route_spec, params)

    path = to_syntax(route_spec.path, "litestar")
    for name in _RESERVED:
        path = path.replace(f"{{{name}:", f"{{{name}_:")
    return route(
        path,
        http_method=[HttpMethod(route_spec.method)],
        name=f"r{index}",
        media_type=MediaType.TEXT,
        status_code=200,
    )(view)


def routing_app(routes: list[RouteSpec]) -> Litestar:
    """One handler per (method, path), in table order."""
    return Litestar(
        route_handlers=[_handler(i, r) for i, r in enumerate(routes)], logging_config=None
    )


def github_app() -> Any:
    """The GitHub API table as an app (``uvicorn --factory module:github_app``)."""
    from ..routes_github import GITHUB_API

    return routing_app(GITHUB_API)
