"""The ways to serve the pet store that its module docstring gives."""

from __future__ import annotations

import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from examples.petstore.app import app
from tests.servers import Server, free_port

ROOT = Path(__file__).resolve().parents[3]


def test_python_dash_m_runs_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(type(app), "run", lambda self, *args, **kw: calls.append((self, args, kw)))
    runpy.run_module("examples.petstore", run_name="__main__")
    assert calls == [(app, (), {})]


@pytest.fixture
def server() -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "microasgi.cli", "--app", "examples.petstore.app:app"]
    command += ["run", "--port", str(port), "--log-level", "warning"]
    server = Server(command, port, env={"PYTHONPATH": str(ROOT)})
    try:
        server.wait_ready("/openapi.json")
        yield server
    finally:
        server.stop()


def test_microasgi_run_serves_the_api_and_its_docs(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        created = client.post("/pets", json={"name": "Rex", "tag": "dog"})
        assert created.status_code == 201
        assert client.get(f"/pets/{created.json()['id']}").json()["name"] == "Rex"
        invalid = client.post("/pets", json={"name": ""})
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        assert client.get("/openapi.json").json()["info"]["title"] == "Pet store"
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert docs.headers["content-type"].startswith("text/html")
