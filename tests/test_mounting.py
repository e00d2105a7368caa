"""Mounted ASGI children, embedding in other stacks, lifespan forwarding, middleware."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route

from microasgi import MicroASGI, redirect, request, session, url_for
from microasgi.typing import Receive, Scope, Send


def starlette_child() -> Starlette:
    async def where(req: StarletteRequest) -> JSONResponse:
        return JSONResponse(
            {
                "path": req.scope["path"],
                "root_path": req.scope["root_path"],
                "url": str(req.url_for("where")),
            }
        )

    return Starlette(routes=[Route("/where", where, name="where")])


def make_parent() -> MicroASGI:
    app = MicroASGI("parent", static_folder=None)
    app.config["TESTING"] = True

    @app.get("/")
    async def home() -> str:
        return "home"

    @app.get("/api/native")
    async def native() -> str:
        return "a route beats the mount"

    return app


def test_starlette_child_gets_whole_path_and_extended_root_path() -> None:
    app = make_parent()
    app.mount("/api", starlette_child())
    client = app.test_client()
    assert client.get("/api/where").json == {
        "path": "/api/where",
        "root_path": "/api",
        "url": "http://localhost/api/where",
    }
    assert client.get("/api/native").text == "a route beats the mount"
    assert client.get("/").text == "home"
    assert client.get("/apiary").status_code == 404


def test_fastapi_child() -> None:
    api = FastAPI()

    @api.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    app = make_parent()
    app.mount("/fast", api)
    client = app.test_client()
    assert client.get("/fast/items/3").json == {"item_id": 3}
    assert client.get("/fast/items/x").status_code == 422
    assert client.get("/fast/openapi.json").json["paths"].keys() == {"/items/{item_id}"}


def test_microasgi_child_and_nested_prefixes() -> None:
    child = MicroASGI("child", static_folder=None)

    @child.get("/hello/<name>")
    async def hello(name: str) -> dict[str, str]:
        return {"name": name, "url": url_for("hello", name=name), "root": request.script_root}

    @child.get("/go")
    async def go() -> Any:
        return redirect(url_for("hello", name="x"))

    app = make_parent()
    app.mount("/child", child)
    client = app.test_client(base_url="http://localhost/outer")
    assert client.get("/child/hello/ada").json == {
        "name": "ada",
        "url": "/outer/child/hello/ada",
        "root": "/outer/child",
    }
    assert client.get("/child/go").headers["location"] == "/outer/child/hello/x"


def test_longest_prefix_wins_and_root_mount_is_a_fallback() -> None:
    async def answer(text: str, scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(f"{text} {scope['root_path']}")(scope, receive, send)

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        await answer("outer", scope, receive, send)

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await answer("inner", scope, receive, send)

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        await answer("fallback", scope, receive, send)

    app = make_parent()
    app.mount("/a", outer)
    app.mount("/a/b/", inner)
    app.mount("/", fallback)
    client = app.test_client()
    assert client.get("/a/x").text == "outer /a"
    assert client.get("/a/b/x").text == "inner /a/b"
    assert client.get("/a/bc").text == "outer /a"
    assert client.get("/other").text == "fallback "
    assert client.get("/").text == "home"


def test_mount_argument_checks() -> None:
    app = make_parent()
    with pytest.raises(ValueError, match="must start with '/'"):
        app.mount("api", starlette_child())
    app.mount("/api", starlette_child())
    with pytest.raises(ValueError, match="already mounted"):
        app.mount("/api/", starlette_child())


def test_lifespan_reaches_children_in_order() -> None:
    events: list[str] = []
    child = MicroASGI("child", static_folder=None)

    @child.before_serving
    async def child_up() -> None:
        events.append("child up")

    @child.after_serving
    async def child_down() -> None:
        events.append("child down")

    app = make_parent()
    app.mount("/child", child)

    @app.before_serving
    async def up() -> None:
        events.append("parent up")

    @app.after_serving
    async def down() -> None:
        events.append("parent down")

    with app.test_client() as client:
        assert client.get("/").text == "home"
        assert events == ["child up", "parent up"]
    assert events == ["child up", "parent up", "parent down", "child down"]


def test_child_startup_failure_fails_the_parent() -> None:
    child = MicroASGI("child", static_folder=None)

    @child.before_serving
    def broken() -> None:
        raise RuntimeError("child database unreachable")

    app = make_parent()
    app.mount("/child", child)
    with pytest.raises(RuntimeError, match="child database unreachable"), app.test_client():
        pass


def test_child_without_lifespan_is_tolerated() -> None:
    async def no_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http")
        await PlainTextResponse("plain")(scope, receive, send)

    app = make_parent()
    app.mount("/plain", no_lifespan)
    with app.test_client() as client:
        assert client.get("/plain/x").text == "plain"


async def test_embedded_in_starlette_and_fastapi() -> None:
    inner = MicroASGI("inner", static_folder=None)
    inner.config["SECRET_KEY"] = "s"
    started: list[str] = []

    @inner.before_serving
    def start() -> None:
        started.append("started")

    @inner.get("/login/<name>")
    def login(name: str) -> Any:
        session["user"] = name
        return redirect(url_for("me"))

    @inner.get("/me")
    def me() -> dict[str, Any]:
        return {"user": session.get("user"), "url": url_for("me", _external=True)}

    @inner.get("/dir/")
    async def directory() -> str:
        return "dir"

    # No lifespan reaches an app mounted in Starlette: before_serving runs
    # before the first request instead, once.
    outer = Starlette(routes=[Mount("/sub", app=inner)])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/sub/login/ada")
        assert response.headers["location"] == "/sub/me"
        assert (await client.get("/sub/me")).json() == {
            "user": "ada",
            "url": "http://testserver/sub/me",
        }
        assert (await client.get("/sub/dir")).headers["location"] == "/sub/dir/"
    assert started == ["started"]

    api = FastAPI()
    api.mount("/legacy", inner)
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/legacy/dir/")).text == "dir"
    assert started == ["started"]


def test_add_middleware_and_asgi_app_wrapping() -> None:
    app = make_parent()

    @app.get("/big")
    async def big() -> str:
        return "x" * 2000

    app.add_middleware(GZipMiddleware, minimum_size=100)
    client = app.test_client()
    response = client.get("/big", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(response.data) == b"x" * 2000  # (Werkzeug's client leaves it)
    assert "content-encoding" not in client.get("/").headers
