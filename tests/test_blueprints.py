"""Blueprints: prefixes, nesting, scoped hooks and handlers, app-wide hooks, names."""

from __future__ import annotations

import click
import pytest

from microasgi import MicroASGI, abort, g, request, url_for
from microasgi.blueprints import Blueprint
from microasgi.testing import TestClient
from microasgi.views import MethodView


def make_app() -> MicroASGI:
    app = MicroASGI("bp_app", static_folder=None)
    app.config["TESTING"] = True
    return app


def test_routes_get_the_prefix_and_dotted_endpoints() -> None:
    app = make_app()
    bp = Blueprint("users", __name__, url_prefix="/users")

    @bp.get("/")
    async def index() -> str:
        return f"{request.endpoint} {request.blueprint}"

    @bp.get("/<int:user_id>")
    def show(user_id: int) -> dict[str, object]:
        return {"id": user_id, "url": url_for(".show", user_id=user_id)}

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/users/").text == "users.index users"
    assert client.get("/users/7").json == {"id": 7, "url": "/users/7"}
    with app.test_request_context():
        assert url_for("users.show", user_id=3) == "/users/3"


def test_register_options_override_the_blueprints_own() -> None:
    app = make_app()
    bp = Blueprint("items", __name__, url_prefix="/items")

    @bp.get("/")
    async def index() -> str:
        return request.blueprint or ""

    app.register_blueprint(bp)
    app.register_blueprint(bp, url_prefix="/v2/items", name="items_v2")
    client = app.test_client()
    assert client.get("/items/").text == "items"
    assert client.get("/v2/items/").text == "items_v2"


def test_registering_twice_under_one_name_is_refused() -> None:
    app = make_app()
    bp = Blueprint("once", __name__)
    app.register_blueprint(bp)
    with pytest.raises(ValueError, match="already registered for this blueprint"):
        app.register_blueprint(bp)
    other = Blueprint("once", __name__)
    with pytest.raises(ValueError, match="a different blueprint"):
        app.register_blueprint(other)


def test_nested_blueprints_join_prefixes_and_names() -> None:
    app = make_app()
    parent = Blueprint("api", __name__, url_prefix="/api")
    child = Blueprint("v1", __name__, url_prefix="/v1")
    grandchild = Blueprint("users", __name__, url_prefix="/users")

    @grandchild.get("/<name>")
    async def show(name: str) -> dict[str, object]:
        return {
            "endpoint": request.endpoint,
            "blueprint": request.blueprint,
            "blueprints": request.blueprints,
            "self": url_for(".show", name=name),
            "sibling": url_for("api.v1.ping"),
        }

    @child.get("/ping")
    async def ping() -> str:
        return "pong"

    child.register_blueprint(grandchild)
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    client = app.test_client()
    assert client.get("/api/v1/ping").text == "pong"
    assert client.get("/api/v1/users/ada").json == {
        "endpoint": "api.v1.users.show",
        "blueprint": "api.v1.users",
        "blueprints": ["api.v1.users", "api.v1", "api"],
        "self": "/api/v1/users/ada",
        "sibling": "/api/v1/ping",
    }


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_hooks_apply_beneath_the_blueprint_only(kind: str) -> None:
    app = make_app()
    calls: list[str] = []
    bp = Blueprint("admin", __name__, url_prefix="/admin")

    def record(name: str):  # type: ignore[no-untyped-def]
        if kind == "async":

            async def hook(*args: object) -> object:
                calls.append(name)
                return args[0] if name.endswith("after") else None

        else:

            def hook(*args: object) -> object:  # type: ignore[misc]
                calls.append(name)
                return args[0] if name.endswith("after") else None

        return hook

    app.before_request(record("app before"))
    app.after_request(record("app after"))
    bp.before_request(record("bp before"))
    bp.after_request(record("bp after"))
    bp.teardown_request(record("bp teardown"))

    @bp.get("/")
    async def admin() -> str:
        return "admin"

    @app.get("/")
    async def home() -> str:
        return "home"

    app.register_blueprint(bp)
    client = app.test_client()
    client.get("/admin/")
    assert calls == ["app before", "bp before", "bp after", "app after", "bp teardown"]
    calls.clear()
    client.get("/")
    assert calls == ["app before", "app after"]


def test_blueprint_before_request_short_circuits() -> None:
    app = make_app()
    bp = Blueprint("locked", __name__, url_prefix="/locked")

    @bp.before_request
    async def refuse() -> tuple[str, int]:
        return "no entry", 403

    @bp.get("/")
    async def inside() -> str:
        raise AssertionError("the view must not run")

    app.register_blueprint(bp)
    response = app.test_client().get("/locked/")
    assert (response.status_code, response.text) == (403, "no entry")


def test_error_handlers_blueprint_before_app() -> None:
    app = make_app()
    bp = Blueprint("shop", __name__, url_prefix="/shop")

    @bp.errorhandler(ValueError)
    async def shop_value_error(error: ValueError) -> tuple[str, int]:
        return f"shop: {error}", 400

    @app.errorhandler(ValueError)
    async def app_value_error(error: ValueError) -> tuple[str, int]:
        return f"app: {error}", 400

    @bp.get("/buy")
    async def buy() -> str:
        raise ValueError("out of stock")

    @app.get("/home")
    async def home() -> str:
        raise ValueError("no home")

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/shop/buy").text == "shop: out of stock"
    assert client.get("/home").text == "app: no home"


def test_blueprint_handles_404_and_405_beneath_its_prefix() -> None:
    app = make_app()
    api = Blueprint("api", __name__, url_prefix="/api")
    v2 = Blueprint("v2", __name__, url_prefix="/v2")

    @api.errorhandler(404)
    async def api_404(error: Exception) -> tuple[dict[str, str], int]:
        return {"error": "no such API", "blueprint": request.blueprint or ""}, 404

    @api.errorhandler(405)
    def api_405(error: Exception) -> tuple[dict[str, str], int]:
        return {"error": "wrong method"}, 405

    @v2.errorhandler(404)
    async def v2_404(error: Exception) -> tuple[dict[str, str], int]:
        return {"error": "no such v2 API"}, 404

    @api.get("/things")
    async def things() -> str:
        return "things"

    @app.errorhandler(404)
    async def app_404(error: Exception) -> tuple[str, int]:
        return "page not found", 404

    api.register_blueprint(v2)
    app.register_blueprint(api)
    client = app.test_client()
    assert client.get("/api/nothing").json == {"error": "no such API", "blueprint": "api"}
    assert client.get("/api").json["error"] == "no such API"
    assert client.get("/api/v2/missing").json == {"error": "no such v2 API"}
    response = client.post("/api/things")
    assert response.status_code == 405
    assert response.json == {"error": "wrong method"}
    assert client.get("/apiary").text == "page not found"
    assert client.get("/elsewhere").text == "page not found"


def test_app_wide_hooks_registered_from_a_blueprint() -> None:
    app = make_app()
    bp = Blueprint("auth", __name__, url_prefix="/auth")
    seen: list[str] = []

    @bp.before_app_request
    def everywhere() -> None:
        seen.append(request.path)

    @bp.after_app_request
    def stamp(response):  # type: ignore[no-untyped-def]
        response.headers["X-Auth"] = "checked"
        return response

    @bp.app_errorhandler(404)
    async def not_found(error: Exception) -> tuple[str, int]:
        return "auth says 404", 404

    @bp.app_url_defaults
    def add_lang(endpoint: str, values: dict[str, object]) -> None:
        if app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values.setdefault("lang", "en")

    @app.get("/<lang>/hello")
    async def hello(lang: str) -> str:
        return url_for("hello")

    app.register_blueprint(bp)
    client = app.test_client()
    response = client.get("/de/hello")
    assert response.text == "/en/hello"
    assert response.headers["X-Auth"] == "checked"
    assert client.get("/nope").text == "auth says 404"
    assert seen == ["/de/hello", "/nope"]


def test_url_value_preprocessor_and_defaults_on_a_blueprint() -> None:
    app = make_app()
    bp = Blueprint("lang", __name__, url_prefix="/<lang_code>")

    @bp.url_defaults
    def add_language(endpoint: str, values: dict[str, object]) -> None:
        values.setdefault("lang_code", g.lang_code)

    @bp.url_value_preprocessor
    def pull_language(endpoint: str | None, values: dict[str, object] | None) -> None:
        assert values is not None
        g.lang_code = values.pop("lang_code")

    @bp.get("/about")
    async def about() -> dict[str, object]:
        return {"lang": g.lang_code, "url": url_for(".about")}

    app.register_blueprint(bp)
    assert app.test_client().get("/fr/about").json == {"lang": "fr", "url": "/fr/about"}


def test_setup_after_registration_is_refused() -> None:
    app = make_app()
    bp = Blueprint("late", __name__)
    app.register_blueprint(bp)
    with pytest.raises(RuntimeError, match="can no longer be called on the blueprint 'late'"):

        @bp.get("/x")
        async def x() -> str:
            return "x"


def test_bad_names_are_refused() -> None:
    with pytest.raises(ValueError, match="may not be empty"):
        Blueprint("", __name__)
    with pytest.raises(ValueError, match="may not contain a dot"):
        Blueprint("a.b", __name__)
    bp = Blueprint("ok", __name__)
    with pytest.raises(ValueError, match="may not contain a dot"):
        bp.add_url_rule("/", endpoint="a.b", view_func=lambda: "x")
    with pytest.raises(ValueError, match="itself"):
        bp.register_blueprint(bp)


def test_method_view_inside_a_blueprint() -> None:
    app = make_app()
    bp = Blueprint("api", __name__, url_prefix="/api")

    class Item(MethodView):
        async def get(self, item_id: int) -> dict[str, int]:
            return {"id": item_id}

        def delete(self, item_id: int) -> tuple[str, int]:
            return "", 204

    bp.add_url_rule("/items/<int:item_id>", view_func=Item.as_view("item"))
    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/api/items/4").json == {"id": 4}
    assert client.delete("/api/items/4").status_code == 204
    assert client.post("/api/items/4").status_code == 405
    with app.test_request_context():
        assert url_for("api.item", item_id=1) == "/api/items/1"


def test_blueprint_static_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "style.css").write_text("body {}")
    app = make_app()
    bp = Blueprint(
        "theme", __name__, url_prefix="/theme", static_folder="assets", root_path=str(tmp_path)
    )
    app.register_blueprint(bp)
    with app.test_request_context():
        assert url_for("theme.static", filename="style.css") == "/theme/assets/style.css"
    client: TestClient = app.test_client()
    response = client.get("/theme/assets/style.css")
    assert response.status_code == 200
    assert response.text == "body {}"
    assert response.mimetype == "text/css"
    assert client.get("/theme/assets/../../etc/passwd").status_code == 404


def test_blueprint_cli_commands() -> None:
    app = make_app()
    bp = Blueprint("db", __name__)

    @bp.cli.command("init")
    def init() -> None:
        click.echo("initialised")

    flat = Blueprint("tools", __name__, cli_group=None)

    @flat.cli.command("hello")
    def hello() -> None:
        click.echo("hello")

    app.register_blueprint(bp)
    app.register_blueprint(flat)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "init"]).output == "initialised\n"
    assert runner.invoke(args=["hello"]).output == "hello\n"


def test_abort_inside_blueprint_uses_its_handler() -> None:
    app = make_app()
    bp = Blueprint("files", __name__, url_prefix="/files")

    @bp.errorhandler(403)
    async def forbidden(error: Exception) -> tuple[str, int]:
        return "files are private", 403

    @bp.get("/secret")
    def secret() -> str:
        abort(403)

    app.register_blueprint(bp)
    assert app.test_client().get("/files/secret").text == "files are private"
