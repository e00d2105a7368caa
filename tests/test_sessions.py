"""Signed-cookie sessions with Flask's semantics."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from microasgi import MicroASGI, Response, request, session
from microasgi.sessions import SecureCookieSession, SessionInterface

from .kinds import KIND, as_kind


def session_set_cookies(response: Any, name: str = "session") -> list[str]:
    """The Set-Cookie headers of ``response`` for cookie ``name``."""
    return [v for v in response.headers.getlist("set-cookie") if v.startswith(f"{name}=")]


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, str]]:
    """``name=value; Attr=x; Flag`` -> (name, value, {"attr": "x", "flag": ""})."""
    first, *rest = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    attrs = {}
    for part in rest:
        key, _, val = part.partition("=")
        attrs[key.lower()] = val
    return name, value, attrs


def signed_value(response: Any, name: str = "session") -> str:
    (header,) = session_set_cookies(response, name)
    return parse_set_cookie(header)[1]


@pytest.fixture
def session_app(app: MicroASGI) -> MicroASGI:
    @app.route("/set", methods=["POST"])
    def set_value() -> str:
        for key, value in request.get_json().items():
            session[key] = value
        return "set"

    @app.get("/get")
    def get_value() -> dict[str, Any]:
        return dict(session)

    @app.get("/read/<key>")
    def read_key(key: str) -> dict[str, Any]:
        return {key: session.get(key)}

    @app.get("/untouched")
    def untouched() -> str:
        return "untouched"

    @app.get("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    @app.get("/permanent")
    def permanent() -> str:
        session.permanent = True
        session["p"] = 1
        return "permanent"

    return app


@KIND
def test_value_set_in_a_view_is_read_in_the_next_request(
    app: MicroASGI, client: Any, kind: str
) -> None:
    def write() -> str:
        session["user"] = {"id": 1, "name": "Ann"}
        session["count"] = session.get("count", 0) + 1
        return "ok"

    def read() -> dict[str, Any]:
        return {"user": session.get("user"), "count": session.get("count")}

    app.get("/write")(as_kind(kind, write))
    app.get("/read")(as_kind(kind, read))

    assert client.get("/read").json == {"user": None, "count": None}
    client.get("/write")
    client.get("/write")
    assert client.get("/read").json == {"user": {"id": 1, "name": "Ann"}, "count": 2}


def test_set_cookie_only_when_modified(session_app: MicroASGI, client: Any) -> None:
    response = client.post("/set", json={"a": 1})
    (header,) = session_set_cookies(response)
    name, value, attrs = parse_set_cookie(header)
    assert name == "session"
    assert value
    assert "expires" not in attrs  # not permanent: a browser-session cookie
    assert "httponly" in attrs
    assert attrs["path"] == "/"

    assert session_set_cookies(client.get("/read/a")) == []
    assert session_set_cookies(client.get("/untouched")) == []
    assert client.get("/read/a").json == {"a": 1}


def test_vary_cookie_when_the_session_is_accessed(session_app: MicroASGI, client: Any) -> None:
    assert client.get("/read/x").headers.get("Vary") == "Cookie"
    assert "Vary" not in client.get("/untouched").headers
    response = client.post("/set", json={"a": 1})
    assert response.headers.get("Vary") == "Cookie"


def test_vary_cookie_joins_an_existing_vary(app: MicroASGI, client: Any) -> None:
    @app.get("/")
    def index() -> Response:
        session.get("x")
        return Response("x", headers={"Vary": "Accept-Encoding"})

    vary = client.get("/").headers.get("Vary")
    assert {v.strip() for v in vary.split(",")} == {"Accept-Encoding", "Cookie"}


def test_mutating_a_nested_value_needs_modified(app: MicroASGI, client: Any) -> None:
    @app.get("/init")
    def init() -> str:
        session["items"] = []
        return "init"

    @app.get("/append/<item>")
    def append(item: str) -> str:
        session["items"].append(item)
        if request.args.get("mark"):
            session.modified = True
        return "appended"

    @app.get("/items")
    def items() -> dict[str, Any]:
        return {"items": session["items"]}

    client.get("/init")
    response = client.get("/append/a")
    assert session_set_cookies(response) == []
    assert client.get("/items").json == {"items": []}
    response = client.get("/append/b?mark=1")
    assert len(session_set_cookies(response)) == 1
    assert client.get("/items").json == {"items": ["b"]}


@pytest.mark.parametrize(
    "spoil",
    [
        # The signature's first character: all six of its bits count (the last
        # base64 character may carry padding bits that decode to the same bytes).
        pytest.param(
            lambda v: (
                (head := v[: v.rindex(".") + 1])
                + ("A" if v[len(head)] != "A" else "B")
                + v[len(head) + 1 :]
            ),
            id="signature",
        ),
        pytest.param(lambda v: "eyJhZG1pbiI6dHJ1ZX0" + v[v.index(".") :], id="payload"),
        pytest.param(lambda v: v[: len(v) // 2], id="truncated"),
        pytest.param(lambda v: "garbage", id="garbage"),
        pytest.param(lambda v: "a.b.c", id="dots"),
        pytest.param(lambda v: ".....", id="only-dots"),
        pytest.param(lambda v: "eyJ4IjoxfQ", id="unsigned"),
        pytest.param(lambda v: "%%%", id="percent"),
    ],
)
def test_bad_cookie_is_an_empty_session(
    session_app: MicroASGI, client: Any, spoil: Callable[[str], str]
) -> None:
    good = signed_value(client.post("/set", json={"admin": False, "user": "ann"}))
    bad = spoil(good)
    assert bad != good

    other = session_app.test_client()
    try:
        response = other.get("/get", headers={"Cookie": f"session={bad}"})
        assert response.status_code == 200
        assert response.json == {}
        # A new session can be started over the bad one.
        response = other.post("/set", json={"fresh": True}, headers={"Cookie": f"session={bad}"})
        new_value = signed_value(response)
        response = other.get("/get", headers={"Cookie": f"session={new_value}"})
        assert response.json == {"fresh": True}
    finally:
        other.close()


def test_signed_non_dict_payload_is_an_empty_session(session_app: MicroASGI, client: Any) -> None:
    serializer = session_app.session_interface.get_signing_serializer(session_app)
    value = serializer.dumps(["not", "a", "dict"])
    response = client.get("/get", headers={"Cookie": f"session={value}"})
    assert (response.status_code, response.json) == (200, {})


def test_without_secret_key_reading_works_and_writing_explains(
    session_app: MicroASGI, client: Any
) -> None:
    session_app.secret_key = None
    response = client.get("/read/user")
    assert (response.status_code, response.json) == (200, {"user": None})
    assert session_set_cookies(response) == []
    with pytest.raises(RuntimeError, match="secret key"):
        client.post("/set", json={"user": "x"})


def test_without_secret_key_write_is_500_when_not_propagating(
    session_app: MicroASGI, client: Any
) -> None:
    session_app.secret_key = None
    session_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post("/set", json={"user": "x"})
    assert response.status_code == 500
    assert session_set_cookies(response) == []


def test_secret_key_fallbacks_rotation(session_app: MicroASGI) -> None:
    session_app.secret_key = "old key"
    first = session_app.test_client()
    try:
        old_cookie = signed_value(first.post("/set", json={"user": "ann"}))
    finally:
        first.close()

    def read(cookie: str) -> Any:
        client = session_app.test_client()
        try:
            return client.get("/get", headers={"Cookie": f"session={cookie}"}).json
        finally:
            client.close()

    # Rotated without keeping the old key: the old cookie no longer opens.
    session_app.secret_key = "new key"
    assert read(old_cookie) == {}

    # With the old key in the fallbacks it does, and new cookies use the new key.
    session_app.config["SECRET_KEY_FALLBACKS"] = ["older key", "old key"]
    assert read(old_cookie) == {"user": "ann"}
    client = session_app.test_client()
    try:
        new_cookie = signed_value(
            client.post("/set", json={"user": "bob"}, headers={"Cookie": f"session={old_cookie}"})
        )
    finally:
        client.close()
    session_app.config["SECRET_KEY_FALLBACKS"] = None
    assert read(new_cookie) == {"user": "bob"}


def test_permanent_session_gets_expires(session_app: MicroASGI, client: Any) -> None:
    session_app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=2)
    before = datetime.now(timezone.utc)
    response = client.get("/permanent")
    (header,) = session_set_cookies(response)
    _, _, attrs = parse_set_cookie(header)
    expires = parsedate_to_datetime(attrs["expires"])
    expected = before + timedelta(hours=2)
    assert abs((expires - expected).total_seconds()) < 5
    assert client.get("/read/p").json == {"p": 1}


def test_permanent_flag_survives_requests(app: MicroASGI, client: Any) -> None:
    @app.get("/make")
    def make() -> str:
        session.permanent = True
        session["x"] = 1
        return "made"

    @app.get("/is-permanent")
    def is_permanent() -> str:
        return str(session.permanent)

    assert client.get("/is-permanent").text == "False"
    client.get("/make")
    assert client.get("/is-permanent").text == "True"


@pytest.mark.parametrize("refresh", [True, False])
def test_permanent_session_refresh_each_request(
    session_app: MicroASGI, client: Any, refresh: bool
) -> None:
    session_app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh
    client.get("/permanent")
    response = client.get("/read/p")
    assert response.json == {"p": 1}
    assert len(session_set_cookies(response)) == (1 if refresh else 0)
    # A non-permanent session is never refreshed.
    client.get("/clear")
    client.post("/set", json={"q": 1})
    assert session_set_cookies(client.get("/read/q")) == []


def test_expired_cookie_is_an_empty_session(
    session_app: MicroASGI, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=1)
    serializer = session_app.session_interface.get_signing_serializer(session_app)
    real_time = time.time
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: real_time() - 3600)
        old_cookie = serializer.dumps({"user": "stale"})
    fresh_cookie = serializer.dumps({"user": "fresh"})

    response = client.get("/get", headers={"Cookie": f"session={old_cookie}"})
    assert (response.status_code, response.json) == (200, {})
    response = client.get("/get", headers={"Cookie": f"session={fresh_cookie}"})
    assert response.json == {"user": "fresh"}


def test_session_cookie_options(session_app: MicroASGI, client: Any) -> None:
    session_app.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
    )
    response = client.post("/set", json={"a": 1})
    assert session_set_cookies(response) == []
    (header,) = session_set_cookies(response, "sid")
    name, value, attrs = parse_set_cookie(header)
    assert name == "sid"
    assert value
    assert attrs["domain"] == "example.com"
    assert attrs["path"] == "/app"
    assert "httponly" not in attrs
    assert "secure" in attrs
    assert attrs["samesite"] == "Lax"
    assert "partitioned" in attrs


def test_session_cookie_name_is_read_back(session_app: MicroASGI, client: Any) -> None:
    session_app.config["SESSION_COOKIE_NAME"] = "sid"
    value = signed_value(client.post("/set", json={"who": "me"}), "sid")
    response = client.get("/get", headers={"Cookie": f"sid={value}"})
    assert response.json == {"who": "me"}
    assert client.get("/get", headers={"Cookie": f"session={value}"}).json == {}


def test_session_cookie_path_defaults_to_application_root(
    session_app: MicroASGI, client: Any
) -> None:
    session_app.config["APPLICATION_ROOT"] = "/root"
    (header,) = session_set_cookies(client.post("/set", json={"a": 1}))
    assert parse_set_cookie(header)[2]["path"] == "/root"


def test_clearing_the_session_deletes_the_cookie(session_app: MicroASGI, client: Any) -> None:
    client.post("/set", json={"user": "ann"})
    assert client.get("/get").json == {"user": "ann"}
    response = client.get("/clear")
    (header,) = session_set_cookies(response)
    name, value, attrs = parse_set_cookie(header)
    assert (name, value) == ("session", "")
    expired = attrs.get("max-age") == "0" or (
        "expires" in attrs and parsedate_to_datetime(attrs["expires"]) < datetime.now(timezone.utc)
    )
    assert expired
    assert attrs["path"] == "/"
    assert response.headers.get("Vary") == "Cookie"
    assert client.get("/get").json == {}


def test_session_keeps_flask_tagged_types(app: MicroASGI, client: Any) -> None:
    # Flask's session serializer round-trips tuples, bytes, datetimes and UUIDs.
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")

    @app.get("/store")
    def store() -> str:
        session["pair"] = (1, 2)
        session["raw"] = b"\x00\xff"
        session["when"] = moment
        session["id"] = ident
        return "stored"

    @app.get("/check")
    def check() -> dict[str, Any]:
        return {
            "pair": session["pair"] == (1, 2),
            "raw": session["raw"] == b"\x00\xff",
            "when": session["when"] == moment,
            "id": session["id"] == ident,
        }

    client.get("/store")
    assert client.get("/check").json == {"pair": True, "raw": True, "when": True, "id": True}


def test_session_interface_is_pluggable(app: MicroASGI, client: Any) -> None:
    store: dict[str, dict[str, Any]] = {}
    calls: list[str] = []

    class ServerSideSessions(SessionInterface):
        def open_session(self, app: Any, request: Any) -> SecureCookieSession:
            calls.append("open")
            sid = request.cookies.get("sid")
            data = SecureCookieSession(store.get(sid or "", {}))
            data.sid = sid or f"sid{len(store) + 1}"  # type: ignore[attr-defined]
            return data

        def save_session(self, app: Any, session: Any, response: Response) -> None:
            calls.append("save")
            if session.modified:
                store[session.sid] = dict(session)
                response.set_cookie("sid", session.sid)

    app.session_interface = ServerSideSessions()

    @app.get("/login")
    def login() -> str:
        session["user"] = "ann"
        return "ok"

    @app.get("/me")
    def me() -> str:
        return str(session.get("user"))

    @app.get("/static-page")
    def static_page() -> str:
        return "no session"

    client.get("/login")
    assert store == {"sid1": {"user": "ann"}}
    assert client.get("/me").text == "ann"
    assert calls == ["open", "save", "open", "save"]
    assert client.get("/static-page").text == "no session"


def test_of_two_session_cookies_the_first_wins(session_app: MicroASGI) -> None:
    # As in Flask: a second `session` cookie (one set for a parent domain by a
    # sibling site, say) must not replace the one the browser sends first.
    client = session_app.test_client(use_cookies=False)
    mine = signed_value(client.post("/set", json={"user": "ada"}))
    theirs = signed_value(client.post("/set", json={"user": "mallory"}))
    both = client.get("/get", headers={"Cookie": f"session={mine}; session={theirs}"})
    assert both.json == {"user": "ada"}
    swapped = client.get("/get", headers={"Cookie": f"session={theirs}; session={mine}"})
    assert swapped.json == {"user": "mallory"}
