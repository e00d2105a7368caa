"""Typed views (microasgi.typed): binding, validation, problem details, return values."""

# No `from __future__ import annotations`: the tests build views whose annotations
# name local variables (each model kind in turn).
import dataclasses
import datetime
import enum
import subprocess
import sys
import threading
import uuid
from typing import Annotated, Any, Literal, TypedDict

import attrs
import msgspec
import pydantic
import pytest

from microasgi import Blueprint, Body, Cookie, File, Form, Header, MicroASGI, Problem, Query, abort
from microasgi.typed import FastAPIFormatter, ProblemFormatter
from microasgi.views import MethodView

# -- models of every kind ---------------------------------------------------------------


class PetStruct(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    age: int = 0


@dataclasses.dataclass
class PetData:
    name: str
    age: int = 0


class PetDict(TypedDict):
    name: str
    age: int


@attrs.define
class PetAttrs:
    name: str
    age: int = 0


class PetPydantic(pydantic.BaseModel):
    name: str = pydantic.Field(min_length=1)
    age: int = 0


class Node(msgspec.Struct):
    value: int
    children: list["Node"] = []


class Color(enum.Enum):
    red = "red"
    blue = "blue"


MODELS = [PetStruct, PetData, PetDict, PetAttrs, PetPydantic]


def as_dict(pet: Any) -> dict[str, Any]:
    if isinstance(pet, dict):
        return pet
    if isinstance(pet, pydantic.BaseModel):
        return pet.model_dump()
    return {"name": pet.name, "age": pet.age}


@pytest.fixture
def app() -> MicroASGI:
    return MicroASGI(__name__)


# -- binding: every place, sync and async -------------------------------------------------


@pytest.mark.parametrize("sync", [True, False])
def test_every_place_binds(app: MicroASGI, sync: bool) -> None:
    def view(
        item_id: int,
        q: str,
        page: int = 1,
        tags: Annotated[list[str], Query(alias="tag")] = [],  # noqa: B006
        trace: Annotated[str | None, Header("X-Trace")] = None,
        user_agent: Annotated[str, Header()] = "",
        theme: Annotated[str, Cookie()] = "light",
    ) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "q": q,
            "page": page,
            "tags": tags,
            "trace": trace,
            "ua": user_agent,
            "theme": theme,
            "thread": threading.current_thread().name,
        }

    if not sync:
        sync_view = view

        async def view(**kwargs: Any) -> dict[str, Any]:  # type: ignore[no-redef]
            return sync_view(**kwargs)

        view.__signature__ = __import__("inspect").signature(sync_view)  # type: ignore[attr-defined]
        view.__annotations__ = sync_view.__annotations__
    app.add_url_rule("/items/<int:item_id>", view_func=view)
    client = app.test_client()
    client.set_cookie("theme", "dark")
    r = client.get(
        "/items/7?q=x&page=2&tag=a&tag=b", headers={"x-trace": "t1", "User-Agent": "ua/1"}
    )
    assert r.status_code == 200, r.data
    body = r.get_json()
    del body["thread"]
    assert body == {
        "item_id": 7,
        "q": "x",
        "page": 2,
        "tags": ["a", "b"],
        "trace": "t1",
        "ua": "ua/1",
        "theme": "dark",
    }


def test_scalar_types_convert(app: MicroASGI) -> None:
    @app.get("/t")
    async def types(
        f: float,
        b: bool,
        u: uuid.UUID,
        when: datetime.datetime,
        color: Color,
        mode: Literal["a", "b"],
        maybe: int | None = None,
    ) -> dict[str, Any]:
        return {
            "f": f,
            "b": b,
            "u": u.hex,
            "year": when.year,
            "color": color.value,
            "mode": mode,
            "maybe": maybe,
        }

    u = uuid.uuid4()
    r = app.test_client().get(f"/t?f=1.5&b=true&u={u}&when=2024-03-01T10:00:00&color=blue&mode=b")
    assert r.get_json() == {
        "f": 1.5,
        "b": True,
        "u": u.hex,
        "year": 2024,
        "color": "blue",
        "mode": "b",
        "maybe": None,
    }


def test_errors_from_every_place_at_once(app: MicroASGI) -> None:
    @app.post("/p/<int:pid>")
    def create(
        pid: int,
        pet: PetStruct,
        limit: int,
        trace: Annotated[int, Header("X-Trace")],
        session_id: Annotated[uuid.UUID, Cookie()],
    ) -> dict[str, Any]:
        raise AssertionError("not called")

    client = app.test_client()
    client.set_cookie("session_id", "nope")
    r = client.post("/p/1?limit=x", json={"name": "", "age": 1}, headers={"X-Trace": "y"})
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert problem["type"] == "about:blank"
    assert problem["status"] == 422
    assert problem["title"] == "Unprocessable Entity"
    places = {(e["in"], tuple(e["loc"])) for e in problem["errors"]}
    assert places == {
        ("query", ("query", "limit")),
        ("header", ("header", "X-Trace")),
        ("cookie", ("cookie", "session_id")),
        ("body", ("body", "name")),
    }
    body_error = next(e for e in problem["errors"] if e["in"] == "body")
    assert body_error["pointer"] == "/name"
    assert {"in", "loc", "pointer", "type", "msg"} <= set(body_error)


def test_missing_required_parameters(app: MicroASGI) -> None:
    @app.get("/m")
    async def m(q: int, h: Annotated[str, Header()]) -> dict[str, Any]:
        return {}

    errors = app.test_client().get("/m").get_json()["errors"]
    assert [(e["in"], e["type"]) for e in errors] == [("query", "missing"), ("header", "missing")]


# -- bodies and models ----------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("sync", [True, False])
def test_every_model_kind_as_body(app: MicroASGI, model: Any, sync: bool) -> None:
    if sync:

        def create(pet: model) -> dict[str, Any]:  # type: ignore[valid-type]
            assert isinstance(pet, dict if model is PetDict else model)
            return as_dict(pet)
    else:

        async def create(pet: model) -> dict[str, Any]:  # type: ignore[valid-type,no-redef]
            assert isinstance(pet, dict if model is PetDict else model)
            return as_dict(pet)

    app.add_url_rule("/pets", view_func=create, methods=["POST"])
    client = app.test_client()
    r = client.post("/pets", json={"name": "rex", "age": 3})
    assert r.status_code == 200, r.data
    assert r.get_json() == {"name": "rex", "age": 3}
    r = client.post("/pets", json={"name": "rex", "age": "old"})
    assert r.status_code == 422
    (error,) = r.get_json()["errors"]
    assert error["in"] == "body" and error["loc"] == ["body", "age"] and error["pointer"] == "/age"


@pytest.mark.parametrize("model", MODELS)
def test_every_model_kind_as_return_value(app: MicroASGI, model: Any) -> None:
    @app.get("/pet", status_code=201)
    def pet() -> model:  # type: ignore[valid-type]
        return model(name="rex", age=2)

    @app.get("/pets")
    async def pets() -> list[model]:  # type: ignore[valid-type]
        return [model(name="a", age=1), model(name="b", age=2)]

    client = app.test_client()
    r = client.get("/pet")
    assert (r.status_code, r.mimetype, r.get_json()) == (
        201,
        "application/json",
        {"name": "rex", "age": 2},
    )
    assert client.get("/pets").get_json() == [{"name": "a", "age": 1}, {"name": "b", "age": 2}]


def test_nested_recursive_union_and_list_bodies(app: MicroASGI) -> None:
    @app.post("/tree")
    async def tree(node: Node) -> Node:
        return node

    @app.post("/ints")
    async def ints(values: Annotated[list[int], Body()]) -> dict[str, int]:
        return {"sum": sum(values)}

    @app.post("/either")
    async def either(pets: PetStruct | list[PetStruct]) -> dict[str, str]:
        return {"kind": type(pets).__name__}

    client = app.test_client()
    doc = {"value": 1, "children": [{"value": 2, "children": [{"value": 3, "children": []}]}]}
    assert client.post("/tree", json=doc).get_json() == doc
    bad = {"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]}
    (error,) = client.post("/tree", json=bad).get_json()["errors"]
    assert error["pointer"] == "/children/0/children/0/value"
    assert client.post("/ints", json=[1, 2, 3]).get_json() == {"sum": 6}
    assert client.post("/ints", json=[1, "a"]).status_code == 422
    assert client.post("/either", json={"name": "a"}).get_json() == {"kind": "PetStruct"}
    assert client.post("/either", json=[{"name": "a"}]).get_json() == {"kind": "list"}


def test_optional_body(app: MicroASGI) -> None:
    @app.post("/o")
    async def o(pet: PetStruct | None = None) -> dict[str, Any]:
        return {"pet": pet is not None}

    client = app.test_client()
    assert client.post("/o").get_json() == {"pet": False}
    assert client.post("/o", json={"name": "a"}).get_json() == {"pet": True}


def test_a_view_declared_to_return_none_answers_json_null(app: MicroASGI) -> None:
    # The spec documents `Node | None` as anyOf [Node, null]: None is JSON null, not the
    # "the view returned None" error of a Flask view (schemathesis found the 500).
    @app.post("/leaf")
    def leaf(node: Node) -> Node | None:
        return node if node.children else None

    @app.post("/async-leaf")
    async def async_leaf(node: Node) -> Node | None:
        return node if node.children else None

    client = app.test_client()
    tree = {"value": 1, "children": [{"value": 2, "children": []}]}
    for url in ("/leaf", "/async-leaf"):
        r = client.post(url, json={"value": 1})
        assert (r.status_code, r.mimetype, r.data) == (200, "application/json", b"null")
        assert client.post(url, json=tree).get_json() == tree


def test_a_view_declared_to_return_none_answers_an_empty_body(app: MicroASGI) -> None:
    # `-> None` with status_code=204 is documented as a 204 without content; returning
    # None was Flask's "the view returned None" 500 (schemathesis found it).
    @app.delete("/pets/<int:pet_id>", status_code=204)
    async def delete(pet_id: int) -> None:
        return None

    @app.post("/ping")
    def ping(n: int) -> None:
        return None

    client = app.test_client()
    r = client.delete("/pets/1")
    assert (r.status_code, r.data) == (204, b"")
    r = client.post("/ping?n=1")
    assert (r.status_code, r.data) == (200, b"")


def test_malformed_json_is_400_and_wrong_type_415(app: MicroASGI) -> None:
    @app.post("/pets")
    async def create(pet: PetStruct) -> dict[str, Any]:
        return {}

    client = app.test_client()
    r = client.post("/pets", data="{", content_type="application/json")
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert r.get_json()["status"] == 400
    r = client.post("/pets", data="name=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and r.get_json()["status"] == 415
    assert client.post("/pets").get_json()["errors"][0]["type"] == "missing"


@pytest.mark.parametrize("body", ["[", '{"name": 5', "[1, 2", '{"name": "x"'])
@pytest.mark.parametrize("model", [PetStruct, PetData, PetPydantic])
def test_malformed_json_is_400_even_after_a_value_of_the_wrong_type(
    app: MicroASGI, body: str, model: Any
) -> None:
    # A typed decoder stops at the first wrong value, before the JSON breaks off.
    @app.post("/pets")
    async def create(pet: model) -> dict[str, Any]:  # type: ignore[valid-type]
        return {}

    r = app.test_client().post("/pets", data=body, content_type="application/json")
    assert (r.status_code, r.mimetype) == (400, "application/problem+json")


def test_a_union_of_untagged_models(app: MicroASGI) -> None:
    class Dog(msgspec.Struct):
        bark: int

    class Cat(msgspec.Struct):
        meow: int

    @app.post("/pets")
    def create(pet: Dog | Cat) -> Dog | Cat | Problem:
        if isinstance(pet, Cat) and pet.meow < 0:
            return Problem(type="about:blank", title="Grumpy", status=409)
        return pet

    client = app.test_client()
    assert client.post("/pets", json={"meow": 2}).get_json() == {"meow": 2}
    assert client.post("/pets", json={"bark": 1}).get_json() == {"bark": 1}
    assert client.post("/pets", json={"meow": -1}).get_json()["title"] == "Grumpy"
    errors = client.post("/pets", json={"meow": "x"}).get_json()["errors"]
    assert [e["loc"] for e in errors] == [["body", "bark"], ["body", "meow"]]
    spec = app.openapi()
    op = spec["paths"]["/pets"]["post"]
    refs = [
        s["$ref"].rsplit("/", 1)[1]
        for s in op["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
    ]
    assert refs == ["Dog", "Cat"]
    returned = op["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
    assert [s["$ref"].rsplit("/", 1)[1] for s in returned] == ["Dog", "Cat", "Problem"]


@pytest.mark.parametrize("mode", ["trust", "always"])
def test_a_model_declared_for_another_status_is_returned_with_it(app: MicroASGI, mode: str) -> None:
    class Conflict(msgspec.Struct):
        reason: str

    @app.get("/pets/<int:pid>", responses={404: Problem, 409: Conflict}, response_validation=mode)
    def get(pid: int) -> PetStruct:
        if pid == 0:
            return Problem(type="about:blank", title="Not Found", status=404), 404
        if pid == 1:
            return {"reason": "taken"}, 409  # a dict: validated as the 409's model
        if pid == 2:
            return {"reason": 5}, 409
        if pid == 3:
            return {"anything": True}, 400  # no model declared for a 400: as it is
        return PetStruct("rex"), 200

    client = app.test_client()
    r = client.get("/pets/0")
    assert (r.status_code, r.mimetype) == (404, "application/problem+json")
    assert r.get_json() == {"type": "about:blank", "title": "Not Found", "status": 404}
    r = client.get("/pets/1")
    assert (r.status_code, r.get_json()) == (409, {"reason": "taken"})
    assert client.get("/pets/2").status_code == 500
    assert client.get("/pets/3").get_json() == {"anything": True}
    assert client.get("/pets/4").get_json() == {"name": "rex", "age": 0}


def test_a_model_from_an_untyped_view_or_an_error_handler(app: MicroASGI) -> None:
    @app.errorhandler(404)
    def not_found(e: Exception) -> Any:
        return Problem(type="about:blank", title="Nothing here", status=404), 404

    @app.route("/flask")
    def flask_view():  # type: ignore[no-untyped-def]
        return PetData("rex")

    client = app.test_client()
    r = client.get("/flask")
    assert (r.mimetype, r.get_json()) == ("application/json", {"name": "rex", "age": 0})
    r = client.get("/nowhere")
    assert (r.status_code, r.mimetype) == (404, "application/problem+json")
    assert r.get_json()["title"] == "Nothing here"


def test_a_problem_exception_uses_the_apps_formatter(app: MicroASGI) -> None:
    from microasgi.exceptions import Conflict
    from microasgi.typed import ProblemException

    class Taken(ProblemException, Conflict):
        description = "That name is taken."

    app.problem_formatter = FastAPIFormatter()

    @app.post("/pets")
    async def create(pet: PetStruct) -> PetStruct:
        raise Taken()

    r = app.test_client().post("/pets", json={"name": "rex"})
    assert (r.status_code, r.mimetype) == (409, "application/json")
    assert r.get_json() == {"detail": "That name is taken."}


def test_form_and_file_parameters(app: MicroASGI) -> None:
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    @app.post("/upload")
    def upload(
        title: Annotated[str, Form()],
        count: Annotated[int, Form()],
        doc: Annotated[FileStorage, File()],
        raw: Annotated[bytes, File("other")],
        many: Annotated[list[FileStorage], File("part")] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {
            "title": title,
            "count": count,
            "doc": doc.read().decode(),
            "raw": raw.decode(),
            "many": [f.filename for f in many],
        }

    client = app.test_client()
    data = {
        "title": "t",
        "count": "3",
        "doc": (BytesIO(b"hello"), "a.txt"),
        "other": (BytesIO(b"raw"), "b.txt"),
        "part": [(BytesIO(b"1"), "p1"), (BytesIO(b"2"), "p2")],
    }
    r = client.post("/upload", data=data)
    assert r.get_json() == {
        "title": "t",
        "count": 3,
        "doc": "hello",
        "raw": "raw",
        "many": ["p1", "p2"],
    }
    errors = client.post("/upload", data={"title": "t", "count": "x"}).get_json()["errors"]
    assert {(e["in"], e["loc"][-1]) for e in errors} == {
        ("form", "count"),
        ("file", "doc"),
        ("file", "other"),
    }


def test_a_text_field_where_a_file_is_expected_is_422(app: MicroASGI) -> None:
    # A multipart part without a filename is a form field, not a file: it was ignored
    # (the optional file then defaulted), so a client's mistake passed silently.
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    @app.post("/upload")
    async def upload(
        doc: Annotated[FileStorage | None, File()] = None,
        parts: Annotated[list[bytes], File()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {"doc": doc is not None, "parts": len(parts)}

    client = app.test_client()
    sent = {"doc": (BytesIO(b"x"), "x.txt"), "parts": [(BytesIO(b"1"), "1"), (BytesIO(b"2"), "2")]}
    assert client.post("/upload", data=sent).get_json() == {"doc": True, "parts": 2}
    assert client.post("/upload", data={}).get_json() == {"doc": False, "parts": 0}
    r = client.post("/upload", data={"doc": "not a file", "parts": "{}"})
    assert r.status_code == 422
    assert [(e["in"], e["loc"], e["type"]) for e in r.get_json()["errors"]] == [
        ("file", ["file", "doc"], "type"),
        ("file", ["file", "parts"], "type"),
    ]


# -- blueprints and MethodView ----------------------------------------------------------------


def test_blueprint_typed_view(app: MicroASGI) -> None:
    bp = Blueprint("api", __name__, url_prefix="/api")

    @bp.get("/n/<int:n>", status_code=202)
    async def double(n: int, times: int = 2) -> dict[str, int]:
        return {"n": n * times}

    app.register_blueprint(bp)
    client = app.test_client()
    r = client.get("/api/n/4?times=3")
    assert (r.status_code, r.get_json()) == (202, {"n": 12})
    assert client.get("/api/n/4?times=z").status_code == 422


def test_method_view_typed_handlers(app: MicroASGI) -> None:
    class Pets(MethodView):
        def get(self, limit: int = 10) -> dict[str, int]:
            return {"limit": limit}

        def post(self, pet: PetStruct) -> PetStruct:
            return pet

    app.add_url_rule("/pets", view_func=Pets.as_view("pets"))
    client = app.test_client()
    assert client.get("/pets?limit=3").get_json() == {"limit": 3}
    assert client.get("/pets?limit=x").status_code == 422
    assert client.post("/pets", json={"name": "a"}).get_json() == {"name": "a", "age": 0}
    assert client.post("/pets", json={}).status_code == 422


# -- formatters and error handlers ------------------------------------------------------------


def test_fastapi_formatter(app: MicroASGI) -> None:
    app.problem_formatter = FastAPIFormatter()

    @app.post("/pets")
    async def create(pet: PetStruct, limit: int = 1) -> dict[str, Any]:
        return {}

    client = app.test_client()
    r = client.post("/pets?limit=x", json={"age": 1})
    assert r.status_code == 422 and r.mimetype == "application/json"
    assert r.get_json() == {
        "detail": [
            {"loc": ["query", "limit"], "msg": "Expected `int`, got `str`", "type": "type"},
            {"loc": ["body", "name"], "msg": "Field required", "type": "missing"},
        ]
    }
    assert (
        client.post("/pets", data="{", content_type="application/json")
        .get_json()["detail"]
        .startswith("The body is not valid JSON")
    )
    assert "detail" in app.problem_formatter.schema()["$defs"]["_FastAPIDetail"]["properties"]


def test_custom_formatter(app: MicroASGI) -> None:
    class Short(ProblemFormatter):
        media_type = "application/vnd.err+json"

        def content(self, exc: Any) -> Any:
            return {"code": exc.code, "n": len(exc.errors)}

    app.problem_formatter = Short()

    @app.get("/x")
    async def x(a: int, b: int) -> dict[str, Any]:
        return {}

    r = app.test_client().get("/x?a=1&b=no")
    assert (r.status_code, r.mimetype, r.get_json()) == (
        422,
        "application/vnd.err+json",
        {"code": 422, "n": 1},
    )
    assert ProblemFormatter().schema()["$ref"].endswith("Problem")


def test_errorhandler_422_replaces_the_answer(app: MicroASGI) -> None:
    @app.errorhandler(422)
    def invalid(exc: Any) -> tuple[dict[str, Any], int]:
        return {"bad": [e.loc for e in exc.errors]}, 400

    @app.get("/x")
    async def x(a: int) -> dict[str, Any]:
        return {}

    r = app.test_client().get("/x?a=q")
    assert (r.status_code, r.get_json()) == (400, {"bad": [["query", "a"]]})


def test_problem_documents_an_error_response(app: MicroASGI) -> None:
    @app.get("/pets/<int:pid>", responses={404: Problem})
    async def get(pid: int) -> PetStruct:
        abort(404)

    assert app.test_client().get("/pets/1").status_code == 404
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == "get"]
    typed = app._typed_routes[id(rule)]
    assert typed.responses == {404: Problem} and typed.return_type is PetStruct


# -- response validation ------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "status"), [("trust", 500), ("always", 500), ("off", 200)])
def test_response_validation_of_a_wrong_dict(app: MicroASGI, mode: str, status: int) -> None:
    @app.get("/bad", response_validation=mode)
    async def bad() -> PetStruct:
        return {"name": 5}  # type: ignore[return-value]

    assert app.test_client().get("/bad").status_code == status


def test_response_validation_trust_skips_instances_always_checks(app: MicroASGI) -> None:
    def wrong() -> PetStruct:
        return PetStruct(name="")  # breaks min_length, built without validation

    app.add_url_rule("/trust", "trust", wrong)
    app.add_url_rule("/always", "always", wrong, response_validation="always")
    client = app.test_client()
    assert client.get("/trust").status_code == 200
    assert client.get("/always").status_code == 500


def test_response_validation_config_key(app: MicroASGI) -> None:
    app.config["RESPONSE_VALIDATION"] = "always"

    @app.get("/w")
    async def w() -> PetStruct:
        return PetStruct(name="")

    assert app.test_client().get("/w").status_code == 500


def test_trust_converts_a_dict_to_the_declared_type(app: MicroASGI) -> None:
    @app.get("/d")
    async def d() -> PetStruct:
        return {"name": "a", "age": 1, "secret": "x"}  # type: ignore[return-value]

    assert app.test_client().get("/d").get_json() == {"name": "a", "age": 1}


# -- threads ----------------------------------------------------------------------------------


async def test_validation_on_the_loop_and_one_thread_hop_for_a_def_view() -> None:
    app = MicroASGI(__name__)
    seen: dict[str, str] = {}

    class Pet(pydantic.BaseModel):
        name: str

        @pydantic.field_validator("name")
        @classmethod
        def check(cls, value: str) -> str:
            seen["validate"] = threading.current_thread().name
            return value

        @pydantic.field_serializer("name")
        def dump(self, value: str) -> str:
            seen["encode"] = threading.current_thread().name
            return value

    @app.before_request
    async def loop_thread() -> None:
        seen["loop"] = threading.current_thread().name

    @app.post("/pets")
    def create(pet: Pet) -> Pet:
        seen["view"] = threading.current_thread().name
        return pet

    async with app.async_test_client() as client:
        r = await client.post("/pets", json={"name": "a"})
    assert r.json == {"name": "a"}
    assert seen["validate"] == seen["loop"]
    assert seen["view"] == seen["encode"] != seen["loop"]


# -- registration ----------------------------------------------------------------------------


def test_annotation_contradicting_the_converter_is_an_error(app: MicroASGI) -> None:
    with pytest.raises(TypeError, match="converts <x> to int"):

        @app.get("/a/<int:x>")
        async def a(x: str) -> str:
            return x


def test_two_bodies_are_an_error(app: MicroASGI) -> None:
    with pytest.raises(TypeError, match="two bodies"):

        @app.post("/b")
        async def b(one: PetStruct, two: PetData) -> str:
            return ""


def test_untyped_views_get_no_binder(app: MicroASGI) -> None:
    @app.get("/u/<int:uid>")
    async def user(uid: int) -> str:
        return str(uid)

    @app.get("/plain/<name>")
    def plain(name, extra=None):  # type: ignore[no-untyped-def]
        return name

    assert app._typed_routes == {}
    client = app.test_client()
    assert client.get("/u/5?uid=x").text == "5"
    assert client.get("/plain/n").text == "n"


def test_unreadable_annotations(app: MicroASGI) -> None:
    # A type imported only for type checkers: a view that needs nothing more than its
    # path variables stays a plain Flask view.
    @app.get("/u/<int:uid>")
    async def user(uid: "int", extra: "Missing" = None) -> "AlsoMissing":  # type: ignore[name-defined]  # noqa: F821
        return str(uid)

    # One that takes a parameter the rule does not give could never be called.
    with pytest.raises(TypeError, match=r"'pet'.*name 'Missing' is not defined"):

        @app.post("/pets")
        async def create(pet: "Missing") -> dict[str, Any]:  # type: ignore[name-defined]  # noqa: F821
            return {}

    assert app.test_client().get("/u/5").text == "5"


def test_import_does_not_load_pydantic_or_attrs() -> None:
    code = (
        "import sys, microasgi; "
        "assert 'pydantic' not in sys.modules and 'attrs' not in sys.modules, "
        "[m for m in sys.modules if m.startswith(('pydantic', 'attr'))]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
