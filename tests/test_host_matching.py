"""Subdomain and host matching, SERVER_NAME, and url_build_error_handlers, as in Flask.

Most tests are Flask 3.1's own (tests/test_basic.py ``test_subdomain*``,
``test_server_name*``, ``test_static_route_with_host_matching``,
``test_build_error_handler*``; test_blueprints.py's subdomain tests;
test_reqctx.py and test_testing.py's ``SERVER_NAME`` ones), run through our
test client: the host is given with ``base_url`` (or a whole URL), as there.
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest

from microasgi import Blueprint, BuildError, MicroASGI, request, url_for, websocket

MISMATCH = "Current server name"


def make_app(**kwargs: object) -> MicroASGI:
    app = MicroASGI("host_app", static_folder=None, **kwargs)  # type: ignore[arg-type]
    app.config["TESTING"] = True
    return app


# -- subdomain matching ------------------------------------------------------------


def test_subdomain_basic_support() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "localhost.localdomain"

    @app.route("/")
    def normal_index() -> str:
        return "normal index"

    @app.route("/", subdomain="test")
    def test_index() -> str:
        return "test index"

    client = app.test_client()
    assert client.get("/", base_url="http://localhost.localdomain/").text == "normal index"
    assert client.get("/", base_url="http://test.localhost.localdomain/").text == "test index"


def test_subdomain_matching() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "localhost.localdomain"

    @app.route("/", subdomain="<user>")
    def index(user: str) -> str:
        return f"index for {user}"

    client = app.test_client()
    rv = client.get("/", base_url="http://mitsuhiko.localhost.localdomain/")
    assert rv.text == "index for mitsuhiko"


def test_subdomain_matching_with_ports() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "localhost.localdomain:3000"

    @app.route("/", subdomain="<user>")
    def index(user: str) -> str:
        return f"index for {user}"

    rv = app.test_client().get("/", base_url="http://mitsuhiko.localhost.localdomain:3000/")
    assert rv.text == "index for mitsuhiko"


@pytest.mark.parametrize("matching", [False, True])
def test_subdomain_matching_other_name(matching: bool) -> None:
    app = make_app(subdomain_matching=matching)
    app.config["SERVER_NAME"] = "localhost.localdomain:3000"

    @app.route("/")
    def index() -> tuple[str, int]:
        return "", 204

    client = app.test_client()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", MISMATCH, UserWarning)
        # An IP address cannot match the name.
        rv = client.get("/", base_url="http://127.0.0.1:3000/")
        assert rv.status_code == (404 if matching else 204)
    # Without subdomain matching, any subdomain is the default one.
    rv = client.get("/", base_url="http://www.localhost.localdomain:3000/")
    assert rv.status_code == (404 if matching else 204)


def test_server_name_subdomain() -> None:
    app = make_app(subdomain_matching=True)
    client = app.test_client()

    @app.route("/")
    def index() -> str:
        return "default"

    @app.route("/", subdomain="foo")
    def subdomain() -> str:
        return "subdomain"

    app.config["SERVER_NAME"] = "dev.local:5000"
    assert client.get("/", base_url="http://dev.local:5000").text == "default"
    assert client.get("/", base_url="https://dev.local:5000").text == "default"

    # The scheme's default port is the same host as none.
    app.config["SERVER_NAME"] = "dev.local:443"
    assert client.get("/", base_url="https://dev.local").text == "default"
    app.config["SERVER_NAME"] = "dev.local"
    assert client.get("/", base_url="https://dev.local").text == "default"

    with pytest.warns(UserWarning, match=MISMATCH):
        assert client.get("/", base_url="http://foo.localhost").status_code == 404
    assert client.get("/", base_url="http://foo.dev.local").text == "subdomain"


@pytest.mark.parametrize(
    ("subdomain_matching", "host_matching", "expect_base", "expect_abc", "expect_xyz"),
    [
        (False, False, "default", "default", "default"),
        (True, False, "default", "abc", "<invalid>"),
        (False, True, "default", "abc", "default"),
    ],
)
def test_server_name_matching(
    subdomain_matching: bool,
    host_matching: bool,
    expect_base: str,
    expect_abc: str,
    expect_xyz: str,
) -> None:
    # Flask 3.1: SERVER_NAME does not restrict which hosts are answered. With
    # subdomain matching, a host not under it is Werkzeug's "<invalid>" subdomain.
    app = MicroASGI(
        "host_app",
        subdomain_matching=subdomain_matching,
        host_matching=host_matching,
        static_host="example.test" if host_matching else None,
    )
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/", defaults={"name": "default"}, host="<name>")
    @app.route("/", subdomain="<name>", host="<name>.example.test")
    def index(name: str) -> str:
        return name

    client = app.test_client()
    assert client.get(base_url="http://example.test").text == expect_base
    assert client.get(base_url="http://abc.example.test").text == expect_abc
    expect_warning: AbstractContextManager[object] = (
        pytest.warns(UserWarning, match=MISMATCH) if subdomain_matching else nullcontext()
    )
    with expect_warning:
        assert client.get(base_url="http://xyz.other.test").text == expect_xyz


def test_subdomain_matching_can_be_turned_on_after_construction() -> None:
    app = make_app()
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/", subdomain="api")
    def api() -> str:
        return "api"

    client = app.test_client()
    # Without subdomain matching, subdomain= only builds URLs: nothing matches here.
    assert client.get("/", base_url="http://api.example.test").status_code == 404
    app.subdomain_matching = True
    assert client.get("/", base_url="http://api.example.test").text == "api"


def test_subdomain_variables_come_before_path_variables_and_take_converters() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/items/<int:item>", subdomain="shop<int:shop>")
    def item(shop: int, item: int) -> dict[str, object]:
        return {"view_args": request.view_args, "shop": shop, "item": item}

    client = app.test_client()
    rv = client.get("/items/3", base_url="http://shop12.example.test")
    assert rv.json == {"view_args": {"shop": 12, "item": 3}, "shop": 12, "item": 3}
    # The int converter refuses "x": no rule on that subdomain.
    assert client.get("/items/3", base_url="http://shopx.example.test").status_code == 404


def test_static_subdomain_beats_a_variable_one() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/", subdomain="<user>")
    def user(user: str) -> str:
        return f"user {user}"

    @app.route("/", subdomain="www")
    def www() -> str:
        return "www"

    client = app.test_client()
    assert client.get("/", base_url="http://www.example.test").text == "www"
    assert client.get("/", base_url="http://bob.example.test").text == "user bob"


def test_405_and_slash_redirect_on_a_subdomain() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/form/", subdomain="api", methods=["POST"])
    def form() -> str:
        return "posted"

    @app.route("/form/", subdomain="<user>")
    def user_form(user: str) -> str:
        return user

    client = app.test_client()
    rv = client.get("/form/", base_url="http://api.example.test")
    assert rv.text == "api"  # the POST rule does not take GET; the variable one does
    rv = client.put("/form/", base_url="http://api.example.test")
    assert rv.status_code == 405
    assert set(rv.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    rv = client.options("/form/", base_url="http://api.example.test")
    assert set(rv.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    rv = client.get("/form", base_url="http://api.example.test")
    assert rv.status_code == 308
    assert rv.headers["Location"].endswith("/form/")


def test_websocket_rule_on_a_subdomain() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"

    @app.websocket("/ws", subdomain="<room>")
    async def room(room: str) -> None:
        await websocket.accept()
        await websocket.send_text(f"room {room}")

    client = app.test_client()
    with client.websocket_connect("/ws", headers={"Host": "lobby.example.test"}) as ws:
        assert ws.receive_text() == "room lobby"


# -- host matching -----------------------------------------------------------------


def test_static_route_with_host_matching(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "index.html").write_text("<h1>Hello</h1>")
    app = MicroASGI("host_app", host_matching=True, static_host="example.com", root_path=tmp_path)
    client = app.test_client()
    rv = client.get("http://example.com/static/index.html")
    assert rv.status_code == 200
    # Another host has no static route.
    assert client.get("http://other.com/static/index.html").status_code == 404
    with app.test_request_context():
        url = url_for("static", filename="index.html", _external=True)
        assert url == "http://example.com/static/index.html"
    # static_host without host_matching, or host_matching with a static folder but
    # no static_host, is Flask's AssertionError.
    with pytest.raises(AssertionError, match="static_host"):
        MicroASGI("host_app", static_host="example.com")
    with pytest.raises(AssertionError, match="static_host"):
        MicroASGI("host_app", host_matching=True)
    MicroASGI("host_app", host_matching=True, static_folder=None)


def test_host_matching_with_variables_and_ports() -> None:
    app = make_app(host_matching=True)

    @app.route("/", host="<user>.example.com")
    def user(user: str) -> str:
        return f"user {user}"

    @app.route("/", host="example.com:8080")
    def admin() -> str:
        return "admin"

    @app.route("/about")  # no host: as in Flask, matches no request under host matching
    def about() -> str:
        return "about"

    client = app.test_client()
    assert client.get("http://bob.example.com/").text == "user bob"
    assert client.get("http://BOB.Example.COM/").text == "user bob"  # hosts are lowercased
    assert client.get("http://example.com:8080/").text == "admin"
    assert client.get("https://bob.example.com:443/").text == "user bob"
    assert client.get("http://example.com/").status_code == 404
    assert client.get("http://example.com/about").status_code == 404


def test_url_for_across_hosts() -> None:
    app = make_app(host_matching=True)

    @app.route("/", host="example.com")
    def home() -> str:
        return url_for("profile", user="ann") + " " + url_for("home")

    @app.route("/me", host="<user>.example.com")
    def profile(user: str) -> str:
        return url_for("profile", user=user) + " " + url_for("home")

    client = app.test_client()
    assert client.get("http://example.com/").text == "http://ann.example.com/me /"
    assert client.get("http://bob.example.com/me").text == "/me http://example.com/"
    with app.test_request_context(base_url="https://example.com"):
        assert url_for("home", _external=True) == "https://example.com/"
        assert url_for("profile", user="cy", _anchor="top") == "https://cy.example.com/me#top"


def test_rule_with_a_host_prefers_the_current_one_when_building() -> None:
    app = make_app(host_matching=True)

    @app.route("/", host="a.test", endpoint="index")
    @app.route("/", host="b.test", endpoint="index")
    def index() -> str:
        return url_for("index")

    client = app.test_client()
    assert client.get("http://a.test/").text == "/"
    assert client.get("http://b.test/").text == "/"
    with app.test_request_context(base_url="http://c.test"):
        # The first rule registered (the decorator nearest the function), whole.
        assert url_for("index") == "http://b.test/"


# -- url_for and SERVER_NAME -------------------------------------------------------


def test_proper_test_request_context() -> None:
    app = make_app()
    app.config.update(SERVER_NAME="localhost.localdomain:5000")

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/", subdomain="foo")
    def sub() -> str:
        return "sub"

    with app.test_request_context("/"):
        assert url_for("index", _external=True) == "http://localhost.localdomain:5000/"
    with app.test_request_context("/"):
        # Without subdomain matching, subdomain= still builds URLs.
        assert url_for("sub", _external=True) == "http://foo.localhost.localdomain:5000/"
        assert url_for("sub") == "http://foo.localhost.localdomain:5000/"
    with app.test_request_context("/", environ_overrides={"HTTP_HOST": "localhost"}):
        pass
    app.config.update(SERVER_NAME="localhost")
    with app.test_request_context("/", environ_overrides={"SERVER_NAME": "localhost"}):
        pass
    app.config.update(SERVER_NAME="localhost:80")
    with app.test_request_context("/", environ_overrides={"SERVER_NAME": "localhost:80"}):
        assert url_for("index", _external=True) == "http://localhost/"


def test_external_urls_in_a_request_use_server_name_when_set() -> None:
    app = make_app()

    @app.route("/")
    def index() -> str:
        return url_for("index", _external=True)

    client = app.test_client()
    assert client.get("/", base_url="http://other.test").text == "http://other.test/"
    app.config["SERVER_NAME"] = "example.test"
    # As Flask 3.1: the request is still answered, and URLs name SERVER_NAME.
    assert client.get("/", base_url="http://other.test").text == "http://example.test/"


def test_subdomain() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/", subdomain="<company_id>")
    def view(company_id: str) -> str:
        return company_id

    with app.test_request_context():
        url = url_for("view", company_id="xxx")
    assert url == "http://xxx.example.com/"
    client = app.test_client()
    with client:
        response = client.get(url)
    assert response.status_code == 200
    assert response.text == "xxx"


def test_nosubdomain() -> None:
    app = make_app()
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/<company_id>")
    def view(company_id: str) -> str:
        return company_id

    with app.test_request_context():
        url = url_for("view", company_id="xxx")
    assert url == "/xxx"
    response = app.test_client().get(url)
    assert response.status_code == 200
    assert response.text == "xxx"


def test_url_for_outside_a_request_uses_server_name_and_subdomains() -> None:
    app = make_app(subdomain_matching=True)
    app.config.update(
        SERVER_NAME="example.com", APPLICATION_ROOT="/app", PREFERRED_URL_SCHEME="https"
    )

    @app.route("/", subdomain="<user>")
    def home(user: str) -> str:
        return user

    @app.route("/about")
    def about() -> str:
        return "about"

    with app.app_context():
        assert url_for("home", user="ann") == "https://ann.example.com/app/"
        assert url_for("about") == "https://example.com/app/about"
        assert url_for("about", _scheme="http", _external=True) == "http://example.com/app/about"


# -- blueprints --------------------------------------------------------------------


def test_blueprint_with_subdomain() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com:1234"
    app.config["APPLICATION_ROOT"] = "/foo"
    bp = Blueprint("company", __name__, subdomain="xxx")

    @bp.route("/")
    def index() -> str:
        return request.url

    app.register_blueprint(bp)
    # Flask's test passes subdomain="xxx" (to test_request_context and to the
    # client) and checks request.blueprint in the context: our
    # test_request_context does neither yet (it does not match the URL).
    ctx = app.test_request_context("/", base_url="http://xxx.example.com:1234/foo")
    assert ctx.request.url == "http://xxx.example.com:1234/foo/"
    rv = app.test_client().get("/", base_url="http://xxx.example.com:1234")
    assert rv.text == "http://xxx.example.com:1234/"


def test_register_blueprint_with_subdomain_overrides_its_own() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    bp = Blueprint("bp", __name__, subdomain="one")

    @bp.route("/")
    def index() -> str:
        return url_for(".index")

    app.register_blueprint(bp, subdomain="two")
    client = app.test_client()
    assert client.get("/", base_url="http://two.example.test").text == "/"
    assert client.get("/", base_url="http://one.example.test").status_code == 404


def test_a_rule_may_override_its_blueprints_subdomain() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    bp = Blueprint("bp", __name__, subdomain="api")

    @bp.route("/", subdomain="www")
    def index() -> str:
        return "www"

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/", base_url="http://www.example.test").text == "www"
    assert client.get("/", base_url="http://api.example.test").status_code == 404


def test_nesting_subdomains() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)

    @child.route("/child/")
    def index() -> str:
        return "child"

    parent.register_blueprint(child)
    app.register_blueprint(parent, subdomain="api")
    response = app.test_client().get("/child/", base_url="http://api.example.test")
    assert response.status_code == 200


def test_child_and_parent_subdomain() -> None:
    app = make_app(subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__, subdomain="api")

    @child.route("/")
    def index() -> str:
        return "child"

    parent.register_blueprint(child)
    app.register_blueprint(parent, subdomain="parent")
    client = app.test_client()
    assert client.get("/", base_url="http://api.parent.example.test").status_code == 200
    assert client.get("/", base_url="http://parent.example.test").status_code == 404


# -- url_build_error_handlers ------------------------------------------------------


def test_build_error_handler() -> None:
    app = make_app()
    with app.test_request_context(), pytest.raises(BuildError):
        url_for("spam")

    # The error is re-raised when it is not the one being handled.
    try:
        with app.test_request_context():
            url_for("spam")
    except BuildError as err:
        error = err
    try:
        raise RuntimeError("Test case where BuildError is not current.")
    except RuntimeError:
        with pytest.raises(BuildError):
            app.handle_url_build_error(error, "spam", {})

    def handler(error: BuildError, endpoint: str, values: dict[str, object]) -> str:
        return "/test_handler/"

    app.url_build_error_handlers.append(handler)
    with app.test_request_context():
        assert url_for("spam") == "/test_handler/"


def test_build_error_handler_reraise() -> None:
    app = make_app()

    def handler_raises_build_error(
        error: BuildError, endpoint: str, values: dict[str, object]
    ) -> str:
        raise error

    app.url_build_error_handlers.append(handler_raises_build_error)
    with app.test_request_context(), pytest.raises(BuildError):
        url_for("not.existing")


def test_url_for_passes_special_values_to_build_error_handler() -> None:
    app = make_app()
    seen: list[dict[str, object]] = []

    def handler(error: BuildError, endpoint: str, values: dict[str, object]) -> str:
        seen.append(values)
        return "handled"

    app.url_build_error_handlers.append(handler)
    with app.test_request_context():
        assert url_for("/") == "handled"
    assert seen == [{"_external": False, "_anchor": None, "_method": None, "_scheme": None}]


def test_build_error_handlers_returning_none_pass_to_the_next() -> None:
    app = make_app()
    calls: list[str] = []

    def declines(error: BuildError, endpoint: str, values: dict[str, object]) -> None:
        calls.append("declines")

    def builds(error: BuildError, endpoint: str, values: dict[str, object]) -> str:
        calls.append(f"builds {endpoint} {values['page']}")
        return f"https://elsewhere.test/{endpoint}?page={values['page']}"

    app.url_build_error_handlers.extend([declines, builds])
    with app.test_request_context():
        assert url_for("legacy", page=2) == "https://elsewhere.test/legacy?page=2"
    assert calls == ["declines", "builds legacy 2"]
    app.url_build_error_handlers.remove(builds)
    with app.test_request_context(), pytest.raises(BuildError):
        url_for("legacy")


def test_build_error_is_werkzeugs() -> None:
    from werkzeug.routing import BuildError as WerkzeugBuildError

    app = make_app()
    with app.test_request_context(), pytest.raises(WerkzeugBuildError) as info:
        url_for("missing", x=1)
    assert info.value.endpoint == "missing"
    assert info.value.values == {"x": 1}
    assert "Could not build url for endpoint 'missing'" in str(info.value)
