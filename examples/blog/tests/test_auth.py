"""Registering, logging in and out."""

from __future__ import annotations

import pytest

from examples.blog.db import get_db
from examples.blog.security import check_password, hash_password
from microasgi import Flask, g, session
from microasgi.testing import TestClient

from .conftest import AuthActions


def test_register(client: TestClient, app: Flask) -> None:
    assert client.get("/auth/register").status_code == 200

    response = client.post("/auth/register", data={"username": "a", "password": "secret"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"

    with app.app_context():
        user = get_db().execute("SELECT * FROM user WHERE username = 'a'").fetchone()
    assert user is not None
    assert user["password"] != "secret"
    assert check_password(user["password"], "secret")


def test_register_welcomes_on_the_login_page(client: TestClient) -> None:
    response = client.post(
        "/auth/register", data={"username": "ada", "password": "x"}, follow_redirects=True
    )
    assert response.request.path == "/auth/login"
    assert '<div class="flash">Welcome, ada! You can log in now.</div>' in response.text


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "", "Username is required."),
        ("   ", "x", "Username is required."),
        ("a", "", "Password is required."),
        ("test", "test", "User test is already registered."),
    ],
)
def test_register_validate_input(
    client: TestClient, username: str, password: str, message: str
) -> None:
    response = client.post("/auth/register", data={"username": username, "password": password})
    assert response.status_code == 200
    assert f'<div class="flash">{message}</div>' in response.text
    # The form keeps what was typed.
    assert f'value="{username}"' in response.text


def test_register_without_form_fields_is_a_bad_request(client: TestClient) -> None:
    assert client.post("/auth/register", data={}).status_code == 400


def test_login(client: TestClient, auth: AuthActions) -> None:
    assert client.get("/auth/login").status_code == 200
    response = auth.login()
    assert response.headers["Location"] == "/"

    with client:
        client.get("/")
        assert session["user_id"] == 1
        assert g.user["username"] == "test"


def test_login_says_who_is_logged_in(client: TestClient) -> None:
    response = client.post(
        "/auth/login",
        data={"username": "other", "password": "other"},
        follow_redirects=True,
    )
    assert response.request.path == "/"
    assert '<div class="flash">Logged in as other.</div>' in response.text
    assert '<span class="user">other</span>' in response.text
    assert "Log Out" in response.text
    # The message is shown once.
    assert "Logged in as other." not in client.get("/").text


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody", "test"), ("test", "wrong"), ("test", "")],
)
def test_login_validate_input(auth: AuthActions, username: str, password: str) -> None:
    response = auth.login(username, password)
    assert response.status_code == 200
    assert "Incorrect username or password." in response.text


def test_login_replaces_the_previous_session(client: TestClient, auth: AuthActions) -> None:
    with client.session_transaction() as sess:
        sess["leftover"] = "from before"

    auth.login()

    with client.session_transaction() as sess:
        assert sess["user_id"] == 1
        assert "leftover" not in sess


def test_logout(client: TestClient, auth: AuthActions) -> None:
    auth.login()

    with client:
        response = auth.logout()
        assert response.headers["Location"] == "/"
        assert "user_id" not in session

    page = client.get("/").text
    assert '<div class="flash">Logged out.</div>' in page
    assert "Log In" in page


def test_logout_needs_a_post(client: TestClient) -> None:
    assert client.get("/auth/logout").status_code == 405


def test_session_set_by_hand_logs_in(client: TestClient) -> None:
    with client.session_transaction() as sess:
        sess["user_id"] = 2

    with client:
        page = client.get("/").text
        assert g.user["username"] == "other"
    assert '<span class="user">other</span>' in page


def test_anonymous_user_is_none(client: TestClient) -> None:
    with client:
        client.get("/auth/login")
        assert g.user is None


def test_password_hashes_are_salted() -> None:
    first, second = hash_password("same"), hash_password("same")
    assert first != second
    assert first.startswith("scrypt$")
    assert check_password(first, "same")
    assert check_password(second, "same")
    assert not check_password(first, "Same")


@pytest.mark.parametrize(
    "stored",
    ["", "plain text", "md5$1$2$3$00$00", "scrypt$x$8$1$00$00", "scrypt$16384$8$1$zz$00"],
)
def test_unknown_hashes_never_match(stored: str) -> None:
    assert not check_password(stored, "plain text")
