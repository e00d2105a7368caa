"""The store blueprint's orders."""

from __future__ import annotations

from typing import Any

from examples.petstore.tests.test_pets import problem
from microasgi.testing import TestClient


def test_place_and_get_an_order(client: TestClient, rex: dict[str, Any]) -> None:
    response = client.post("/store/orders", json={"pet_id": rex["id"], "quantity": 2})
    assert response.status_code == 201
    assert response.get_json() == {"id": 1, "pet_id": 1, "quantity": 2}
    assert client.get("/store/orders/1").get_json() == response.get_json()
    second = client.post("/store/orders", json={"pet_id": rex["id"]})
    assert second.get_json() == {"id": 2, "pet_id": 1, "quantity": 1}


def test_order_errors(client: TestClient, rex: dict[str, Any]) -> None:
    body = problem(client.post("/store/orders", json={"pet_id": 9}), 404)
    assert body["detail"] == "There is no pet 9."
    body = problem(client.post("/store/orders", json={"pet_id": 1, "quantity": 11}), 422)
    assert body["errors"][0]["pointer"] == "/quantity"
    body = problem(client.post("/store/orders", json={"pet_id": "one"}), 422)
    assert body["errors"][0]["msg"] == "Expected `int`, got `str`"
    problem(client.post("/store/orders", data="pet_id=1"), 415)
    problem(client.post("/store/orders", data="{", content_type="application/json"), 400)
    assert problem(client.get("/store/orders/1"), 404)["detail"] == "There is no order 1."
