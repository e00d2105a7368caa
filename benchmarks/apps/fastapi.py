"""FastAPI, written the way its tutorial does: typed parameters, dicts returned as JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

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


# -- typed routes (see _common): pydantic models and Query(), as FastAPI's tutorial does


class Item(BaseModel):
    name: str
    price: float
    quantity: int
    tags: list[str]
    in_stock: bool


class Customer(BaseModel):
    name: str
    email: str


class Line(BaseModel):
    sku: str
    quantity: int
    price: float


class Order(BaseModel):
    id: int
    customer: Customer
    lines: list[Line]


def typed_app() -> FastAPI:
    """Typed routes under ``/t`` and their untyped twins under ``/u``."""
    typed = FastAPI()

    @typed.get("/t/items/{item_id}")
    async def t_query(
        item_id: int, q: Annotated[str, Query()], limit: Annotated[int, Query(ge=1, le=100)] = 20
    ) -> dict[str, Any]:
        return query_summary(item_id, q, limit)

    @typed.post("/t/items")
    async def t_item(item: Item) -> dict[str, Any]:
        return item_summary(item.name, item.price, item.quantity, item.tags, item.in_stock)

    @typed.post("/t/orders")
    async def t_order(order: Order) -> dict[str, Any]:
        lines = [(line.quantity, line.price) for line in order.lines]
        return order_summary(order.id, order.customer.name, lines)

    @typed.get("/u/items/{item_id:int}")
    async def u_query(request: Request) -> dict[str, Any]:
        args = request.query_params
        return query_summary(request.path_params["item_id"], args["q"], int(args.get("limit", 20)))

    @typed.post("/u/items")
    async def u_item(request: Request) -> Any:
        data = await request.json()
        try:
            return item_summary(**data)
        except (KeyError, TypeError, ValueError):
            return JSONResponse(UNTYPED_INVALID, 422)

    @typed.post("/u/orders")
    async def u_order(request: Request) -> dict[str, Any]:
        data = await request.json()
        lines = [(line["quantity"], line["price"]) for line in data["lines"]]
        return order_summary(data["id"], data["customer"]["name"], lines)

    return typed
