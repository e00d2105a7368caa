"""The pet store's OpenAPI 3.1 document and its docs pages, at the root and mounted."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import httpx
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import Mount

from examples.petstore.app import create_app
from microasgi import MicroASGI
from microasgi.testing import TestClient

PROBLEM = {"$ref": "#/components/schemas/Problem"}
# What a docs page loads: its scripts, styles and icon (href/src), and the spec.
REFS = re.compile(r'(?:href|src)="([^"]+)"|new URL\("([^"]+)", document\.baseURI\)')


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }


def test_spec_is_valid_openapi_3_1(app: MicroASGI) -> None:
    spec = app.openapi()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["info"] == {
        "title": "Pet store",
        "version": "1.0.0",
        "description": "A small API written with microasgi's typed views.",
    }


def test_every_operation_is_documented_with_its_blueprint_tag(app: MicroASGI) -> None:
    found = {
        key: (operation["operationId"], operation["tags"], operation["summary"])
        for key, operation in operations(app.openapi()).items()
    }
    assert found == {
        ("/pets", "get"): ("pets.list_pets", ["pets"], "List pets."),
        ("/pets", "post"): ("pets.create_pet", ["pets"], "Add a pet."),
        ("/pets/{pet_id}", "get"): ("pets.get_pet", ["pets"], "Get a pet."),
        ("/pets/{pet_id}", "put"): ("pets.update_pet", ["pets"], "Replace a pet's fields."),
        ("/pets/{pet_id}", "delete"): ("pets.delete_pet", ["pets"], "Delete a pet."),
        ("/pets/{pet_id}/photo", "put"): (
            "pets.upload_photo",
            ["pets"],
            "Upload a pet's photo (a multipart form); it replaces the one before.",
        ),
        ("/pets/{pet_id}/photo", "get"): ("pets.get_photo", ["pets"], "Download a pet's photo."),
        ("/store/orders", "post"): ("store.place_order", ["store"], "Place an order for a pet."),
        ("/store/orders/{order_id}", "get"): ("store.get_order", ["store"], "Get an order."),
    }


def test_parameters_bodies_and_responses(app: MicroASGI) -> None:
    spec = app.openapi()
    ops = operations(spec)

    listing = ops["/pets", "get"]
    limit, offset, tag = listing["parameters"]
    assert limit == {
        "name": "limit",
        "in": "query",
        "description": "How many pets at most.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    }
    assert (offset["name"], offset["schema"]["minimum"]) == ("offset", 0)
    assert (tag["name"], tag["in"]) == ("tag", "query")
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Pet"},
    }

    create = ops["/pets", "post"]
    (header,) = create["parameters"]
    assert (header["name"].lower(), header["in"]) == ("idempotency-key", "header")
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PetIn"
    }
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Pet"
    }
    # A JSON body: its three errors, each a problem.
    for status in ("400", "415", "422"):
        assert create["responses"][status]["content"]["application/problem+json"]["schema"] == (
            PROBLEM
        )

    get = ops["/pets/{pet_id}", "get"]
    assert get["parameters"][0]["schema"] == {"type": "integer"}
    assert get["responses"]["404"]["content"]["application/problem+json"]["schema"] == PROBLEM
    assert set(ops["/pets/{pet_id}", "delete"]["responses"]) == {"204", "404"}

    upload = ops["/pets/{pet_id}/photo", "put"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["photo"]["format"] == "binary"
    assert form["required"] == ["photo"]
    assert set(upload["responses"]) == {"201", "400", "404", "415", "422"}

    schemas = spec["components"]["schemas"]
    assert set(schemas) == {"Pet", "PetIn", "Photo", "Order", "OrderIn", "Problem", "ProblemError"}
    assert schemas["PetIn"]["properties"]["name"]["minLength"] == 1
    assert schemas["OrderIn"]["properties"]["quantity"]["maximum"] == 10


def test_spec_is_served_with_servers_from_root_path(client: TestClient, app: MicroASGI) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    served = response.get_json()
    assert served.pop("servers") == [{"url": "/"}]
    assert served == app.openapi()


def load_page(client: TestClient, url: str) -> list[str]:
    """GET a docs page and everything it refers to, resolved as a browser would."""
    page = client.get(url)
    assert page.status_code == 200, url
    assert page.mimetype == "text/html"
    assert "<title>Pet store - API docs</title>" in page.text
    refs = [href or spec for href, spec in REFS.findall(page.text) if not href.startswith("data:")]
    assert refs
    for ref in refs:
        target = urljoin(f"http://localhost{url}", ref).removeprefix("http://localhost")
        assert client.get(target).status_code == 200, (url, ref)
    return refs


def test_docs_pages_and_their_assets_load(client: TestClient) -> None:
    swagger = load_page(client, "/docs")
    assert "openapi.json" in swagger
    assert any(ref.endswith("swagger-ui-bundle.js") for ref in swagger)
    redoc = load_page(client, "/redoc")
    assert any(ref.endswith("redoc.standalone.js") for ref in redoc)
    # Not operations of the API.
    assert not {"/docs", "/redoc", "/openapi.json"} & set(client.application.openapi()["paths"])


def test_docs_pages_can_be_turned_off(app: MicroASGI) -> None:
    app.config.update(DOCS_URL=None, REDOC_URL=None)
    client = app.test_client()
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


async def test_mounted_under_api_in_starlette() -> None:
    outer = Starlette(routes=[Mount("/api", app=create_app())])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        created = await client.post("/api/pets", json={"name": "Rex"})
        assert created.status_code == 201
        assert (await client.get("/api/pets/1")).json() == {"id": 1, "name": "Rex", "tag": None}
        missing = await client.get("/api/pets/2")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"

        spec = (await client.get("/api/openapi.json")).json()
        assert spec["servers"] == [{"url": "/api"}]
        assert "/pets/{pet_id}" in spec["paths"]  # paths stay relative to the server

        for url in ("/api/docs", "/api/redoc"):
            page = await client.get(url)
            assert page.status_code == 200
            for href, spec_ref in REFS.findall(page.text):
                ref = href or spec_ref
                if ref.startswith("data:"):
                    continue
                asset = await client.get(urljoin(str(page.url), ref))
                assert asset.status_code == 200, (url, ref)


def test_mounted_with_app_mount() -> None:
    site = MicroASGI(__name__)
    site.config.update(OPENAPI_URL=None)
    site.mount("/api", create_app())
    client = site.test_client()
    assert client.post("/api/pets", json={"name": "Rex"}).status_code == 201
    assert client.get("/api/openapi.json").get_json()["servers"] == [{"url": "/api"}]
    load_page(client, "/api/docs")
    assert client.get("/docs").status_code == 404
