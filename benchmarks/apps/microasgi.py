"""microasgi: Flask's programming model, native on ASGI (the framework under test)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from microasgi import MicroASGI, Query, render_template, request, websocket

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


# -- typed routes (see _common): msgspec Structs and Annotated markers, as docs/api.md shows


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


def typed_app() -> MicroASGI:
    """Typed routes under ``/t`` and their untyped twins under ``/u``."""
    typed = MicroASGI(__name__, static_folder=None)
    typed.config["GC_TUNING"] = True

    @typed.get("/t/items/<int:item_id>")
    async def t_query(
        item_id: int,
        q: Annotated[str, Query()],
        limit: Annotated[int, Query(), msgspec.Meta(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        return query_summary(item_id, q, limit)

    @typed.post("/t/items")
    async def t_item(item: Item) -> dict[str, Any]:
        return item_summary(item.name, item.price, item.quantity, item.tags, item.in_stock)

    @typed.post("/t/orders")
    async def t_order(order: Order) -> dict[str, Any]:
        lines = [(line.quantity, line.price) for line in order.lines]
        return order_summary(order.id, order.customer.name, lines)

    @typed.get("/u/items/<int:item_id>")
    async def u_query(item_id: int) -> Any:
        return query_summary(item_id, request.args["q"], request.args.get("limit", 20, type=int))

    @typed.post("/u/items")
    async def u_item() -> Any:
        data = request.get_json()
        try:
            return item_summary(**data)
        except (KeyError, TypeError, ValueError):
            return UNTYPED_INVALID, 422

    @typed.post("/u/orders")
    async def u_order() -> Any:
        data = request.get_json()
        lines = [(line["quantity"], line["price"]) for line in data["lines"]]
        return order_summary(data["id"], data["customer"]["name"], lines)

    return typed
