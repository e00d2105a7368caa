"""Reading, writing, editing and deleting posts."""

from __future__ import annotations

import pytest

from examples.blog.db import get_db
from microasgi import Flask
from microasgi.testing import TestClient

from .conftest import AuthActions


def test_index(client: TestClient, auth: AuthActions) -> None:
    response = client.get("/")
    assert "Log In" in response.text
    assert "Register" in response.text
    assert '<link rel="stylesheet" href="/static/style.css">' in response.text

    auth.login()
    response = client.get("/")
    assert "Log Out" in response.text
    assert "test title" in response.text
    assert "by test on 2018-01-01" in response.text
    assert "test\nbody" in response.text
    assert 'href="/1/update"' in response.text
    assert 'href="/create"' in response.text


def test_index_without_posts(client: TestClient, app: Flask) -> None:
    with app.app_context():
        db = get_db()
        db.execute("DELETE FROM post")
        db.commit()
    assert "No posts yet." in client.get("/").text


def test_index_escapes_what_users_write(client: TestClient, auth: AuthActions) -> None:
    auth.login()
    client.post("/create", data={"title": "<b>bold</b>", "body": "<script>x()</script>"})
    page = client.get("/").text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<script>x()" not in page


def test_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert ".flash" in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/create"),
        ("POST", "/create"),
        ("GET", "/1/update"),
        ("POST", "/1/update"),
        ("POST", "/1/delete"),
    ],
)
def test_login_required(client: TestClient, method: str, path: str) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"


def test_login_required_leads_to_the_login_page(client: TestClient) -> None:
    response = client.get("/create", follow_redirects=True)
    assert response.request.path == "/auth/login"
    assert "<h1>Log In</h1>" in response.text


def test_author_required(app: Flask, client: TestClient, auth: AuthActions) -> None:
    # Give the post to the other user.
    with app.app_context():
        db = get_db()
        db.execute("UPDATE post SET author_id = 2 WHERE id = 1")
        db.commit()

    auth.login()
    # The current user can't change another user's post...
    assert client.get("/1/update").status_code == 403
    assert client.post("/1/update", data={"title": "mine", "body": ""}).status_code == 403
    assert client.post("/1/delete").status_code == 403
    # ...and isn't offered to.
    assert 'href="/1/update"' not in client.get("/").text

    with app.app_context():
        post = get_db().execute("SELECT * FROM post WHERE id = 1").fetchone()
    assert post["title"] == "test title"


@pytest.mark.parametrize(("method", "path"), [("GET", "/2/update"), ("POST", "/2/delete")])
def test_exists_required(client: TestClient, auth: AuthActions, method: str, path: str) -> None:
    auth.login()
    response = client.open(path, method=method)
    assert response.status_code == 404
    assert "Post id 2 doesn&#39;t exist." in response.text


def test_create(client: TestClient, auth: AuthActions, app: Flask) -> None:
    auth.login()
    assert client.get("/create").status_code == 200
    response = client.post("/create", data={"title": "created", "body": ""})
    assert response.headers["Location"] == "/"

    with app.app_context():
        count = get_db().execute("SELECT COUNT(id) FROM post").fetchone()[0]
        newest = get_db().execute("SELECT * FROM post ORDER BY id DESC").fetchone()
    assert count == 2
    assert newest["title"] == "created"
    assert newest["author_id"] == 1


def test_create_flashes_and_lists_the_post_first(client: TestClient, auth: AuthActions) -> None:
    auth.login()
    response = client.post(
        "/create", data={"title": "Fresh", "body": "news"}, follow_redirects=True
    )
    assert '<div class="flash">Published &#34;Fresh&#34;.</div>' in response.text
    assert response.text.index("Fresh") < response.text.index("test title")


def test_update(client: TestClient, auth: AuthActions, app: Flask) -> None:
    auth.login()
    page = client.get("/1/update")
    assert page.status_code == 200
    assert 'value="test title"' in page.text
    assert 'action="/1/delete"' in page.text

    response = client.post(
        "/1/update", data={"title": "updated", "body": "new body"}, follow_redirects=True
    )
    assert '<div class="flash">Saved &#34;updated&#34;.</div>' in response.text

    with app.app_context():
        post = get_db().execute("SELECT * FROM post WHERE id = 1").fetchone()
    assert post["title"] == "updated"
    assert post["body"] == "new body"


@pytest.mark.parametrize("path", ["/create", "/1/update"])
def test_create_update_validate(client: TestClient, auth: AuthActions, path: str) -> None:
    auth.login()
    response = client.post(path, data={"title": "  ", "body": "kept"})
    assert response.status_code == 200
    assert '<div class="flash">Title is required.</div>' in response.text
    assert ">kept</textarea>" in response.text


def test_delete(client: TestClient, auth: AuthActions, app: Flask) -> None:
    auth.login()
    response = client.post("/1/delete")
    assert response.headers["Location"] == "/"

    with app.app_context():
        post = get_db().execute("SELECT * FROM post WHERE id = 1").fetchone()
    assert post is None

    page = client.get("/").text
    assert '<div class="flash">Deleted &#34;test title&#34;.</div>' in page
    assert "No posts yet." in page


def test_delete_needs_a_post(client: TestClient, auth: AuthActions) -> None:
    auth.login()
    assert client.get("/1/delete").status_code == 405
