"""Shared fixtures: a fresh app per test, and clients for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from microasgi import MicroASGI
from microasgi.testing import TestClient


@pytest.fixture
def app() -> MicroASGI:
    """A bare app in testing mode with a secret key (sessions work)."""
    app = MicroASGI("test_app", root_path="/tmp")
    app.config.update(TESTING=True, SECRET_KEY="test secret")
    return app


@pytest.fixture
def client(app: MicroASGI) -> Iterator[TestClient]:
    """The app's sync test client, closed after the test."""
    client = app.test_client()
    yield client
    client.close()
