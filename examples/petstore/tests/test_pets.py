"""The pets: create, list, get, update, delete, photos; and every error, as problem details."""

from __future__ import annotations

import threading
from io import BytesIO
from typing import Any

from examples.petstore.app import PetIn, PetStore
from microasgi.testing import TestClient

PROBLEM = "application/problem+json"


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem details body of an error response, after checking its status and type."""
    assert response.status_code == status, response.data
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"] == "about:blank"
    return body


# -- happy paths ---------------------------------------------------------------------------


def test_create_then_get(client: TestClient, rex: dict[str, Any]) -> None:
    assert rex == {"id": 1, "name": "Rex", "tag": "dog"}
    response = client.get("/pets/1")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == rex


def test_tag_is_optional(client: TestClient) -> None:
    response = client.post("/pets", json={"name": "Tom"})
    assert response.status_code == 201
    assert response.get_json() == {"id": 1, "name": "Tom", "tag": None}


def test_list_filters_by_tag_and_pages(client: TestClient) -> None:
    for name, tag in [("Rex", "dog"), ("Tom", "cat"), ("Fido", "dog"), ("Lassie", "dog")]:
        assert client.post("/pets", json={"name": name, "tag": tag}).status_code == 201
    assert [p["name"] for p in client.get("/pets").get_json()] == ["Rex", "Tom", "Fido", "Lassie"]
    dogs = client.get("/pets", query_string={"tag": "dog", "limit": 2}).get_json()
    assert [p["name"] for p in dogs] == ["Rex", "Fido"]
    dogs = client.get("/pets", query_string={"tag": "dog", "limit": 2, "offset": 2}).get_json()
    assert [p["name"] for p in dogs] == ["Lassie"]
    assert client.get("/pets?tag=bird").get_json() == []


def test_update(client: TestClient, rex: dict[str, Any]) -> None:
    response = client.put("/pets/1", json={"name": "Rex II"})
    assert response.status_code == 200
    assert response.get_json() == {"id": 1, "name": "Rex II", "tag": None}
    assert client.get("/pets/1").get_json()["name"] == "Rex II"


def test_delete(client: TestClient, rex: dict[str, Any]) -> None:
    response = client.delete("/pets/1")
    assert response.status_code == 204
    assert response.data == b""
    problem(client.get("/pets/1"), 404)
    problem(client.delete("/pets/1"), 404)


def test_idempotency_key_header_gives_the_same_pet(client: TestClient) -> None:
    headers = {"Idempotency-Key": "rex-2024-01"}
    first = client.post("/pets", json={"name": "Rex"}, headers=headers)
    again = client.post("/pets", json={"name": "Rex"}, headers={"idempotency-key": "rex-2024-01"})
    other = client.post("/pets", json={"name": "Rex"}, headers={"Idempotency-Key": "rex-2024-02"})
    assert first.get_json() == again.get_json() == {"id": 1, "name": "Rex", "tag": None}
    assert other.get_json()["id"] == 2
    assert len(client.get("/pets").get_json()) == 2


def test_photo_upload_and_download(client: TestClient, rex: dict[str, Any]) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    response = client.put(
        "/pets/1/photo",
        data={"photo": (BytesIO(png), "rex.png", "image/png"), "caption": "At the beach"},
    )
    assert response.status_code == 201
    assert response.get_json() == {
        "pet_id": 1,
        "filename": "rex.png",
        "content_type": "image/png",
        "size": len(png),
        "caption": "At the beach",
    }
    photo = client.get("/pets/1/photo")
    assert photo.status_code == 200
    assert photo.mimetype == "image/png"
    assert photo.data == png


# -- errors ------------------------------------------------------------------------------


def test_unknown_pet_is_a_404_problem(client: TestClient) -> None:
    for method in ("get", "delete"):
        body = problem(getattr(client, method)("/pets/7"), 404)
        assert body == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "There is no pet 7.",
        }
    problem(client.put("/pets/7", json={"name": "Rex"}), 404)
    problem(client.get("/pets/7/photo"), 404)
    upload = {"photo": (BytesIO(b"x"), "a.png", "image/png")}
    problem(client.put("/pets/7/photo", data=upload), 404)


def test_invalid_body_is_a_422_problem(client: TestClient) -> None:
    response = client.post("/pets", json={"name": ""})
    assert problem(response, 422) == {
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "The request's parameters do not validate.",
        "errors": [
            {
                "in": "body",
                "loc": ["body", "name"],
                "pointer": "/name",
                "type": "value",
                "msg": "Expected `str` of length >= 1",
            }
        ],
    }
    body = problem(client.post("/pets", json={"name": "Rex", "tag": 5}), 422)
    assert body["errors"] == [
        {
            "in": "body",
            "loc": ["body", "tag"],
            "pointer": "/tag",
            "type": "type",
            "msg": "Expected `str | null`, got `int`",
        }
    ]
    assert client.get("/pets").get_json() == []


def test_every_failing_parameter_from_every_place_at_once(client: TestClient) -> None:
    response = client.post("/pets", json={"tag": "dog"}, headers={"Idempotency-Key": "short"})
    body = problem(response, 422)
    assert [(e["in"], e["loc"], e["type"]) for e in body["errors"]] == [
        ("header", ["header", "idempotency-key"], "value"),
        ("body", ["body", "name"], "missing"),
    ]
    body = problem(client.get("/pets?limit=0&offset=-1"), 422)
    assert body["errors"] == [
        {
            "in": "query",
            "loc": ["query", "limit"],
            "type": "value",
            "msg": "Expected `int` >= 1",
        },
        {
            "in": "query",
            "loc": ["query", "offset"],
            "type": "value",
            "msg": "Expected `int` >= 0",
        },
    ]
    assert client.get("/pets").get_json() == []


def test_missing_field_and_missing_body(client: TestClient) -> None:
    body = problem(client.post("/pets", json={"tag": "dog"}), 422)
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(["body", "name"], "missing")]
    body = problem(client.post("/pets"), 422)
    assert [(e["in"], e["type"]) for e in body["errors"]] == [("body", "missing")]


def test_invalid_query_parameters(client: TestClient) -> None:
    body = problem(client.get("/pets?limit=many"), 422)
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(["query", "limit"], "type")]
    assert problem(client.get("/pets?limit=101"), 422)["errors"][0]["msg"] == (
        "Expected `int` <= 100"
    )


def test_update_errors(client: TestClient, rex: dict[str, Any]) -> None:
    # A path variable that is not an int does not match the route at all: a 404.
    assert client.get("/pets/rex").status_code == 404
    body = problem(client.put("/pets/1", json={"name": "x" * 65}), 422)
    assert body["errors"][0]["msg"] == "Expected `str` of length <= 64"
    problem(client.put("/pets/1", data="name=Rex II"), 415)
    assert client.get("/pets/1").get_json() == rex


def test_malformed_json_is_a_400_problem(client: TestClient) -> None:
    response = client.post("/pets", data='{"name": "Rex"', content_type="application/json")
    body = problem(response, 400)
    assert body["title"] == "Bad Request"
    assert body["detail"].startswith("The body is not valid JSON")
    response = client.put("/pets/1", data='{"name": "Rex", ', content_type="application/json")
    problem(response, 400)


def test_wrong_content_type_is_a_415_problem(client: TestClient) -> None:
    body = problem(client.post("/pets", data={"name": "Rex"}), 415)
    assert body["title"] == "Unsupported Media Type"
    response = client.post("/pets", data='{"name": "Rex"}', content_type="text/plain")
    problem(response, 415)
    assert client.get("/pets").get_json() == []


def test_photo_errors(client: TestClient, rex: dict[str, Any]) -> None:
    text = {"photo": (BytesIO(b"hello"), "notes.txt", "text/plain")}
    body = problem(client.put("/pets/1/photo", data=text), 415)
    assert "not 'text/plain'" in body["detail"]
    body = problem(client.put("/pets/1/photo", data={"caption": "no file"}), 422)
    assert body["errors"] == [
        {
            "in": "file",
            "loc": ["file", "photo"],
            "type": "missing",
            "msg": "Field required",
        }
    ]
    problem(client.get("/pets/1/photo"), 404)


def test_the_store_is_safe_across_threads() -> None:
    store = PetStore()
    keys = [None, "k1", "k2"] * 100

    def add(key: str | None) -> None:
        store.add_pet(PetIn(name="Rex"), key)

    threads = [threading.Thread(target=add, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.pets) == 102
    assert sorted(store.pets) == list(range(1, 103))
