"""Responses: what views may return, the Response API, cookies, redirects, streaming."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

import anyio
import pytest
from starlette.responses import JSONResponse, PlainTextResponse

from microasgi import (
    MicroASGI,
    NotFound,
    Response,
    jsonify,
    make_response,
    redirect,
)

from .asgi import http_scope
from .kinds import KINDS, add_view


class Wire:
    """receive/send for calling an ASGI app: an empty body, then a disconnect when told."""

    def __init__(self, disconnect_after_chunks: int | None = None) -> None:
        self.messages: list[dict[str, Any]] = []
        self.sent_body = False
        self.gone = asyncio.Event()
        self.disconnect_after_chunks = disconnect_after_chunks

    async def receive(self) -> dict[str, Any]:
        if not self.sent_body:
            self.sent_body = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        body_messages = [m for m in self.messages if m["type"] == "http.response.body"]
        finished = message["type"] == "http.response.body" and not message.get("more_body")
        enough = (
            self.disconnect_after_chunks is not None
            and len(body_messages) >= self.disconnect_after_chunks
        )
        if finished or enough:
            self.gone.set()

    @property
    def start(self) -> dict[str, Any]:
        assert self.messages[0]["type"] == "http.response.start"
        return self.messages[0]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return self.messages[1:]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.bodies)


async def call(asgi: Any, scope: dict[str, Any], wire: Wire | None = None) -> Wire:
    wire = wire or Wire()
    await asyncio.wait_for(asgi(scope, wire.receive, wire.send), 10)
    return wire


# -- make_response: what a view may return -----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_str_is_html(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/", lambda: "héllo", kind)
    response = client.get("/")
    assert response.status_code == 200
    assert response.status == "200 OK"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.mimetype == "text/html"
    assert response.data == "héllo".encode()
    assert response.headers["Content-Length"] == "6"


@pytest.mark.parametrize("kind", KINDS)
def test_bytes(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/", lambda: b"\x00\xffraw", kind)
    response = client.get("/")
    assert response.status_code == 200
    assert response.data == b"\x00\xffraw"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Length"] == "5"


@pytest.mark.parametrize("kind", KINDS)
def test_dict_is_json(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/", lambda: {"b": 1, "a": [1, "x", None]}, kind)
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.mimetype == "application/json"
    assert response.get_json() == {"a": [1, "x", None], "b": 1}
    assert response.json == {"a": [1, "x", None], "b": 1}
    assert response.data == b'{"a":[1,"x",null],"b":1}\n'


@pytest.mark.parametrize("kind", KINDS)
def test_list_is_json(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/", lambda: [1, {"a": 2}], kind)
    response = client.get("/")
    assert response.headers["Content-Type"] == "application/json"
    assert response.get_json() == [1, {"a": 2}]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("rv", "status_code", "status", "body"),
    [
        (("created", 201), 201, "201 CREATED", b"created"),
        (("created", "201 CREATED"), 201, "201 CREATED", b"created"),
        (("gone", HTTPStatus.GONE), 410, "410 GONE", b"gone"),
        ((b"teapot", 418), 418, "418 I'M A TEAPOT", b"teapot"),
        (({"error": "no"}, 400), 400, "400 BAD REQUEST", b'{"error":"no"}\n'),
        (([1], 202), 202, "202 ACCEPTED", b"[1]\n"),
    ],
)
def test_body_and_status(
    app: MicroASGI, client: Any, kind: str, rv: Any, status_code: int, status: str, body: bytes
) -> None:
    add_view(app, "/", lambda: rv, kind)
    response = client.get("/")
    assert response.status_code == status_code
    assert response.status == status
    assert response.data == body


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "headers",
    [{"X-A": "1", "X-B": "two"}, [("X-A", "1"), ("X-B", "two")], (("X-A", "1"), ("X-B", "two"))],
)
def test_body_and_headers(app: MicroASGI, client: Any, kind: str, headers: Any) -> None:
    add_view(app, "/", lambda: ("hello", headers), kind)
    response = client.get("/")
    assert response.status_code == 200
    assert response.data == b"hello"
    assert response.headers["X-A"] == "1"
    assert response.headers["X-B"] == "two"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("kind", KINDS)
def test_body_status_and_headers(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/", lambda: ({"id": 3}, 201, {"Location": "/items/3"}), kind)
    add_view(app, "/list", lambda: ("made", "202 ACCEPTED", [("X-Id", "9")]), kind)
    response = client.get("/")
    assert response.status_code == 201
    assert response.headers["Location"] == "/items/3"
    assert response.get_json() == {"id": 3}

    response = client.get("/list")
    assert response.status_code == 202
    assert response.headers["X-Id"] == "9"
    assert response.data == b"made"


@pytest.mark.parametrize("kind", KINDS)
def test_tuple_headers_replace_content_type(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/", lambda: ("a,b\n", {"Content-Type": "text/csv"}), kind)
    add_view(
        app,
        "/json",
        lambda: ({"x": 1}, 200, {"Content-Type": "application/vnd.api+json"}),
        kind,
    )
    response = client.get("/")
    assert response.headers.getlist("content-type") == ["text/csv"]
    assert response.mimetype == "text/csv"
    response = client.get("/json")
    assert response.headers.getlist("content-type") == ["application/vnd.api+json"]
    assert response.get_json() == {"x": 1}


@pytest.mark.parametrize("kind", KINDS)
def test_response_instance(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(
        app,
        "/",
        lambda: Response("plain", 203, {"X-Own": "yes"}, mimetype="text/plain"),
        kind,
    )
    response = client.get("/")
    assert response.status_code == 203
    assert response.data == b"plain"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Own"] == "yes"


@pytest.mark.parametrize("kind", KINDS)
def test_response_instance_in_tuple(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/status", lambda: (Response("r"), 404), kind)
    add_view(app, "/headers", lambda: (Response("r"), {"X-T": "1"}), kind)
    add_view(app, "/both", lambda: (Response("r", 200), 418, [("X-T", "2")]), kind)
    assert client.get("/status").status_code == 404
    response = client.get("/headers")
    assert (response.status_code, response.headers["X-T"]) == (200, "1")
    response = client.get("/both")
    assert (response.status_code, response.headers["X-T"]) == (418, "2")


@pytest.mark.parametrize("kind", KINDS)
def test_http_exception_returned(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/", lambda: NotFound("no such thing"), kind)
    response = client.get("/")
    assert response.status_code == 404
    assert b"no such thing" in response.data


@pytest.mark.parametrize("kind", KINDS)
def test_sync_generator_is_streamed(app: MicroASGI, client: Any, kind: str) -> None:
    def gen() -> Iterator[str | bytes]:
        yield "one "
        yield b"two "
        yield "three"

    add_view(app, "/", lambda: gen(), kind)
    response = client.get("/")
    assert response.status_code == 200
    assert response.data == b"one two three"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("kind", KINDS)
def test_async_generator_is_streamed(app: MicroASGI, client: Any, kind: str) -> None:
    async def agen() -> AsyncIterator[str]:
        for part in ("a", "b", "c"):
            await asyncio.sleep(0)
            yield part

    add_view(app, "/", lambda: (agen(), 201, {"X-Stream": "1"}), kind)
    response = client.get("/")
    assert response.status_code == 201
    assert response.headers["X-Stream"] == "1"
    assert response.data == b"abc"


def test_generator_function_views(app: MicroASGI, client: Any) -> None:
    @app.get("/sync")
    def sync_gen() -> Iterator[str]:
        yield "x"
        yield "y"

    @app.get("/async")
    async def async_gen() -> AsyncIterator[str]:
        yield "p"
        yield "q"

    assert client.get("/sync").data == b"xy"
    assert client.get("/async").data == b"pq"


async def test_generator_is_sent_in_chunks(app: MicroASGI) -> None:
    @app.get("/")
    def index() -> Any:
        def gen() -> Iterator[str]:
            yield "a"
            yield ""
            yield "bc"

        return gen()

    wire = await call(app, http_scope("/"))
    assert wire.start["status"] == 200
    assert wire.start["headers"] == [(b"content-type", b"text/html; charset=utf-8")]
    assert [(m["body"], m.get("more_body", False)) for m in wire.bodies] == [
        (b"a", True),
        (b"bc", True),
        (b"", False),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_starlette_response(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(
        app,
        "/text",
        lambda: PlainTextResponse("plain", status_code=201, headers={"X-S": "1"}),
        kind,
    )
    add_view(app, "/json", lambda: JSONResponse({"ok": True}, status_code=202), kind)

    @app.after_request
    def after(response: Response) -> Response:
        response.headers["X-After"] = "yes"
        return response

    response = client.get("/text")
    assert response.status_code == 201
    assert response.data == b"plain"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-S"] == "1"
    assert response.headers["X-After"] == "yes"
    assert response.headers.getlist("content-type") == ["text/plain; charset=utf-8"]

    response = client.get("/json")
    assert response.status_code == 202
    assert response.get_json() == {"ok": True}
    assert response.headers["X-After"] == "yes"


def test_plain_asgi_callable(app: MicroASGI, client: Any) -> None:
    async def tiny_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 207, "headers": [(b"x-t", b"1")]})
        await send({"type": "http.response.body", "body": b"from asgi"})

    @app.get("/")
    async def index() -> Any:
        return tiny_app

    response = client.get("/")
    assert response.status_code == 207
    assert response.data == b"from asgi"
    assert response.headers["X-T"] == "1"


@pytest.mark.parametrize("kind", KINDS)
def test_none_is_type_error_naming_the_view(app: MicroASGI, client: Any, kind: str) -> None:
    def index() -> None:
        return None

    add_view(app, "/", index, kind)
    with pytest.raises(TypeError, match="index"):
        client.get("/")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/")
    assert response.status_code == 500
    assert b"Traceback" not in response.data


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rv", [42, 4.5, object(), ("a", 200, {}, "extra"), ()])
def test_invalid_return_is_type_error(app: MicroASGI, client: Any, kind: str, rv: Any) -> None:
    add_view(app, "/", lambda: rv, kind)
    with pytest.raises(TypeError):
        client.get("/")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/").status_code == 500


def test_invalid_return_type_is_named(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    async def index() -> Any:
        return 42

    with pytest.raises(TypeError, match="int"):
        client.get("/")


def test_make_response_helper(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    def index() -> Response:
        response = make_response("body", 404, {"X-A": "1"})
        response.headers["X-B"] = "2"
        return response

    @app.get("/empty")
    async def empty() -> Response:
        response = make_response()
        response.status_code = 204
        return response

    @app.get("/json")
    def as_json() -> Response:
        return make_response(jsonify(a=1), 201)

    response = client.get("/")
    assert (response.status_code, response.data) == (404, b"body")
    assert (response.headers["X-A"], response.headers["X-B"]) == ("1", "2")
    assert client.get("/empty").status_code == 204
    response = client.get("/json")
    assert (response.status_code, response.get_json()) == (201, {"a": 1})


def test_make_response_needs_app_context() -> None:
    with pytest.raises(RuntimeError):
        make_response("x")


# -- jsonify ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "body"),
    [
        (({"b": 2, "a": 1},), {}, b'{"a":1,"b":2}\n'),
        (([1, 2],), {}, b"[1,2]\n"),
        ((1, 2), {}, b"[1,2]\n"),
        ((), {"a": 1, "b": [True]}, b'{"a":1,"b":[true]}\n'),
        ((), {}, b"null\n"),
        (("text",), {}, b'"text"\n'),
    ],
)
def test_jsonify_forms(
    app: MicroASGI, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any], body: bytes
) -> None:
    @app.get("/")
    async def index() -> Response:
        return jsonify(*args, **kwargs)  # type: ignore[no-any-return]

    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.data == body


def test_jsonify_with_status(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    def index() -> Any:
        return jsonify(error="missing"), 404

    response = client.get("/")
    assert response.status_code == 404
    assert response.json == {"error": "missing"}


def test_jsonify_pretty_in_debug(app: MicroASGI) -> None:
    app.debug = True
    with app.app_context():
        assert jsonify(a=1).data == b'{\n  "a": 1\n}\n'


def test_jsonify_args_and_kwargs_is_type_error(app: MicroASGI) -> None:
    with app.app_context(), pytest.raises(TypeError):
        jsonify(1, a=2)


def test_jsonify_outside_app_context() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        jsonify(a=1)


# -- the Response API ---------------------------------------------------------------------------


def test_response_defaults() -> None:
    response = Response()
    assert response.status_code == 200
    assert response.status == "200 OK"
    assert response.data == b""
    assert response.mimetype == "text/html"
    assert response.content_type == "text/html; charset=utf-8"
    assert response.content_length == 0
    assert response.is_streamed is False


def test_response_constructor_arguments() -> None:
    response = Response("hi", 201, {"X-A": "1"}, mimetype="text/plain")
    assert response.status_code == 201
    assert response.status == "201 CREATED"
    assert response.headers["X-A"] == "1"
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.mimetype == "text/plain"
    assert response.data == b"hi"

    response = Response(b"<x/>", content_type="application/xml")
    assert response.content_type == "application/xml"
    assert response.mimetype == "application/xml"

    response = Response("x", mimetype="application/json")
    assert response.content_type == "application/json"

    response = Response(["a", b"b", "c"])
    assert response.data == b"abc"

    response = Response("x", headers=[("Content-Type", "text/csv"), ("X-B", "2")])
    assert response.headers.getlist("Content-Type") == ["text/csv"]
    assert response.headers["X-B"] == "2"

    response = Response("x", status=HTTPStatus.NO_CONTENT)
    assert response.status == "204 NO CONTENT"


@pytest.mark.parametrize(
    ("mimetype", "content_type"),
    [
        ("text/plain", "text/plain; charset=utf-8"),
        ("text/csv", "text/csv; charset=utf-8"),
        ("application/json", "application/json"),
        ("application/xml", "application/xml; charset=utf-8"),
        ("application/javascript", "application/javascript; charset=utf-8"),
        ("image/svg+xml", "image/svg+xml; charset=utf-8"),
        ("image/png", "image/png"),
        ("application/octet-stream", "application/octet-stream"),
    ],
)
def test_mimetype_adds_charset_for_text(mimetype: str, content_type: str) -> None:
    assert Response("x", mimetype=mimetype).content_type == content_type
    response = Response("x")
    response.mimetype = mimetype
    assert response.content_type == content_type
    assert response.mimetype == mimetype
    assert response.headers.getlist("Content-Type") == [content_type]


def test_content_type_setter() -> None:
    response = Response("x")
    response.content_type = "application/foo; v=2"
    assert response.headers.getlist("Content-Type") == ["application/foo; v=2"]
    assert response.mimetype == "application/foo"


def test_status_setters() -> None:
    response = Response("x")
    response.status_code = 418
    assert response.status == "418 I'M A TEAPOT"
    response.status = "404 NOT FOUND"
    assert response.status_code == 404
    assert response.status == "404 NOT FOUND"
    response.status = "201"
    assert (response.status_code, response.status) == (201, "201 CREATED")
    response.status = HTTPStatus.ACCEPTED
    assert (response.status_code, response.status) == (202, "202 ACCEPTED")
    response.status = 308
    assert response.status == "308 PERMANENT REDIRECT"


def test_status_with_a_custom_reason_is_kept() -> None:
    # Flask keeps a status string as given: "299 Custom Reason" stays as it is.
    response = Response("x", status="299 Custom Reason")
    assert response.status_code == 299
    assert response.status == "299 Custom Reason"


def test_status_unknown_code() -> None:
    response = Response("x", status=599)
    assert response.status_code == 599
    assert response.status == "599 UNKNOWN"


@pytest.mark.parametrize("status", ["abc", "", "OK 200"])
def test_status_not_starting_with_a_number(status: str) -> None:
    with pytest.raises(ValueError):
        Response("x", status=status)
    response = Response("x")
    with pytest.raises(ValueError):
        response.status = status
    assert response.status_code == 200


async def test_headers_mutation_is_emitted() -> None:
    response = Response("x")
    response.headers["X-One"] = "1"
    response.headers["X-Int"] = 5  # type: ignore[assignment]
    response.headers.add("X-Multi", "a")
    response.headers.add("X-Multi", "b")
    assert response.headers.getlist("x-multi") == ["a", "b"]
    response.headers.set("X-Multi", "c")
    assert response.headers.getlist("X-Multi") == ["c"]
    response.headers.extend({"X-E": "1"})
    response.headers.extend([("X-E", "2")])
    assert response.headers.getlist("X-E") == ["1", "2"]
    response.headers.update({"X-E": "3", "X-New": 4})
    assert response.headers.getlist("X-E") == ["3"]
    assert response.headers["X-New"] == "4"
    del response.headers["X-E"]
    assert "X-E" not in response.headers
    assert "x-one" in response.headers
    assert "X-ONE" in response.headers
    response.headers.remove("X-New")
    response.headers.remove("X-Never-There")
    assert response.headers.setdefault("X-D", "d") == "d"
    assert response.headers.setdefault("X-D", "e") == "d"
    assert response.headers.get("X-Int", type=int) == 5
    assert response.headers.get("X-One", type=lambda v: v * 2) == "11"
    assert response.headers.get("X-Missing", "dflt") == "dflt"

    wire = await call(response, http_scope())
    assert wire.start["status"] == 200
    assert wire.start["headers"] == [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"x-one", b"1"),
        (b"x-int", b"5"),
        (b"x-multi", b"c"),
        (b"x-d", b"d"),
        (b"content-length", b"1"),
    ]
    assert wire.body == b"x"


BAD_VALUES = ["a\nb", "a\rb", "a\r\nSet-Cookie: evil=1", "a\0b", "\n"]


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize(
    "operation",
    [
        "setitem",
        "add",
        "set",
        "append",
        "extend_dict",
        "extend_list",
        "update",
        "setdefault",
        "content_type",
        "location",
    ],
)
async def test_header_injection_refused(operation: str, value: str) -> None:
    response = Response("x")
    before = list(response.headers.items())
    with pytest.raises(ValueError):
        if operation == "setitem":
            response.headers["X-Bad"] = value
        elif operation == "add":
            response.headers.add("X-Bad", value)
        elif operation == "set":
            response.headers.set("X-Bad", value)
        elif operation == "append":
            response.headers.add_header("X-Bad", value)
        elif operation == "extend_dict":
            response.headers.extend({"X-Bad": value})
        elif operation == "extend_list":
            response.headers.extend([("X-Bad", value)])
        elif operation == "update":
            response.headers.update({"X-Bad": value})
        elif operation == "setdefault":
            response.headers.setdefault("X-Bad", value)
        elif operation == "content_type":
            response.content_type = value
        elif operation == "location":
            response.location = value
    assert list(response.headers.items()) == before
    wire = await call(response, http_scope())
    for name, header_value in wire.start["headers"]:
        assert b"\n" not in name + header_value
        assert b"\r" not in name + header_value
        assert b"\0" not in name + header_value


@pytest.mark.parametrize("name", ["X\nBad", "X\rBad", "X: Bad", "X\0Bad"])
def test_header_name_injection_refused(name: str) -> None:
    response = Response("x")
    with pytest.raises(ValueError):
        response.headers[name] = "v"
    with pytest.raises(ValueError):
        response.headers.add(name, "v")


@pytest.mark.parametrize("value", BAD_VALUES)
def test_header_injection_in_constructor(value: str) -> None:
    with pytest.raises(ValueError):
        Response("x", headers={"X-Bad": value})
    with pytest.raises(ValueError):
        Response("x", headers=[("X-Bad", value)])
    with pytest.raises(ValueError):
        Response("x", content_type=value)


@pytest.mark.parametrize("kind", KINDS)
def test_header_injection_from_view_tuple(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/", lambda: ("x", {"X-Bad": "a\r\nSet-Cookie: evil=1"}), kind)
    with pytest.raises(ValueError):
        client.get("/")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/")
    assert response.status_code == 500
    assert "x-bad" not in response.headers
    assert "set-cookie" not in response.headers


def test_data_accessors() -> None:
    response = Response("héllo")
    assert response.data == "héllo".encode()
    assert response.get_data() == "héllo".encode()
    assert response.get_data(as_text=True) == "héllo"
    assert response.content_length == 6
    response.data = "new"  # type: ignore[assignment]
    assert response.data == b"new"
    response.set_data(b"bytes!")
    assert response.get_data() == b"bytes!"
    assert response.content_length == 6
    response.set_data("é")
    assert response.content_length == 2


async def test_content_length_follows_set_data() -> None:
    response = Response("first")
    response.set_data("second body")
    wire = await call(response, http_scope())
    assert dict(wire.start["headers"])[b"content-length"] == b"11"
    assert wire.body == b"second body"


def test_streamed_body_get_data() -> None:
    response = Response(iter(["a", "b"]))
    assert response.is_streamed is True
    assert response.get_data() == b"ab"
    assert response.get_data() == b"ab"
    assert response.content_length == 2


def test_async_streamed_body_get_data_is_an_error() -> None:
    async def agen() -> AsyncIterator[bytes]:
        yield b"a"

    gen = agen()
    response = Response(gen)
    assert response.is_streamed is True
    with pytest.raises(RuntimeError):
        response.get_data()
    asyncio.run(gen.aclose())


def test_response_json() -> None:
    response = Response('{"a": [1, 2]}', mimetype="application/json")
    assert response.json == {"a": [1, 2]}
    assert response.get_json() == {"a": [1, 2]}

    html = Response('{"a": 1}')
    assert html.get_json() is None
    assert html.json is None
    assert html.get_json(force=True) == {"a": 1}

    broken = Response("{nope", mimetype="application/json")
    assert broken.get_json(silent=True) is None
    with pytest.raises(ValueError):
        broken.get_json()


def test_response_json_with_plus_json_mimetype() -> None:
    response = Response('{"title": "oops"}', mimetype="application/problem+json")
    assert response.get_json() == {"title": "oops"}


# -- cookies ----------------------------------------------------------------------------------

EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def cookies(response: Response) -> list[str]:
    return response.headers.getlist("Set-Cookie")  # type: ignore[no-any-return]


def attributes(header: str) -> dict[str, str | None]:
    parts = header.split("; ")
    result: dict[str, str | None] = {}
    for part in parts[1:]:
        name, sep, value = part.partition("=")
        result[name] = value if sep else None
    return result


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "k=v; Path=/"),
        ({"path": None}, "k=v"),
        ({"path": "/app"}, "k=v; Path=/app"),
        ({"domain": "example.com"}, "k=v; Domain=example.com; Path=/"),
        ({"secure": True}, "k=v; Secure; Path=/"),
        ({"httponly": True}, "k=v; HttpOnly; Path=/"),
        ({"samesite": "lax"}, "k=v; Path=/; SameSite=Lax"),
        ({"samesite": "Strict"}, "k=v; Path=/; SameSite=Strict"),
        ({"samesite": "None", "secure": True}, "k=v; Secure; Path=/; SameSite=None"),
        ({"partitioned": True}, "k=v; Secure; Path=/; Partitioned"),
        (
            {"expires": datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)},
            "k=v; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/",
        ),
        (
            {"expires": datetime(2030, 1, 2, 3, 4, 5)},  # naive: UTC
            "k=v; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/",
        ),
        (
            {"expires": datetime(2030, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))},
            "k=v; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/",
        ),
        ({"expires": 0}, f"k=v; Expires={EPOCH}; Path=/"),
        (
            {"domain": "example.com", "secure": True, "httponly": True, "samesite": "Lax"},
            "k=v; Domain=example.com; Secure; HttpOnly; Path=/; SameSite=Lax",
        ),
    ],
)
def test_set_cookie_exact(kwargs: dict[str, Any], expected: str) -> None:
    response = Response()
    response.set_cookie("k", "v", **kwargs)
    assert cookies(response) == [expected]


def test_set_cookie_every_option_exact() -> None:
    response = Response()
    response.set_cookie(
        "k",
        "v",
        max_age=60,
        expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        path="/app",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="strict",
        partitioned=True,
    )
    assert cookies(response) == [
        "k=v; Domain=example.com; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Max-Age=60;"
        " Secure; HttpOnly; Path=/app; SameSite=Strict; Partitioned"
    ]


@pytest.mark.parametrize(
    ("max_age", "seconds"), [(60, 60), (timedelta(hours=1), 3600), (timedelta(days=2), 172800)]
)
def test_set_cookie_max_age_sets_expires(max_age: int | timedelta, seconds: int) -> None:
    response = Response()
    before = datetime.now(timezone.utc).replace(microsecond=0)
    response.set_cookie("k", "v", max_age=max_age)
    after = datetime.now(timezone.utc)
    (header,) = cookies(response)
    assert header.startswith("k=v; ")
    attrs = attributes(header)
    assert set(attrs) == {"Expires", "Max-Age", "Path"}
    assert attrs["Max-Age"] == str(seconds)
    assert attrs["Path"] == "/"
    expires = attrs["Expires"]
    assert expires is not None
    assert expires.endswith(" GMT")
    when = parsedate_to_datetime(expires)
    assert before + timedelta(seconds=seconds) <= when <= after + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("value", "coded"),
    [
        ("plain", "plain"),
        ("a b", '"a b"'),
        ('a"b;c', '"a\\"b\\073c"'),
        ("tok/en+base64==", "tok/en+base64=="),
        ("", ""),
    ],
)
def test_set_cookie_value_quoting(value: str, coded: str) -> None:
    response = Response()
    response.set_cookie("k", value)
    assert cookies(response) == [f"k={coded}; Path=/"]


def test_set_cookie_bad_samesite() -> None:
    with pytest.raises(ValueError):
        Response().set_cookie("k", "v", samesite="sometimes")


@pytest.mark.parametrize("field", ["path", "domain"])
async def test_set_cookie_never_emits_newlines(field: str) -> None:
    response = Response("x")
    with contextlib.suppress(ValueError):
        response.set_cookie("k", "v", **{field: "/a\r\nX-Injected: 1"})
    response.set_cookie("k2", "v\r\nX-Injected: 1")
    wire = await call(response, http_scope())
    names = [name for name, _ in wire.start["headers"]]
    assert b"x-injected" not in names
    for _, value in wire.start["headers"]:
        assert b"\r" not in value
        assert b"\n" not in value


def test_set_cookie_warns_past_max_cookie_size(app: MicroASGI) -> None:
    response = Response()
    response.set_cookie("fits", "x" * 4000)  # outside an app: 4093 bytes
    with pytest.warns(UserWarning, match="'big' cookie is 4106 bytes, more than the 4093"):
        response.set_cookie("big", "x" * 4094)  # + "big=" + "; Path=/"
    assert len(response.headers.getlist("Set-Cookie")) == 2  # set all the same
    app.config["MAX_COOKIE_SIZE"] = 100
    with app.app_context():
        with pytest.warns(UserWarning, match="more than the 100 bytes"):
            response.set_cookie("small", "x" * 100)
        app.config["MAX_COOKIE_SIZE"] = 0  # no limit
        response.set_cookie("any", "x" * 10_000)


def test_several_cookies() -> None:
    response = Response()
    response.set_cookie("a", "1")
    response.set_cookie("b", "2", httponly=True)
    assert cookies(response) == ["a=1; Path=/", "b=2; HttpOnly; Path=/"]


def test_delete_cookie_exact() -> None:
    response = Response()
    response.delete_cookie("session")
    assert cookies(response) == [f"session=; Expires={EPOCH}; Max-Age=0; Path=/"]


def test_delete_cookie_attributes() -> None:
    response = Response()
    response.delete_cookie(
        "k", path="/app", domain="example.com", secure=True, httponly=True, samesite="Lax"
    )
    (header,) = cookies(response)
    assert header.startswith("k=; ")
    assert attributes(header) == {
        "Domain": "example.com",
        "Expires": EPOCH,
        "Max-Age": "0",
        "Secure": None,
        "HttpOnly": None,
        "Path": "/app",
        "SameSite": "Lax",
    }


@pytest.mark.parametrize("kind", KINDS)
def test_cookies_through_a_view(app: MicroASGI, client: Any, kind: str) -> None:
    def index() -> Response:
        response = make_response("ok")
        response.set_cookie("a", "1", httponly=True, samesite="Lax")
        response.delete_cookie("old")
        return response

    add_view(app, "/", index, kind)
    response = client.get("/")
    assert response.headers.getlist("Set-Cookie") == [
        "a=1; HttpOnly; Path=/; SameSite=Lax",
        f"old=; Expires={EPOCH}; Max-Age=0; Path=/",
    ]


# -- redirect -----------------------------------------------------------------------------------


def test_redirect_default() -> None:
    response = redirect("/target")
    assert response.status_code == 302
    assert response.status == "302 FOUND"
    assert response.headers["Location"] == "/target"
    assert response.location == "/target"
    assert response.mimetype == "text/html"
    assert b'href="/target"' in response.data


@pytest.mark.parametrize("code", [301, 303, 307, 308])
def test_redirect_codes(code: int) -> None:
    response = redirect("https://example.com/x?q=1#frag", code)
    assert response.status_code == code
    assert response.headers["Location"] == "https://example.com/x?q=1#frag"


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/a b", "/a%20b"),
        ("/é?x=1 2", "/%C3%A9?x=1%202"),
        ("/already%20quoted", "/already%20quoted"),
        ("/a\r\nSet-Cookie: x=1", "/a%0D%0ASet-Cookie:%20x=1"),
        ("/q?a=1&b=2", "/q?a=1&b=2"),
    ],
)
def test_redirect_escaping(target: str, location: str) -> None:
    response = redirect(target)
    assert response.headers["Location"] == location


def test_redirect_html_escapes_the_target() -> None:
    response = redirect('/"><script>x</script>')
    assert b"<script>" not in response.data


def test_redirect_response_class() -> None:
    class MyResponse(Response):
        pass

    response = redirect("/x", 303, Response=MyResponse)
    assert type(response) is MyResponse
    assert response.status_code == 303


@pytest.mark.parametrize("kind", KINDS)
def test_redirect_from_a_view(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/old", lambda: redirect("/new"), kind)
    add_view(app, "/new", lambda: "arrived", kind)
    response = client.get("/old")
    assert response.status_code == 302
    assert response.headers["Location"] == "/new"
    response = client.get("/old", follow_redirects=True)
    assert response.status_code == 200
    assert response.data == b"arrived"
    assert [r.status_code for r in response.history] == [302]


# -- HEAD ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_head_has_length_but_no_body(app: MicroASGI, client: Any, kind: str) -> None:
    add_view(app, "/", lambda: "hello", kind)
    add_view(app, "/json", lambda: {"a": 1}, kind)
    response = client.head("/")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "5"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    response = client.head("/json")
    assert response.data == b""
    assert response.headers["Content-Length"] == "8"


def test_head_on_streamed_response_closes_generator(app: MicroASGI, client: Any) -> None:
    produced = []
    generators = []

    def gen() -> Iterator[str]:
        produced.append("a")
        yield "a"
        produced.append("b")
        yield "b"

    @app.get("/")
    def index() -> Any:
        generators.append(gen())
        return generators[0]

    response = client.head("/")
    assert response.status_code == 200
    assert response.data == b""
    assert produced == []
    assert inspect.getgeneratorstate(generators[0]) == inspect.GEN_CLOSED


# -- a Response is an ASGI app --------------------------------------------------------------------


async def test_response_is_an_asgi_app() -> None:
    wire = await call(Response("hi"), http_scope())
    assert wire.start == {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", b"2")],
    }
    assert len(wire.bodies) == 1
    assert wire.bodies[0]["type"] == "http.response.body"
    assert wire.bodies[0]["body"] == b"hi"
    assert wire.bodies[0].get("more_body", False) is False


async def test_response_asgi_app_is_reusable() -> None:
    response = Response("again", 201, {"X-A": "1"})
    first = await call(response, http_scope())
    second = await call(response, http_scope())
    assert first.start == second.start
    assert first.body == second.body == b"again"
    assert first.start["status"] == 201


async def test_response_asgi_head() -> None:
    wire = await call(Response("hello"), http_scope(method="HEAD"))
    assert dict(wire.start["headers"])[b"content-length"] == b"5"
    assert wire.body == b""


async def test_response_asgi_streamed_sync() -> None:
    wire = await call(Response(iter(["a", b"b"]), mimetype="text/plain"), http_scope())
    assert wire.start["headers"] == [(b"content-type", b"text/plain; charset=utf-8")]
    assert [(m["body"], m.get("more_body", False)) for m in wire.bodies] == [
        (b"a", True),
        (b"b", True),
        (b"", False),
    ]


async def test_response_asgi_streamed_async() -> None:
    async def agen() -> AsyncIterator[bytes]:
        yield b"x"
        yield b"y"

    wire = await call(Response(agen()), http_scope())
    assert wire.body == b"xy"
    assert wire.bodies[-1].get("more_body", False) is False


@pytest.mark.parametrize("kind", KINDS)
async def test_stream_stops_when_client_disconnects(kind: str) -> None:
    closed = asyncio.Event()
    produced = []

    def sync_gen() -> Iterator[bytes]:
        try:
            for i in range(10_000):
                produced.append(i)
                yield b"chunk"
        finally:
            closed.set()

    async def async_gen() -> AsyncIterator[bytes]:
        try:
            for i in range(10_000):
                produced.append(i)
                await asyncio.sleep(0.001)
                yield b"chunk"
        finally:
            closed.set()

    body = sync_gen() if kind == "sync" else async_gen()
    wire = await call(Response(body), http_scope(), Wire(disconnect_after_chunks=2))
    assert closed.is_set()
    assert wire.start["status"] == 200
    assert len(produced) < 10_000


async def test_stream_waiting_for_its_first_chunk_stops_when_client_disconnects() -> None:
    # An event stream whose first event is long in coming: the headers wait for
    # it, and a client that leaves meanwhile must still end the generator.
    closed = asyncio.Event()

    async def events() -> AsyncIterator[bytes]:
        try:
            await asyncio.sleep(60)
            yield b"data: late\n\n"
        finally:
            closed.set()

    wire = Wire()
    wire.sent_body = True  # receive() now reports the disconnect once `gone` is set
    asyncio.get_running_loop().call_later(0.05, wire.gone.set)
    await asyncio.wait_for(call(Response(events()), http_scope(), wire), 5)
    assert closed.is_set()
    assert wire.messages == []  # nothing was produced, so nothing was sent


async def test_stream_stops_when_send_raises_oserror() -> None:
    closed = []

    async def agen() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"chunk"
        finally:
            closed.append(True)

    sends = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sends.append(message)
        if len(sends) > 2:
            raise OSError("client gone")

    await asyncio.wait_for(Response(agen())(http_scope(), receive, send), 5)
    assert closed == [True]
    assert len(sends) == 3


def test_response_repr_does_not_crash() -> None:
    assert "200 OK" in repr(Response("x"))


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses_send_no_content_length(app: Any, client: Any, status: int) -> None:
    @app.get("/empty")
    async def empty() -> tuple[str, int]:
        return "ignored", status

    response = client.get("/empty")
    assert response.status_code == status
    assert "content-length" not in response.headers
    assert response.data == b""


def test_client_gone_recognises_servers_ways_of_saying_it() -> None:
    from microasgi.wrappers.response import client_gone

    assert client_gone(ConnectionResetError())
    assert client_gone(
        RuntimeError("unable to perform operation on <TCPTransport>; the handler is closed")
    )
    assert not client_gone(RuntimeError("Unexpected ASGI message 'http.response.start'"))
    assert not client_gone(ValueError())


@pytest.mark.parametrize("streamed", [False, True])
async def test_send_failing_because_the_client_left_is_not_an_app_error(
    streamed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    from microasgi import MicroASGI

    app = MicroASGI("gone", static_folder=None)

    @app.get("/")
    async def index() -> Any:
        if streamed:

            async def chunks() -> Any:
                yield "a"
                yield "b"

            return chunks()
        return "body"

    received = []

    async def receive() -> dict[str, Any]:
        if received:  # as a server does: after the body, wait for the disconnect
            await anyio.sleep_forever()
        received.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            # What uvicorn on uvloop raises when the transport closed a moment ago.
            raise RuntimeError(
                "unable to perform operation on <TCPTransport>; the handler is closed"
            )

    await app(http_scope(), receive, send)
    assert "Exception on" not in caplog.text


# -- Werkzeug's response ------------------------------------------------------------------


def test_the_response_is_werkzeugs_with_its_properties(app: MicroASGI) -> None:
    import werkzeug.datastructures as wd
    import werkzeug.sansio.response

    @app.get("/")
    def index() -> Response:
        response = Response("hello")
        assert isinstance(response, werkzeug.sansio.response.Response)
        assert isinstance(response.headers, wd.Headers)
        response.set_etag("v1")
        response.cache_control.max_age = 60
        response.cache_control.public = True
        response.vary.add("Accept-Language")
        response.allow.update(["GET", "HEAD"])
        response.content_language.add("en")
        return response

    @app.get("/assigned")
    def assigned() -> Response:
        response = Response("x")
        response.headers = wd.Headers([("X-From", "werkzeug"), ("Content-Type", "text/plain")])
        return response

    @app.get("/tuple")
    def as_tuple() -> Any:
        return "x", wd.Headers([("X-Tuple", "1")])

    client = app.test_client()
    response = client.get("/")
    assert response.headers["ETag"] == '"v1"'
    assert set(response.headers["Cache-Control"].split(", ")) == {"max-age=60", "public"}
    assert response.headers["Vary"] == "Accept-Language"
    assert response.headers["Allow"] == "GET, HEAD"
    assert response.headers["Content-Language"] == "en"
    whole = client.get("/assigned")
    assert (whole.headers["X-From"], whole.headers["Content-Type"]) == ("werkzeug", "text/plain")
    assert client.get("/tuple").headers["X-Tuple"] == "1"


def test_headers_assigned_whole_are_still_checked_before_they_are_sent(app: MicroASGI) -> None:
    import werkzeug.datastructures as wd

    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/")
    def index() -> Response:
        response = Response("x")
        headers = wd.Headers()
        headers._list.append(("X-Bad", "a\x0bb"))  # past Werkzeug's own check
        response.headers = headers
        return response

    response = app.test_client().get("/")
    assert response.status_code == 500
    assert "x-bad" not in response.headers


def test_make_conditional_answers_304_412_and_ranges(app: MicroASGI) -> None:
    @app.get("/doc")
    def doc() -> Response:
        response = Response(b"0123456789", mimetype="text/plain")
        response.set_etag("v1")
        return response.make_conditional(accept_ranges=True)  # the current request

    client = app.test_client()
    whole = client.get("/doc")
    assert (whole.status_code, whole.data, whole.headers["Accept-Ranges"]) == (
        200,
        b"0123456789",
        "bytes",
    )
    assert "Date" in whole.headers
    assert client.get("/doc", headers={"If-None-Match": '"v1"'}).status_code == 304
    assert client.get("/doc", headers={"If-Match": '"v2"'}).status_code == 412
    part = client.get("/doc", headers={"Range": "bytes=2-4"})
    assert (part.status_code, part.data, part.headers["Content-Range"]) == (
        206,
        b"234",
        "bytes 2-4/10",
    )
    assert client.get("/doc", headers={"Range": "bytes=20-"}).status_code == 416
    stale = client.get("/doc", headers={"Range": "bytes=2-4", "If-Range": '"v0"'})
    assert (stale.status_code, stale.data) == (200, b"0123456789")
