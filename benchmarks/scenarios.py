"""The scenarios: what is requested, and how a response is judged correct.

Every response of every run is checked. The first response of a run is checked
for meaning (:meth:`Scenario.check`: JSON compared as data, the fortunes table
for its escaped rows, the static file byte for byte); its exact status and
body then become the reference every later response of the run must equal
(frameworks differ in JSON spacing, so the reference is learned, not fixed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from .apps._common import (
    BAD_ITEM,
    FORTUNES,
    HELLO,
    ITEM,
    ITEM_QUERY,
    MESSAGE,
    ORDER,
    STATIC_NAME,
    UNTYPED_INVALID,
    item_summary,
    order_summary,
    query_summary,
    static_bytes,
)
from .routes_github import (
    GITHUB_API,
    GITHUB_DEEP,
    GITHUB_LAST_PARAM,
    GITHUB_LAST_STATIC,
    GITHUB_MISS,
    expected_body,
    many_routes,
)

ECHO_PAYLOAD = {
    "id": 42,
    "name": "microasgi",
    "tags": ["asgi", "flask", "benchmark"],
    "nested": {"ratio": 1.5, "missing": None, "ok": True},
}
ECHO_BODY = json.dumps(ECHO_PAYLOAD).encode()

Check = Callable[[int, bytes], "str | None"]


def _exact(expected: bytes, status: int = 200) -> Check:
    def check(got_status: int, body: bytes) -> str | None:
        if got_status != status:
            return f"status {got_status}, expected {status}"
        if body != expected:
            return f"body {body[:80]!r}, expected {expected[:80]!r}"
        return None

    return check


def _json(expected: object, expected_status: int = 200) -> Check:
    def check(status: int, body: bytes) -> str | None:
        if status != expected_status:
            return f"status {status}, expected {expected_status}"
        try:
            data = json.loads(body)
        except ValueError:
            return f"not JSON: {body[:80]!r}"
        return None if data == expected else f"JSON {data!r}, expected {expected!r}"

    return check


def _fortunes(status: int, body: bytes) -> str | None:
    if status != 200:
        return f"status {status}, expected 200"
    html = body.decode()
    if "<script>" in html:
        return "the <script> row is not escaped"
    rows = html.count("<tr><td>")
    if rows != len(FORTUNES):
        return f"{rows} rows, expected {len(FORTUNES)}"
    for fortune in FORTUNES:
        cell = f"<tr><td>{fortune['id']}</td><td>{escape(fortune['message'])}</td></tr>"
        if cell not in html:
            return f"missing row {cell!r}"
    return None


def _status(expected: int) -> Check:
    def check(status: int, body: bytes) -> str | None:
        return None if status == expected else f"status {status}, expected {expected}"

    return check


def _names_field(field: str) -> Check:
    """A 422 whose JSON body names the failing ``field`` (each framework has its own shape;
    Litestar's validation errors are 400s, as its docs say)."""

    def check(status: int, body: bytes) -> str | None:
        if status not in (400, 422):
            return f"status {status}, expected 422 (400 from Litestar)"
        try:
            json.loads(body)
        except ValueError:
            return f"not JSON: {body[:80]!r}"
        return None if field.encode() in body else f"{body[:120]!r} does not name {field!r}"

    return check


def _route(routes_name: str, path: str) -> Check:
    routes = GITHUB_API if routes_name == "github" else many_routes()
    body = expected_body(routes, "GET", path)
    assert body is not None, path
    return _exact(body.encode())


@dataclass(frozen=True)
class Scenario:
    """One request shape. ``app`` is ``main`` (the peer's app) or the route table
    app (``github``, ``many``); ``kind`` is ``http``, ``websocket`` or ``bridge``
    (the bare thread round trip)."""

    name: str
    title: str
    path: str
    check: Check
    method: str = "GET"
    body: bytes = b""
    query: str = ""
    app: str = "main"
    kind: str = "http"
    network: bool = True

    @property
    def unit(self) -> str:
        return "messages/s" if self.kind == "websocket" else "requests/s"

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
        if self.body:
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(self.body)).encode()),
            ]
        return headers


SCENARIOS: list[Scenario] = [
    Scenario("plaintext", "plaintext GET", "/plaintext", _exact(HELLO.encode())),
    Scenario("json", "JSON GET", "/json", _json(MESSAGE)),
    Scenario("path-param", "int path parameter", "/users/42", _exact(b"42")),
    Scenario("post-json", "POST JSON echo", "/echo", _json(ECHO_PAYLOAD), "POST", ECHO_BODY),
    Scenario("sync", "sync (def) view", "/sync", _exact(HELLO.encode())),
    Scenario("fortunes", "Jinja2 fortunes (10 rows)", "/fortunes", _fortunes),
    Scenario("static-1mb", "1 MiB static file", f"/static/{STATIC_NAME}", _exact(static_bytes())),
    Scenario(
        "github-static",
        "GitHub API (203 routes): last static",
        GITHUB_LAST_STATIC,
        _route("github", GITHUB_LAST_STATIC),
        app="github",
        network=False,
    ),
    Scenario(
        "github-param",
        "GitHub API (203 routes): last parametric",
        GITHUB_LAST_PARAM,
        _route("github", GITHUB_LAST_PARAM),
        app="github",
    ),
    Scenario(
        "github-deep",
        "GitHub API (203 routes): parametric, as deep as the 404",
        GITHUB_DEEP,
        _route("github", GITHUB_DEEP),
        app="github",
        network=False,
    ),
    Scenario(
        "github-404",
        "GitHub API (203 routes): 404",
        GITHUB_MISS,
        _status(404),
        app="github",
        network=False,
    ),
    Scenario(
        "many-first",
        "500 routes: first",
        "/route0/7",
        _route("many", "/route0/7"),
        app="many",
        network=False,
    ),
    Scenario(
        "many-last",
        "500 routes: last",
        "/route499/7",
        _route("many", "/route499/7"),
        app="many",
        network=False,
    ),
    Scenario("websocket", "websocket echo", "/ws", _status(0), kind="websocket"),
]


def _typed_pair(
    name: str, title: str, path: str, check: Check, untyped_check: Check | None = None, **kw: Any
) -> list[Scenario]:
    """A request to a typed route (``/t/...``) and the same to its untyped twin (``/u/...``)."""
    return [
        Scenario(f"typed-{name}", f"{title}, typed", f"/t{path}", check, app="typed", **kw),
        Scenario(
            f"untyped-{name}",
            f"{title}, untyped",
            f"/u{path}",
            untyped_check or check,
            app="typed",
            **kw,
        ),
    ]


_ITEM_OUT = item_summary(**ITEM)
_LINES = [(line["quantity"], line["price"]) for line in ORDER["lines"]]
_ORDER_OUT = order_summary(ORDER["id"], ORDER["customer"]["name"], _LINES)

#: The typed-routes set (``python -m benchmarks --set typed``): each typed request beside
#: the same request to an untyped route that does the URL work by hand, so the typed
#: route's cost over its own untyped one can be computed per framework.
TYPED_SCENARIOS: list[Scenario] = [
    *_typed_pair(
        "query",
        "(a) int path parameter + 2 query parameters",
        "/items/42",
        _json(query_summary(42, "shoe", 10)),
        query=ITEM_QUERY,
        network=False,
    ),
    *_typed_pair(
        "body",
        "(b) 5-field JSON body",
        "/items",
        _json(_ITEM_OUT),
        method="POST",
        body=json.dumps(ITEM).encode(),
        network=False,
    ),
    *_typed_pair(
        "nested",
        "(c) 50-item nested JSON body",
        "/orders",
        _json(_ORDER_OUT),
        method="POST",
        body=json.dumps(ORDER).encode(),
        network=False,
    ),
    *_typed_pair(
        "invalid",
        "(d) invalid JSON body (422)",
        "/items",
        _names_field("quantity"),
        _json(UNTYPED_INVALID, 422),
        method="POST",
        body=json.dumps(BAD_ITEM).encode(),
        network=False,
    ),
]
#: The typed-routes pairs: (typed scenario, its untyped twin).
TYPED_PAIRS = [(TYPED_SCENARIOS[i], TYPED_SCENARIOS[i + 1]) for i in range(0, 8, 2)]

SCENARIO_BY_NAME = {scenario.name: scenario for scenario in [*SCENARIOS, *TYPED_SCENARIOS]}

# The "bridge limit" row of the sync scenario: anyio.to_thread.run_sync(noop) alone.
BRIDGE_LIMIT = "to_thread (bridge limit)"
