"""Class-based views: View and MethodView, with sync and async handlers."""

from __future__ import annotations

import functools
import gc
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from microasgi import MicroASGI, Response, g, request, url_for
from microasgi.views import MethodView, View


def allow_set(value: str | None) -> set[str]:
    assert value is not None
    return {method.strip() for method in value.split(",")}


# --- View ---------------------------------------------------------------------------


class SyncHello(View):
    def dispatch_request(self, name: str) -> str:
        return f"sync hello {name} via {request.method}"


class AsyncHello(View):
    async def dispatch_request(self, name: str) -> str:
        return f"async hello {name} via {request.method}"


@pytest.mark.parametrize(("cls", "word"), [(SyncHello, "sync"), (AsyncHello, "async")])
def test_view_dispatch_request(app: MicroASGI, client: Any, cls: type[View], word: str) -> None:
    app.add_url_rule("/hello/<name>", view_func=cls.as_view("hello"))
    response = client.get("/hello/ann")
    assert response.status_code == 200
    assert response.text == f"{word} hello ann via GET"
    assert client.post("/hello/ann").status_code == 405
    with app.test_request_context():
        assert url_for("hello", name="bo") == "/hello/bo"


async def test_view_sync_dispatch_runs_in_a_thread(app: MicroASGI) -> None:
    class WhereSync(View):
        def dispatch_request(self) -> str:
            return str(threading.get_ident())

    class WhereAsync(View):
        async def dispatch_request(self) -> str:
            return str(threading.get_ident())

    app.add_url_rule("/sync", view_func=WhereSync.as_view("where_sync"))
    app.add_url_rule("/async", view_func=WhereAsync.as_view("where_async"))
    client = app.async_test_client()
    loop_thread = threading.get_ident()
    assert int((await client.get("/sync")).text) != loop_thread
    assert int((await client.get("/async")).text) == loop_thread


def test_view_methods_attribute(app: MicroASGI, client: Any) -> None:
    class Echo(View):
        methods = ["GET", "POST"]

        def dispatch_request(self) -> str:
            return request.method

    view = Echo.as_view("echo")
    assert set(view.methods) == {"GET", "POST"}
    app.add_url_rule("/echo", view_func=view)
    assert client.get("/echo").text == "GET"
    assert client.post("/echo").text == "POST"
    response = client.put("/echo")
    assert response.status_code == 405
    assert allow_set(response.headers.get("Allow")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_as_view_name_is_the_endpoint_and_metadata(app: MicroASGI, client: Any) -> None:
    class Documented(View):
        """The docstring."""

        def dispatch_request(self) -> str:
            return request.endpoint or "-"

    view = Documented.as_view("custom_name")
    assert view.__name__ == "custom_name"
    assert view.__doc__ == "The docstring."
    assert view.__module__ == __name__
    assert view.view_class is Documented
    app.add_url_rule("/doc", view_func=view)
    assert "custom_name" in app.view_functions
    assert client.get("/doc").text == "custom_name"


def test_as_view_passes_class_arguments(app: MicroASGI, client: Any) -> None:
    class Greeter(View):
        def __init__(self, greeting: str, punctuation: str = ".") -> None:
            self.greeting = greeting
            self.punctuation = punctuation

        def dispatch_request(self) -> str:
            return f"{self.greeting}{self.punctuation}"

    app.add_url_rule("/hi", view_func=Greeter.as_view("hi", "Hi", punctuation="!"))
    app.add_url_rule("/yo", view_func=Greeter.as_view("yo", "Yo"))
    assert client.get("/hi").text == "Hi!"
    assert client.get("/yo").text == "Yo."


def _sync_header_decorator(value: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A Flask-style decorator: a plain ``def`` wrapper calling the view."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.trail = [*g.get("trail", []), value]
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _async_header_decorator(value: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.trail = [*g.get("trail", []), value]
            return await view(*args, **kwargs)

        return wrapper

    return decorator


def test_view_decorators_with_a_sync_view(app: MicroASGI, client: Any) -> None:
    class Decorated(View):
        # Applied in order: "inner" wraps the view, "outer" wraps that.
        decorators = [_sync_header_decorator("inner"), _sync_header_decorator("outer")]

        def dispatch_request(self) -> str:
            return ",".join(g.trail)

    app.add_url_rule("/d", view_func=Decorated.as_view("decorated"))
    assert client.get("/d").text == "outer,inner"


def test_view_decorators_with_an_async_view(app: MicroASGI, client: Any) -> None:
    class Decorated(View):
        decorators = [_async_header_decorator("inner"), _async_header_decorator("outer")]

        async def dispatch_request(self) -> str:
            return ",".join(g.trail)

    app.add_url_rule("/d", view_func=Decorated.as_view("decorated"))
    assert client.get("/d").text == "outer,inner"


def test_view_decorator_can_short_circuit(app: MicroASGI, client: Any) -> None:
    def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.headers.get("Authorization") != "secret":
                return "login required", 401
            return view(*args, **kwargs)

        return wrapper

    class Private(View):
        decorators = [login_required]

        def dispatch_request(self) -> str:
            return "private data"

    app.add_url_rule("/private", view_func=Private.as_view("private"))
    response = client.get("/private")
    assert (response.status_code, response.text) == (401, "login required")
    response = client.get("/private", headers={"Authorization": "secret"})
    assert (response.status_code, response.text) == (200, "private data")


@pytest.mark.parametrize("init_every_request", [True, False])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_init_every_request(
    app: MicroASGI, client: Any, init_every_request: bool, kind: str
) -> None:
    created: list[int] = []

    class Counter(View):
        def __init__(self) -> None:
            created.append(1)
            self.calls = 0

        def count(self) -> str:
            self.calls += 1
            return str(self.calls)

    if kind == "sync":

        class Counting(Counter):
            def dispatch_request(self) -> str:
                return self.count()

    else:

        class Counting(Counter):  # type: ignore[no-redef]
            async def dispatch_request(self) -> str:
                return self.count()

    Counting.init_every_request = init_every_request
    app.add_url_rule("/c", view_func=Counting.as_view("counting"))
    answers = [client.get("/c").text for _ in range(3)]
    if init_every_request:
        assert answers == ["1", "1", "1"]
        assert len(created) == 3
    else:
        assert answers == ["1", "2", "3"]
        assert len(created) == 1


# --- MethodView -----------------------------------------------------------------------


class SyncItems(MethodView):
    def get(self) -> str:
        return f"sync get {request.args.get('q', '')}"

    def post(self) -> tuple[dict[str, Any], int]:
        return {"created": request.get_json()}, 201

    def delete(self) -> tuple[str, int]:
        return "", 204


class AsyncItems(MethodView):
    async def get(self) -> str:
        return f"async get {request.args.get('q', '')}"

    async def post(self) -> tuple[dict[str, Any], int]:
        return {"created": request.get_json()}, 201

    async def delete(self) -> tuple[str, int]:
        return "", 204


class MixedItems(MethodView):
    async def get(self) -> str:
        return f"mixed get {request.args.get('q', '')}"

    def post(self) -> tuple[dict[str, Any], int]:
        return {"created": request.get_json()}, 201

    async def delete(self) -> tuple[str, int]:
        return "", 204


@pytest.mark.parametrize(
    ("cls", "word"), [(SyncItems, "sync"), (AsyncItems, "async"), (MixedItems, "mixed")]
)
def test_method_view_dispatch(
    app: MicroASGI, client: Any, cls: type[MethodView], word: str
) -> None:
    app.add_url_rule("/items", view_func=cls.as_view("items"))

    assert client.get("/items?q=x").text == f"{word} get x"
    response = client.post("/items", json={"name": "pen"})
    assert response.status_code == 201
    assert response.json == {"created": {"name": "pen"}}
    response = client.delete("/items")
    assert (response.status_code, response.data) == (204, b"")

    response = client.put("/items")
    assert response.status_code == 405
    assert allow_set(response.headers.get("Allow")) == {"DELETE", "GET", "HEAD", "OPTIONS", "POST"}
    response = client.options("/items")
    assert allow_set(response.headers.get("Allow")) == {"DELETE", "GET", "HEAD", "OPTIONS", "POST"}


@pytest.mark.parametrize("cls", [SyncItems, AsyncItems, MixedItems])
def test_method_view_methods_are_inferred(cls: type[MethodView]) -> None:
    assert set(cls.methods or ()) == {"GET", "POST", "DELETE"}
    assert set(cls.as_view("x").methods) == {"GET", "POST", "DELETE"}


def test_method_view_methods_inherited() -> None:
    class Base(MethodView):
        def get(self) -> str:
            return "get"

    class Child(Base):
        def patch(self) -> str:
            return "patch"

    class Explicit(MethodView):
        methods = ["GET"]

        def get(self) -> str:
            return "get"

        def post(self) -> str:
            return "post"

    assert set(Base.methods or ()) == {"GET"}
    assert set(Child.methods or ()) == {"GET", "PATCH"}
    assert set(Explicit.methods or ()) == {"GET"}


@pytest.mark.parametrize("cls", [SyncItems, AsyncItems])
def test_method_view_head_falls_back_to_get(
    app: MicroASGI, client: Any, cls: type[MethodView]
) -> None:
    app.add_url_rule("/items", view_func=cls.as_view("items"))
    body = client.get("/items").data
    response = client.head("/items")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == str(len(body))


def test_method_view_explicit_head(app: MicroASGI, client: Any) -> None:
    class WithHead(MethodView):
        def get(self) -> str:
            return "body"

        async def head(self) -> Response:
            return Response("", headers={"X-Head": "own"})

    app.add_url_rule("/h", view_func=WithHead.as_view("with_head"))
    response = client.head("/h")
    assert response.headers["X-Head"] == "own"
    assert "X-Head" not in client.get("/h").headers


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_method_view_with_url_rules_with_and_without_id(
    app: MicroASGI, client: Any, kind: str
) -> None:
    store: dict[int, str] = {1: "one", 2: "two"}

    class SyncUserAPI(MethodView):
        def get(self, user_id: int | None) -> Any:
            if user_id is None:
                return {"users": sorted(store)}
            return {"id": user_id, "name": store[user_id]}

        def post(self) -> tuple[dict[str, Any], int]:
            new_id = max(store) + 1
            store[new_id] = request.get_json()["name"]
            return {"id": new_id}, 201

        def put(self, user_id: int) -> dict[str, Any]:
            store[user_id] = request.get_json()["name"]
            return {"id": user_id, "name": store[user_id]}

        def delete(self, user_id: int) -> tuple[str, int]:
            del store[user_id]
            return "", 204

    class AsyncUserAPI(MethodView):
        async def get(self, user_id: int | None) -> Any:
            return SyncUserAPI.get(self, user_id)  # type: ignore[arg-type]

        async def post(self) -> tuple[dict[str, Any], int]:
            return SyncUserAPI.post(self)  # type: ignore[arg-type]

        async def put(self, user_id: int) -> dict[str, Any]:
            return SyncUserAPI.put(self, user_id)  # type: ignore[arg-type]

        async def delete(self, user_id: int) -> tuple[str, int]:
            return SyncUserAPI.delete(self, user_id)  # type: ignore[arg-type]

    cls = SyncUserAPI if kind == "sync" else AsyncUserAPI
    user_view = cls.as_view("user_api")
    app.add_url_rule("/users/", defaults={"user_id": None}, view_func=user_view, methods=["GET"])
    app.add_url_rule("/users/", view_func=user_view, methods=["POST"])
    app.add_url_rule("/users/<int:user_id>", view_func=user_view, methods=["GET", "PUT", "DELETE"])

    assert client.get("/users/").json == {"users": [1, 2]}
    assert client.get("/users/2").json == {"id": 2, "name": "two"}
    response = client.post("/users/", json={"name": "three"})
    assert (response.status_code, response.json) == (201, {"id": 3})
    assert client.put("/users/3", json={"name": "THREE"}).json == {"id": 3, "name": "THREE"}
    assert client.delete("/users/1").status_code == 204
    assert client.get("/users/").json == {"users": [2, 3]}
    assert client.delete("/users/").status_code == 405
    assert client.post("/users/2").status_code == 405
    with app.test_request_context():
        assert url_for("user_api") == "/users/"
        assert url_for("user_api", user_id=5) == "/users/5"
        assert url_for("user_api", _method="POST") == "/users/"


def test_method_view_with_flask_style_sync_decorator(app: MicroASGI, client: Any) -> None:
    # Flask users decorate class-based views with plain `def` wrappers (login_required...).
    class Items(MethodView):
        decorators = [_sync_header_decorator("checked")]

        def get(self) -> str:
            return ",".join(g.trail)

    app.add_url_rule("/items", view_func=Items.as_view("items"))
    failure = None
    # On failure the view's coroutine is never awaited: keep that warning from
    # outliving this test, which reports the failure itself.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            response = client.get("/items")
        except TypeError as exc:
            failure = str(exc)
        gc.collect()
    if failure is not None:
        pytest.fail(f"A sync decorator on a MethodView broke the view: {failure}")
    assert (response.status_code, response.text) == (200, "checked")


def test_method_view_with_async_decorator(app: MicroASGI, client: Any) -> None:
    class Items(MethodView):
        decorators = [_async_header_decorator("checked")]

        async def get(self) -> str:
            return ",".join(g.trail)

    app.add_url_rule("/items", view_func=Items.as_view("items"))
    assert client.get("/items").text == "checked"


def test_method_view_init_every_request_false(app: MicroASGI, client: Any) -> None:
    instances: list[int] = []

    class Shared(MethodView):
        init_every_request = False

        def __init__(self) -> None:
            instances.append(id(self))

        async def get(self) -> str:
            return str(id(self))

    app.add_url_rule("/s", view_func=Shared.as_view("shared"))
    first, second = client.get("/s").text, client.get("/s").text
    assert first == second
    assert len(instances) == 1


def test_view_decorators_see_the_views_name(app: MicroASGI, client: Any) -> None:
    # As in Flask: a decorator keying on the view's name (a rate limiter's bucket, a
    # cache key) sees the endpoint's name, not the generic inner function's.
    seen: list[tuple[str, str]] = []

    def record(f: Any) -> Any:
        seen.append((f.__name__, f.__module__))
        return f

    class Index(View):
        decorators = [record]

        def dispatch_request(self) -> str:
            return "index"

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.get("/").text == "index"
    assert seen == [("index", __name__)]


def test_a_sync_method_view_is_a_def_view_that_sync_wrappers_can_call(
    app: MicroASGI, client: Any
) -> None:
    # As in Flask: Flask-RESTful wraps as_view()'s function in a sync function that
    # uses its return value, so a class with only sync handlers must give a def view.
    class Items(MethodView):
        def get(self) -> dict[str, str]:
            return {"method": request.method}

    view = Items.as_view("items")

    def output(**kwargs: Any) -> Any:
        rv = view(**kwargs)
        assert isinstance(rv, dict), rv
        return {**rv, "wrapped": True}

    app.add_url_rule("/items", "items", output)
    assert client.get("/items").get_json() == {"method": "GET", "wrapped": True}
