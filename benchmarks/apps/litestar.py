"""Litestar, written the way its docs do: typed handlers, a template engine, a listener."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import (
    HttpMethod,
    Litestar,
    MediaType,
    Request,
    Response,
    get,
    post,
    route,
    websocket_listener,
)
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.params import Parameter
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from ..routes_github import RouteSpec, answer, to_syntax
from ._common import (
    FORTUNE_TEMPLATE,
    FORTUNES,
    HELLO,
    MESSAGE,
    TEMPLATES,
    UNTYPED_INVALID,
    item_summary,
    order_summary,
    query_summary,
    static_dir,
)


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


# -- typed routes (see _common): msgspec Structs and Parameter(), as Litestar's docs do


class Item(msgspec.Struct):
    name: str
    price: float
    quantity: int
    tags: list[str]
    in_stock: bool


class Customer(msgspec.Struct):
    name: str
    email: str


class Line(msgspec.Struct):
    sku: str
    quantity: int
    price: float


class Order(msgspec.Struct):
    id: int
    customer: Customer
    lines: list[Line]


@get("/t/items/{item_id:int}")
async def t_query(
    item_id: int, q: str, limit: Annotated[int, Parameter(ge=1, le=100)] = 20
) -> dict[str, Any]:
    return query_summary(item_id, q, limit)


@post("/t/items", status_code=200)
async def t_item(data: Item) -> dict[str, Any]:
    return item_summary(data.name, data.price, data.quantity, data.tags, data.in_stock)


@post("/t/orders", status_code=200)
async def t_order(data: Order) -> dict[str, Any]:
    lines = [(line.quantity, line.price) for line in data.lines]
    return order_summary(data.id, data.customer.name, lines)


@get("/u/items/{item_id:int}")
async def u_query(request: Request[Any, Any, Any]) -> dict[str, Any]:
    args = request.query_params
    return query_summary(request.path_params["item_id"], args["q"], int(args.get("limit", 20)))


@post("/u/items", status_code=200)
async def u_item(request: Request[Any, Any, Any]) -> Any:
    data = await request.json()
    try:
        return item_summary(**data)
    except (KeyError, TypeError, ValueError):
        return Response(UNTYPED_INVALID, status_code=422)


@post("/u/orders", status_code=200)
async def u_order(request: Request[Any, Any, Any]) -> dict[str, Any]:
    data = await request.json()
    lines = [(line["quantity"], line["price"]) for line in data["lines"]]
    return order_summary(data["id"], data["customer"]["name"], lines)


def typed_app() -> Litestar:
    """Typed routes under ``/t`` and their untyped twins under ``/u``."""
    handlers = [t_query, t_item, t_order, u_query, u_item, u_order]
    return Litestar(route_handlers=handlers, logging_config=None)
