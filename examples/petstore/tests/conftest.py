"""Fixtures for the pet store's tests: a fresh app, with an empty store, for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.petstore.app import create_app
from microasgi import MicroASGI
from microasgi.testing import TestClient


@pytest.fixture
def app() -> MicroASGI:
    """The pet store in testing mode, every return value checked against its type."""
    app = create_app()
    app.config.update(TESTING=True, RESPONSE_VALIDATION="always")
    return app


@pytest.fixture
def client(app: MicroASGI) -> Iterator[TestClient]:
    client = app.test_client()
    yield client
    client.close()


@pytest.fixture
def rex(client: TestClient) -> dict[str, object]:
    """A pet already in the store."""
    response = client.post("/pets", json={"name": "Rex", "tag": "dog"})
    assert response.status_code == 201
    return response.get_json()  # type: ignore[no-any-return]
