"""The core scenarios on trio as on asyncio, under the async test client.

anyio is what microasgi speaks, so an app runs on either library: sync and async
views, preloaded and streamed bodies both ways, streamed responses, websockets,
lifespan, and a mounted WSGI app. Each test runs its scenario with
``anyio.run(..., backend=...)`` for both libraries (a plain function, so neither
pytest plugin has to own the loop). ``hypercorn --worker-class trio`` serves the
same kinds of request in tests/test_servers.py.
"""

from __future__ import annotations

import io
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest
import sniffio

from microasgi import MicroASGI, WSGIApp, abort, g, request, websocket
from microasgi.testing import AsyncTestClient, WebsocketDenied

BACKENDS = ["asyncio", "trio"]


def make_app() -> tuple[MicroASGI, list[str]]:
    app = MicroASGI(__name__, static_folder=None)
    app.config.update(TESTING=True, BODY_MEMORY_LIMIT=1024)  # larger bodies spool to disk
    events: list[str] = []

    @app.before_serving
    async def up() -> None:
        events.append(f"up on {sniffio.current_async_library()}")

    @app.after_serving
    def down() -> None:
        events.append("down")

    @app.get("/async")
    async def async_view() -> dict[str, str]:
        await anyio.sleep(0)
        return {"loop": sniffio.current_async_library()}

    @app.get("/sync/<name>")
    def sync_view(name: str) -> dict[str, str]:
        g.name = name
        return {"name": name, "thread": threading.current_thread().name}

    @app.teardown_request
    def teardown(error: BaseException | None) -> None:
        if "name" in g:
            events.append(f"teardown {g.name} in {threading.current_thread().name}")

    @app.post("/preloaded/async")
    async def preloaded_async() -> dict[str, object]:
        return {"size": len(request.get_data()), "form": request.form.to_dict()}

    @app.post("/preloaded/sync")
    def preloaded_sync() -> dict[str, object]:
        return {"size": len(request.get_data()), "files": sorted(request.files)}

    @app.post("/streamed/async", stream=True)
    async def streamed_async() -> dict[str, int]:
        size = 0
        async for chunk in request.stream:
            size += len(chunk)
        return {"size": size}

    @app.post("/streamed/sync", stream=True)
    def streamed_sync() -> dict[str, int]:
        size = 0
        while chunk := request.stream.read(1000):
            size += len(chunk)
        return {"size": size}

    @app.get("/generated/sync")
    def generated_sync() -> Iterator[str]:
        def lines() -> Iterator[str]:
            for i in range(3):
                yield f"{request.path} {i}\n"

        return lines()

    @app.get("/generated/async")
    async def generated_async() -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                await anyio.sleep(0)
                yield f"{i};".encode()

        return chunks()

    @app.websocket("/ws")
    async def echo() -> None:
        await websocket.accept()
        async for message in websocket:
            await websocket.send(f"{sniffio.current_async_library()}: {message}")

    @app.before_websocket
    async def guard() -> None:
        if websocket.args.get("token") != "ok":
            abort(403)

    def legacy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"read ", str(len(body)).encode()]

    app.mount("/legacy", WSGIApp(legacy))
    return app, events


def run(backend: str, scenario: Callable[[AsyncTestClient, list[str]], Awaitable[None]]) -> None:
    app, events = make_app()

    async def main() -> None:
        async with app.async_test_client() as client:
            await scenario(client, events)
        assert events[0] == f"up on {backend}" and events[-1] == "down", events

    anyio.run(main, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_views(backend: str) -> None:
    async def scenario(client: AsyncTestClient, events: list[str]) -> None:
        assert (await client.get("/async")).json == {"loop": backend}
        first = (await client.get("/sync/one")).json
        assert first["name"] == "one"
        assert first["thread"].startswith("microasgi-"), "a sync view runs in a worker"
        # The client keeps the last request's context (``async with``, as Flask's
        # ``with client:``) until the next one: the teardown then runs, on the
        # thread the view ran on.
        await client.get("/async")
        assert events[-1] == f"teardown one in {first['thread']}"

    run(backend, scenario)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bodies(backend: str) -> None:
    big = b"z" * 200_000  # past BODY_MEMORY_LIMIT: spooled to a file

    async def scenario(client: AsyncTestClient, events: list[str]) -> None:
        response = await client.post("/preloaded/async", data={"a": "1", "b": "ü"})
        assert response.json["form"] == {"a": "1", "b": "ü"}
        upload = (io.BytesIO(big), "big.bin")
        response = await client.post("/preloaded/sync", data={"upload": upload, "x": "y"})
        assert response.json["files"] == ["upload"]
        assert response.json["size"] > len(big)
        for kind in ("async", "sync"):
            response = await client.post(f"/streamed/{kind}", data=big)
            assert response.json == {"size": len(big)}, kind

    run(backend, scenario)


@pytest.mark.parametrize("backend", BACKENDS)
def test_streamed_responses(backend: str) -> None:
    async def scenario(client: AsyncTestClient, events: list[str]) -> None:
        expected = "".join(f"/generated/sync {i}\n" for i in range(3))
        assert (await client.get("/generated/sync")).text == expected
        assert (await client.get("/generated/async")).text == "0;1;2;"

    run(backend, scenario)


@pytest.mark.parametrize("backend", BACKENDS)
def test_websockets(backend: str) -> None:
    async def scenario(client: AsyncTestClient, events: list[str]) -> None:
        async with client.websocket_connect("/ws?token=ok") as ws:
            await ws.send_text("hello")
            assert await ws.receive_text() == f"{backend}: hello"
        with pytest.raises(WebsocketDenied) as denied:
            async with client.websocket_connect("/ws"):
                pass  # pragma: no cover - refused
        assert denied.value.response.status_code == 403

    run(backend, scenario)


@pytest.mark.parametrize("backend", BACKENDS)
def test_mounted_wsgi_app(backend: str) -> None:
    async def scenario(client: AsyncTestClient, events: list[str]) -> None:
        response = await client.post("/legacy/upload", data=b"w" * 100_000)
        assert response.text == "read 100000"

    run(backend, scenario)
