"""The app tests/test_hostile_clients.py serves under uvicorn and attacks with raw sockets.

Its static folder (an 8 MiB file and a small one) is made by the test and named
by ``MICROASGI_TEST_STATIC``; ``SYNC_THREAD_LIMIT`` is 2, so a handful of
clients would take every slot if anything held one while waiting on them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

from microasgi import MicroASGI, WSGIApp, request, send_file

STATIC = os.environ.get("MICROASGI_TEST_STATIC", "static")

app = MicroASGI(__name__, static_folder=STATIC, static_url_path="/static")
app.config.update(SYNC_THREAD_LIMIT=2, BODY_MEMORY_LIMIT=64 * 1024, MAX_CONTENT_LENGTH=1024 * 1024)
TORN_DOWN: list[int] = []


@app.teardown_appcontext
def close_db(error: BaseException | None) -> None:
    # A sync teardown, as in Flask's tutorial: the request keeps its thread for it.
    TORN_DOWN.append(threading.get_ident())


@app.get("/send-big")
def send_big() -> object:
    return send_file(os.path.join(STATIC, "big.bin"))


@app.get("/sync-stream")
def sync_stream() -> Iterator[bytes]:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"s" * (128 * 1024)

    return chunks()


@app.get("/def")
def sync_view() -> str:
    return "def ok"


@app.get("/async")
async def async_view() -> str:
    return "async ok"


@app.post("/async-spool")
async def async_spool() -> dict[str, int]:
    return {"length": len(request.get_data())}


@app.post("/def-form")
def def_form() -> dict[str, int]:
    return {"fields": len(request.form)}


def _legacy(environ: dict[str, object], start_response: object) -> list[bytes]:
    body = environ["wsgi.input"].read()  # type: ignore[attr-defined]
    start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [b"legacy read %d" % len(body)]


app.mount("/legacy", WSGIApp(_legacy))
