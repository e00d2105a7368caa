"""The API spec: app.openapi(), its route at OPENAPI_URL, and `microasgi openapi`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pydantic
import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import Mount

from microasgi import (
    MicroASGI,
)
from microasgi.cli import cli
from microasgi.typed import FastAPIFormatter, OpenAPIError
from microasgi.views import MethodView
from tests.apps.kitchen_sink import Pet, Tag, kitchen_sink


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return kitchen_sink().openapi()


def operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: {**op, "path": path, "method": method}
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }


def test_kitchen_sink_spec_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    assert spec["info"] == {"title": "kitchen", "version": "0.1.0"}
    validate(spec)
    json.dumps(spec)  # plain JSON all through


def test_operations_ids_tags_and_docstrings(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert set(ops) == {
        "get_pet",
        "create_pet",
        "put_owner",
        "add_address",
        "add_vet",
        "plant",
        "numbers",
        "adopt",
        "echo",
        "upload",
        "login",
        "settings",
        "plain_get",
        "plain_post",
        "search",
        "items_get",
        "items_post",
        "shop.get_toy",
        "shop.admin.delete_toy",
        "shop.admin.basket_get",
        "shop.admin.basket_put",
    }
    assert ops["get_pet"]["summary"] == "Get a pet."
    assert ops["get_pet"]["description"].startswith("The first docstring line")
    assert "summary" not in ops["create_pet"]
    assert ops["items_get"]["summary"] == "List items."
    assert ops["items_get"]["description"] == "Paged."
    assert ops["items_post"]["summary"] == "Create an item."
    assert ops["shop.get_toy"]["tags"] == ["shop"]
    assert ops["shop.admin.delete_toy"]["tags"] == ["shop.admin"]
    assert "tags" not in ops["get_pet"]
    assert spec["tags"] == [{"name": "shop"}, {"name": "shop.admin"}]
    assert ops["plain_get"]["path"] == "/plain/{kind}/{ref}"
    assert ops["shop.admin.delete_toy"]["path"] == "/shop/admin/toys/{toy_id}"
    assert "/hidden" not in spec["paths"]


def test_parameters_from_every_place(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    params = {p["name"]: p for p in ops["get_pet"]["parameters"]}
    assert params["pet_id"] == {
        "name": "pet_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    assert params["fields"]["in"] == "query"
    assert params["fields"]["schema"] == {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
    }
    assert params["X-Trace"]["in"] == "header"
    assert params["X-Trace"]["schema"]["examples"] == ["abc"]
    assert params["theme"] == {
        "name": "theme",
        "in": "cookie",
        "schema": {"type": "string", "default": "light"},
    }
    search = {p["name"]: p for p in ops["search"]["parameters"]}
    assert search["q"]["required"] is True
    assert search["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 10,
    }
    plain = {p["name"]: p["schema"] for p in ops["plain_post"]["parameters"]}
    assert plain == {
        "kind": {"type": "string", "enum": ["a", "b"]},
        "ref": {"type": "string", "format": "uuid"},
    }
    assert ops["items_get"]["parameters"][0]["description"] == "Page, from 1"


def test_bodies_of_every_model_kind(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    schemas = spec["components"]["schemas"]

    def body(op: str) -> Any:
        return ops[op]["requestBody"]["content"]["application/json"]["schema"]

    assert body("create_pet") == {"$ref": "#/components/schemas/PetIn"}
    assert body("put_owner") == {"$ref": "#/components/schemas/Owner"}
    assert body("add_address") == {"$ref": "#/components/schemas/Address"}
    assert body("add_vet") == {"$ref": "#/components/schemas/Vet"}
    assert body("items_post") == {"$ref": "#/components/schemas/Toy"}
    assert body("numbers") == {"type": "array", "items": {"type": "integer"}}
    assert ops["numbers"]["requestBody"]["description"] == "Numbers"
    assert schemas["Node"]["properties"]["children"]["items"] == {
        "$ref": "#/components/schemas/Node"
    }
    assert schemas["PetIn"]["properties"]["tags"]["items"] == {"$ref": "#/components/schemas/Tag"}
    assert schemas["PetIn"]["properties"]["name"]["examples"] == ["Rex"]
    # One schema per model: no Input/Output split when the two are the same.
    assert not [name for name in schemas if name.endswith(("-Input", "-Output"))]
    assert ops["add_address"]["parameters"][0]["name"] == "dry"


def test_form_and_file_bodies(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    upload = ops["upload"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["required"] == ["title"]
    assert upload["properties"]["file"]["format"] == "binary"
    assert upload["properties"]["extras"]["items"] == {"type": "string", "format": "binary"}
    login = ops["login"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert login["required"] == ["user", "password"]


def test_responses(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    get_pet = ops["get_pet"]["responses"]
    assert set(get_pet) == {"200", "404", "422"}
    assert get_pet["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Pet"
    }
    assert get_pet["404"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert get_pet["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert set(ops["create_pet"]["responses"]) == {"201", "400", "401", "415", "422"}
    # A form: no JSON errors, but the form parser's 400 for a body it cannot read.
    assert set(ops["upload"]["responses"]) == {"200", "400", "422"}
    assert ops["login"]["responses"]["400"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    unnamed = b'--b\r\nContent-Disposition: form-data; name="x\\"\r\n\r\n1\r\n--b--\r\n'
    answer = (
        kitchen_sink()
        .test_client()
        .post("/login", data=unnamed, content_type="multipart/form-data; boundary=b")
    )
    assert (answer.status_code, answer.mimetype) == (400, "text/html")
    not_found = {
        "description": "Not Found",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    assert ops["shop.admin.delete_toy"]["responses"] == {
        "204": {"description": "No Content"},
        "404": not_found,
    }
    # A plain Flask view: its return annotation (-> str) is what is known of its answer.
    html = {"text/html": {"schema": {"type": "string"}}}
    assert ops["plain_get"]["responses"] == {
        "200": {"description": "OK", "content": html},
        "404": not_found,
    }
    assert ops["login"]["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    tree = ops["plant"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert tree == {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]}


def test_a_path_variable_documents_the_routers_404(spec: dict[str, Any]) -> None:
    # /pets/x matches no route (<int:pet_id>): the router's 404 is an HTML page, beside
    # the 404 problem the view declares; a route without variables has no 404.
    ops = operations(spec)
    assert ops["get_pet"]["responses"]["404"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
        "text/html": {"schema": {"type": "string"}},
    }
    assert "404" not in ops["search"]["responses"]
    client = kitchen_sink().test_client()
    assert client.get("/pets/x").status_code == 404
    assert client.get("/pets/x").mimetype == "text/html"


def test_plain_views_document_their_return_annotation() -> None:
    app = MicroASGI(__name__)

    @app.route("/data")
    def data() -> dict[str, int]:
        return {"a": 1}

    @app.route("/anything")
    def anything():  # type: ignore[no-untyped-def]
        return "x"

    @app.route("/unreadable")
    def unreadable() -> OnlyForTypeCheckers:  # type: ignore[name-defined]  # noqa: F821
        return "x"

    class Items(MethodView):
        def get(self) -> list[int]:
            return [1]

    app.add_url_rule("/items", view_func=Items.as_view("items"))
    ops = operations(app.openapi())
    assert ops["data"]["responses"]["200"]["content"] == {
        "application/json": {
            "schema": {"type": "object", "additionalProperties": {"type": "integer"}}
        }
    }
    assert ops["items"]["responses"]["200"]["content"] == {
        "application/json": {"schema": {"type": "array", "items": {"type": "integer"}}}
    }
    assert ops["anything"]["responses"] == {"200": {"description": "OK"}}
    assert ops["unreadable"]["responses"] == {"200": {"description": "OK"}}


def test_security_app_blueprint_and_route(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert spec["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert "security" not in spec
    assert ops["create_pet"]["security"] == [{"bearer": []}]
    assert ops["shop.get_toy"]["security"] == [{"bearer": []}]  # the blueprint's
    assert ops["shop.admin.delete_toy"]["security"] == []  # the route's: public
    assert "security" not in ops["get_pet"]


def test_app_security_and_unknown_scheme() -> None:
    app = MicroASGI("secure", static_folder=None)
    app.security_schemes = {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
    app.security = ["key"]

    @app.get("/a", security=[{"oauth": ["read"]}])
    async def a() -> str:
        return "a"

    with pytest.raises(OpenAPIError, match=r"'oauth'.*declared: key"):
        app.openapi()
    app2 = MicroASGI("secure2", static_folder=None)
    app2.security_schemes = app.security_schemes
    app2.security = "key"
    assert app2.openapi()["security"] == [{"key": []}]


def test_same_operations_from_route_get_and_method_view() -> None:
    def make(kind: str) -> dict[str, Any]:
        app = MicroASGI("same", static_folder=None)

        async def show(pet_id: int, q: str | None = None) -> Pet:
            """Show."""
            return Pet(id=pet_id, name="x")

        if kind == "route":
            app.route("/p/<int:pet_id>", methods=["GET"])(show)
        elif kind == "get":
            app.get("/p/<int:pet_id>")(show)
        else:

            class Show(MethodView):
                get = staticmethod(show)

            app.add_url_rule("/p/<int:pet_id>", view_func=Show.as_view("show"))
        return app.openapi()

    assert make("route") == make("get") == make("class")


class Account(pydantic.BaseModel):
    name: str

    @pydantic.computed_field  # type: ignore[prop-decorator]
    @property
    def upper(self) -> str:
        return self.name.upper()


def _other_tag() -> type:
    class Tag(msgspec.Struct):
        label: int

    return Tag


OtherTag = _other_tag()


def test_pydantic_input_output_split_only_when_they_differ() -> None:
    app = MicroASGI("split", static_folder=None)

    @app.post("/accounts")
    async def create(account: Account) -> Account:
        return account

    spec = app.openapi()
    validate(spec)
    assert {"Account-Input", "Account-Output"} <= set(spec["components"]["schemas"])


def test_component_name_collision_is_an_error() -> None:
    app = MicroASGI("clash", static_folder=None)

    @app.post("/a")
    async def a(tag: Tag) -> Tag:
        return tag

    @app.post("/b")
    async def b(tag: OtherTag) -> str:  # type: ignore[valid-type]
        return "b"

    with pytest.raises(OpenAPIError, match="Two models are named 'Tag'"):
        app.openapi()


def test_replaced_formatter_changes_the_error_schema() -> None:
    app = MicroASGI("fastapi-like", static_folder=None)
    app.problem_formatter = FastAPIFormatter()

    @app.get("/q")
    async def q(n: int) -> str:
        return str(n)

    spec = app.openapi()
    validate(spec)
    error = spec["paths"]["/q"]["get"]["responses"]["422"]["content"]["application/json"]
    assert error["schema"] == {"$ref": "#/components/schemas/_FastAPIDetail"}
    assert "detail" in spec["components"]["schemas"]["_FastAPIDetail"]["properties"]


def test_config_title_version_description() -> None:
    app = MicroASGI("named", static_folder=None)
    app.config.update(API_TITLE="Pets", API_VERSION="2.1", API_DESCRIPTION="All the pets.")
    assert app.openapi()["info"] == {
        "title": "Pets",
        "version": "2.1",
        "description": "All the pets.",
    }
    assert app.openapi(root_path="")["servers"] == [{"url": "/"}]


# -- served ------------------------------------------------------------------------------


def test_served_at_openapi_json_with_servers_from_root_path() -> None:
    app = kitchen_sink()
    client = app.test_client()
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    served = response.get_json()
    assert served["servers"] == [{"url": "/"}]
    assert {k: v for k, v in served.items() if k != "servers"} == app.openapi()
    assert "/openapi.json" not in served["paths"]
    assert client.get("/openapi.json").data == response.data  # kept as bytes


async def test_mounted_under_api_in_starlette() -> None:
    app = kitchen_sink()
    outer = Starlette(routes=[Mount("/api", app=app)])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        spec = (await client.get("/api/openapi.json")).json()
        assert spec["servers"] == [{"url": "/api"}]
        assert (await client.get("/api/pets/3")).json()["id"] == 3
    direct = app.test_client().get("/openapi.json").get_json()
    assert direct["servers"] == [{"url": "/"}]


def test_openapi_url_none_turns_it_off() -> None:
    app = kitchen_sink()
    app.config["OPENAPI_URL"] = None
    assert app.test_client().get("/openapi.json").status_code == 404


def test_openapi_url_elsewhere() -> None:
    app = kitchen_sink()
    app.config["OPENAPI_URL"] = "/spec/v1.json"
    client = app.test_client()
    assert client.get("/spec/v1.json").get_json()["openapi"] == "3.1.0"
    assert client.get("/openapi.json").status_code == 404


def test_a_user_route_at_the_same_path_wins() -> None:
    app = kitchen_sink()

    @app.get("/openapi.json")
    async def mine() -> dict[str, str]:
        return {"mine": "yes"}

    assert app.test_client().get("/openapi.json").get_json() == {"mine": "yes"}
    assert app.openapi()["paths"]["/openapi.json"]["get"]["operationId"] == "mine"


def test_a_thousand_routes() -> None:
    app = MicroASGI("big", static_folder=None)
    for i in range(1000):

        async def view(item_id: int, q: str | None = None) -> Pet:
            return Pet(id=item_id, name="x")

        app.add_url_rule(f"/r{i}/<int:item_id>", f"view{i}", view, methods=["GET"])
    spec = app.openapi()
    assert sum(len(item) for item in spec["paths"].values()) == 1000
    assert (
        len({op["operationId"] for item in spec["paths"].values() for op in item.values()}) == 1000
    )


# -- the command -------------------------------------------------------------------------


def run_cli(app: MicroASGI, *args: str) -> Any:
    return app.test_cli_runner().invoke(cli, ["openapi", *args])


def test_cli_prints_the_spec() -> None:
    app = kitchen_sink()
    result = run_cli(app)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == app.openapi()


def test_cli_output_then_check(tmp_path: Path) -> None:
    app = kitchen_sink()
    target = tmp_path / "openapi.json"
    assert run_cli(app, "--output", str(target)).exit_code == 0
    assert json.loads(target.read_text()) == app.openapi()
    ok = run_cli(app, "--check", str(target))
    assert ok.exit_code == 0, ok.output
    # Formatting is not a change; content is.
    target.write_text(json.dumps(app.openapi()))
    assert run_cli(app, "--check", str(target)).exit_code == 0

    @app.get("/new")
    async def new(n: int) -> str:
        return "new"

    stale = run_cli(app, "--check", str(target))
    assert stale.exit_code == 1
    assert '+    "/new": {' in stale.stderr
    assert f"microasgi openapi --output {target}" in stale.stderr
    assert run_cli(app, "--check", str(target), "--output", str(target)).exit_code == 2
    target.write_text("{not json")
    broken = run_cli(app, "--check", str(target))
    assert broken.exit_code == 1
    assert "not readable JSON" in broken.stderr


def test_cli_yaml(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    app = kitchen_sink()
    target = tmp_path / "openapi.yaml"
    assert run_cli(app, "--yaml", "--output", str(target)).exit_code == 0
    assert yaml.safe_load(target.read_text()) == app.openapi()
    assert target.read_text().startswith("openapi: 3.1.0\n")
    assert run_cli(app, "--check", str(target)).exit_code == 0  # YAML by the suffix


def test_cli_yaml_without_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # an import of it fails
    result = run_cli(kitchen_sink(), "--yaml")
    assert result.exit_code == 2
    assert "--yaml needs PyYAML" in result.output
