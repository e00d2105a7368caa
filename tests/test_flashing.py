"""Flash messages: flashed in one request, read (once) in a later one."""

from __future__ import annotations

from typing import Any

import pytest

from microasgi import MicroASGI, request, session
from microasgi.flashing import flash, get_flashed_messages
from microasgi.templating import render_template_string
from microasgi.testing import TestClient

from .kinds import KIND, as_kind


def _flash_from_query() -> str:
    for item in request.args.getlist("m"):
        category, _, message = item.rpartition(":")
        if category:
            flash(message, category)
        else:
            flash(message)
    return "flashed"


def _read() -> dict[str, Any]:
    categories = request.args.getlist("category")
    return {
        "plain": get_flashed_messages(category_filter=categories),
        "pairs": get_flashed_messages(with_categories=True, category_filter=categories),
    }


@pytest.fixture(params=["sync", "async"])
def flash_app(request: pytest.FixtureRequest, app: MicroASGI) -> MicroASGI:
    """``/flash?m=category:text`` flashes, ``/read`` and ``/page`` read (views of one kind)."""
    kind = request.param
    app.add_url_rule("/flash", endpoint="flash", view_func=as_kind(kind, _flash_from_query))
    app.add_url_rule("/read", endpoint="read", view_func=as_kind(kind, _read))
    page = (
        "{% for category, message in get_flashed_messages(with_categories=true) %}"
        "[{{ category }}:{{ message }}]{% endfor %}"
    )
    app.add_url_rule(
        "/page", endpoint="page", view_func=as_kind(kind, lambda: render_template_string(page))
    )
    return app


def test_flash_then_read_in_the_next_request(flash_app: MicroASGI, client: TestClient) -> None:
    assert client.get("/flash?m=hello").text == "flashed"
    assert client.get("/read").json == {"plain": ["hello"], "pairs": [["message", "hello"]]}


def test_messages_are_gone_once_read(flash_app: MicroASGI, client: TestClient) -> None:
    client.get("/flash?m=once")
    assert client.get("/read").json["plain"] == ["once"]
    assert client.get("/read").json == {"plain": [], "pairs": []}
    with client.session_transaction() as sess:
        assert "_flashes" not in sess


def test_read_in_a_template(flash_app: MicroASGI, client: TestClient) -> None:
    client.get("/flash?m=error:Bad <input>&m=Saved")
    assert client.get("/page").text == "[error:Bad &lt;input&gt;][message:Saved]"
    assert client.get("/page").text == ""


def test_several_flashes_keep_their_order_across_requests(
    flash_app: MicroASGI, client: TestClient
) -> None:
    client.get("/flash?m=one&m=info:two")
    client.get("/flash?m=warning:three")
    assert client.get("/read").json["pairs"] == [
        ["message", "one"],
        ["info", "two"],
        ["warning", "three"],
    ]


def test_category_filter(flash_app: MicroASGI, client: TestClient) -> None:
    client.get("/flash?m=error:e1&m=info:i1&m=error:e2&m=m1")
    response = client.get("/read?category=error")
    assert response.json == {"plain": ["e1", "e2"], "pairs": [["error", "e1"], ["error", "e2"]]}
    # Filtering still takes every message out of the session.
    assert client.get("/read").json["plain"] == []


def test_with_categories_and_filters_in_one_request(app: MicroASGI, client: TestClient) -> None:
    @app.get("/")
    def index() -> dict[str, Any]:
        flash("a", "error")
        flash("b", "info")
        flash("c")
        return {
            "all": get_flashed_messages(),
            "pairs": get_flashed_messages(with_categories=True),
            "errors": get_flashed_messages(category_filter=["error"]),
            "error_string": get_flashed_messages(category_filter="error"),
            "two": get_flashed_messages(True, ["info", "message"]),
        }

    assert client.get("/").json == {
        "all": ["a", "b", "c"],
        "pairs": [["error", "a"], ["info", "b"], ["message", "c"]],
        "errors": ["a"],
        "error_string": ["a"],
        "two": [["info", "b"], ["message", "c"]],
    }


def test_reads_in_one_request_see_the_same_messages(app: MicroASGI, client: TestClient) -> None:
    @app.get("/flash")
    def set_flash() -> str:
        flash("first")
        return ""

    @app.get("/read")
    def read() -> dict[str, Any]:
        first = get_flashed_messages()
        flash("later")  # goes to the session, for the next request
        return {"first": first, "again": get_flashed_messages()}

    client.get("/flash")
    assert client.get("/read").json == {"first": ["first"], "again": ["first"]}
    assert client.get("/read").json == {"first": ["later"], "again": ["later"]}


@KIND
def test_flash_marks_the_session_modified(kind: str, app: MicroASGI, client: TestClient) -> None:
    seen: dict[str, Any] = {}

    def view() -> str:
        flash("x")
        seen["modified"] = session.modified
        seen["stored"] = session["_flashes"]
        return ""

    app.add_url_rule("/", view_func=as_kind(kind, view), endpoint="view")
    response = client.get("/")
    assert seen == {"modified": True, "stored": [("message", "x")]}
    assert any(v.startswith("session=") for v in response.headers.getlist("set-cookie"))


def test_nothing_flashed_is_an_empty_list_and_sets_no_cookie(
    app: MicroASGI, client: TestClient
) -> None:
    app.add_url_rule("/", view_func=lambda: {"messages": get_flashed_messages()}, endpoint="v")
    response = client.get("/")
    assert response.json == {"messages": []}
    assert "set-cookie" not in response.headers


def test_outside_a_request_is_an_error(app: MicroASGI) -> None:
    with app.app_context():
        with pytest.raises(RuntimeError, match="Working outside of request context"):
            flash("x")
        with pytest.raises(RuntimeError, match="Working outside of request context"):
            get_flashed_messages()


def test_in_a_test_request_context(app: MicroASGI) -> None:
    with app.test_request_context("/"):
        flash("direct", "info")
        assert get_flashed_messages(with_categories=True) == [("info", "direct")]


def test_without_a_secret_key_flash_says_why(app: MicroASGI, client: TestClient) -> None:
    app.config["SECRET_KEY"] = None

    @app.get("/")
    def index() -> str:
        flash("x")
        return "unreachable"

    with pytest.raises(RuntimeError, match="no secret key was set"):
        client.get("/")
