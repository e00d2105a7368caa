"""In-process throughput: call each app's ASGI callable directly in a loop.

No server and no sockets: this measures the framework alone. Apps are
interleaved round-robin over several rounds and the median is reported, so a
noisy neighbour on this shared machine skews every app alike.

    python -m benchmarks.inprocess [--rounds 5] [--seconds 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from microasgi import MicroASGI

ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def make_microasgi() -> MicroASGI:
    app = MicroASGI("bench")

    @app.get("/")
    async def plaintext() -> str:
        return "Hello, World!"

    @app.get("/json")
    async def json() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/users/<int:user_id>")
    async def user(user_id: int) -> str:
        return str(user_id)

    @app.get("/sync")
    def sync() -> str:
        return "Hello, World!"

    return app


def make_starlette() -> Starlette:
    async def plaintext(request: Any) -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    async def json(request: Any) -> JSONResponse:
        return JSONResponse({"message": "Hello, World!"})

    async def user(request: Any) -> PlainTextResponse:
        return PlainTextResponse(str(request.path_params["user_id"]))

    def sync(request: Any) -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    return Starlette(
        routes=[
            Route("/", plaintext),
            Route("/json", json),
            Route("/users/{user_id:int}", user),
            Route("/sync", sync),
        ]
    )


def scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
        "state": {},
    }


async def measure(app: ASGI, path: str, expected: bytes, seconds: float) -> float:
    """Requests per second over ``seconds``; every response's status and body are checked."""
    request_message = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request_message

    status: list[int] = []
    body: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        else:
            body.append(message.get("body", b""))

    count = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(100):
            status.clear()
            body.clear()
            await app(scope(path), receive, send)
            if status != [200] or b"".join(body) != expected:
                raise AssertionError(f"{path}: unexpected response {status} {body!r}")
        count += 100
    return count / (time.perf_counter() - start)


SCENARIOS = {
    "plaintext": ("/", b"Hello, World!"),
    "json": ("/json", None),
    "path-param": ("/users/42", b"42"),
    "sync view": ("/sync", b"Hello, World!"),
}


async def run(rounds: int, seconds: float) -> None:
    apps: dict[str, ASGI] = {"starlette": make_starlette(), "microasgi": make_microasgi()}
    json_body = b'{"message":"Hello, World!"}'
    json_bodies = {"starlette": json_body, "microasgi": json_body + b"\n"}
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for scenario, (path, expected) in SCENARIOS.items():
            for name, app in apps.items():
                body = expected if expected is not None else json_bodies[name]
                rps = await measure(app, path, body, seconds)
                results.setdefault((scenario, name), []).append(rps)
    print(f"{'scenario':<12} {'starlette':>12} {'microasgi':>12} {'ratio':>7}")
    for scenario in SCENARIOS:
        star = statistics.median(results[(scenario, "starlette")])
        ours = statistics.median(results[(scenario, "microasgi")])
        print(f"{scenario:<12} {star:>12,.0f} {ours:>12,.0f} {ours / star:>6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(run(args.rounds, args.seconds))


if __name__ == "__main__":
    main()
