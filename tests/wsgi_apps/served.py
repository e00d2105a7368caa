"""A plain WSGI app behind ``WSGIApp``, for the real-server tests in tests/test_wsgi.py."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from microasgi.wsgi import WSGIApp

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

STATE = {"closed": 0, "upload_errors": 0}


def forever() -> Iterator[bytes]:
    try:
        while True:
            yield b"z" * 1024
            time.sleep(0.01)
    finally:
        STATE["closed"] += 1


def wsgi_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/forever":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return forever()
    if path == "/upload":
        size = 0
        stream = environ["wsgi.input"]
        try:
            while chunk := stream.read(65536):
                size += len(chunk)
        except OSError:
            STATE["upload_errors"] += 1
            raise
        body = json.dumps({"size": size, "content_length": environ.get("CONTENT_LENGTH")})
    else:
        body = json.dumps({**STATE, "script_name": environ["SCRIPT_NAME"], "path": path})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]


app = WSGIApp(wsgi_app)
