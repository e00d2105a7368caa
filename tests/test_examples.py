"""The examples work as their docstrings say."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.hello.app import GREETINGS, app
from microasgi.testing import TestClient


@pytest.fixture
def hello() -> Iterator[TestClient]:
    saved = dict(GREETINGS)
    client = app.test_client()
    yield client
    client.close()
    GREETINGS.clear()
    GREETINGS.update(saved)


def test_index_links_to_the_other_views(hello: TestClient) -> None:
    response = hello.get("/")
    assert response.status_code == 200
    assert '<a href="/greetings/2">' in response.text
    assert '<a href="/sync">' in response.text


def test_greetings_json_and_404(hello: TestClient) -> None:
    assert hello.get("/greetings/2").json == {"id": 2, "text": "Bonjour"}
    missing = hello.get("/greetings/99")
    assert missing.status_code == 404
    assert "No greeting 99." in missing.text


def test_add_greeting_validates_its_body(hello: TestClient) -> None:
    created = hello.post("/greetings", json={"text": "Hallo"})
    assert created.status_code == 201
    assert created.json == {"id": 4, "text": "Hallo"}
    assert hello.get("/greetings/4").json["text"] == "Hallo"
    assert hello.post("/greetings", json={"text": 5}).status_code == 400
    assert hello.post("/greetings", data="x=1").status_code == 415


def test_sync_view_and_stream(hello: TestClient) -> None:
    assert hello.get("/sync?name=ada").json == {"kind": "sync", "name": "ada"}
    assert hello.get("/stream").text == "0\n1\n2\n3\n4\n"
