"""Fixtures for the blog's tests: a fresh app and database for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.blog import create_app
from examples.blog.db import get_db, init_db
from microasgi import Flask
from microasgi.testing import CliRunner, TestClient, TestResponse

DATA_SQL = (Path(__file__).parent / "data.sql").read_text("utf8")


@pytest.fixture(autouse=True)
def instance_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every app the tests create keeps its instance folder in a temporary folder,
    and reads no configuration from the environment the tests run in."""
    for name in list(os.environ):
        if name.startswith("MICROASGI_"):
            monkeypatch.delenv(name)
    path = tmp_path / "instance"
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app in testing mode, its database created and filled with data.sql."""
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "test.sqlite")})

    with app.app_context():
        init_db()
        get_db().executescript(DATA_SQL)

    yield app


@pytest.fixture
def client(app: Flask) -> Iterator[TestClient]:
    client = app.test_client()
    yield client
    client.close()


@pytest.fixture
def runner(app: Flask) -> CliRunner:
    return app.test_cli_runner()  # type: ignore[no-any-return]


class AuthActions:
    """Log in and out through the client, as a browser would."""

    def __init__(self, client: TestClient) -> None:
        self._client = client

    def login(self, username: str = "test", password: str = "test") -> TestResponse:
        data = {"username": username, "password": password}
        response: TestResponse = self._client.post("/auth/login", data=data)
        return response

    def logout(self) -> TestResponse:
        response: TestResponse = self._client.post("/auth/logout")
        return response


@pytest.fixture
def auth(client: TestClient) -> AuthActions:
    return AuthActions(client)
