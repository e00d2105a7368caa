"""Flask's module layout: what code written for Flask imports from ``flask.<module>``
is importable from ``microasgi.<module>``, and means the same thing.

The names are compared with the installed Flask's modules, so a Flask release
that adds one shows up here.
"""

from __future__ import annotations
import __future__

import importlib
import io
import json as stdlib_json
import logging
import sys
import types
import uuid
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import flask
import flask.sessions
import flask.views
import pytest
import werkzeug.local
from markupsafe import Markup

import microasgi
from microasgi import MicroASGI, Request, Response, g, request, session

# The modules of Flask's this test covers; flask.testing, flask.cli and
# flask.debughelpers are tested with microasgi's (tests/test_testing.py, test_cli.py).
MODULES = [
    "blueprints",
    "config",
    "ctx",
    "globals",
    "helpers",
    "json",
    "json.provider",
    "json.tag",
    "logging",
    "sessions",
    "signals",
    "templating",
    "typing",
    "views",
    "wrappers",
]

#: Names a Flask module has that ours does not, and why.
NOT_HERE: dict[tuple[str, str], str] = {
    # Flask's logging reads the request to write to its wsgi.errors stream; ASGI
    # has none, so ours never needs the request (and stays in the core layer).
    ("logging", "request"): "no per-request error stream on ASGI",
}

#: Private names of Flask's that extensions read, which must be here too.
PRIVATE = {
    "globals": ["_cv_app", "_cv_request"],
    "ctx": ["_cv_app", "_cv_request", "_AppCtxGlobals"],
    "helpers": ["_cv_app", "_cv_request"],
    "templating": ["_cv_app", "_cv_request"],
}


def _is_incidental(value: Any) -> bool:
    """A module, ``annotations``, a ``TypeVar``, or anything from the standard library
    (``datetime``, ``functools.cache``): Flask imported or made it for its own use, and
    nobody imports it from Flask's module."""
    if isinstance(value, types.ModuleType | __future__._Feature | TypeVar):
        return True
    module = getattr(value, "__module__", None)
    return isinstance(module, str) and module.split(".")[0] in sys.stdlib_module_names


def flask_public_names(module: str) -> list[str]:
    theirs = importlib.import_module(f"flask.{module}")
    return sorted(
        name
        for name, value in vars(theirs).items()
        if not name.startswith("_") and not _is_incidental(value)
    )


@pytest.mark.parametrize("module", MODULES)
def test_every_name_of_flasks_module_is_importable_from_ours(module: str) -> None:
    ours = importlib.import_module(f"microasgi.{module}")
    missing = [
        name
        for name in flask_public_names(module)
        if (module, name) not in NOT_HERE and not hasattr(ours, name)
    ]
    missing += [name for name in PRIVATE.get(module, []) if not hasattr(ours, name)]
    assert missing == []


def test_the_comparison_sees_flasks_names() -> None:
    # The filter keeps what matters: a test that compared nothing would pass.
    assert "url_for" in flask_public_names("helpers")
    assert "get_debug_flag" in flask_public_names("helpers")
    assert "app_ctx" in flask_public_names("globals")
    assert "TaggedJSONSerializer" in flask_public_names("json.tag")
    assert "t" not in flask_public_names("helpers")  # `import typing as t`
    assert "cache" not in flask_public_names("helpers")  # functools.cache


def test_the_exclusions_are_still_flasks() -> None:
    for module, name in NOT_HERE:
        assert name in flask_public_names(module), f"flask.{module}.{name} is gone: drop it"


@pytest.mark.parametrize("module", MODULES)
def test_flask_modules_import_path_works(module: str) -> None:
    # `import microasgi.json.tag` and `from microasgi import helpers` as Flask's.
    imported = importlib.import_module(f"microasgi.{module}")
    parent, _, leaf = f"microasgi.{module}".rpartition(".")
    assert getattr(importlib.import_module(parent), leaf) is imported


# -- the same things under Flask's names -----------------------------------------------


def test_helpers_are_the_helpers() -> None:
    helpers = importlib.import_module("microasgi.helpers")
    for name in (
        "url_for",
        "redirect",
        "abort",
        "make_response",
        "flash",
        "get_flashed_messages",
        "send_file",
        "send_from_directory",
        "stream_with_context",
        "get_template_attribute",
        "request",
        "session",
        "current_app",
    ):
        assert getattr(helpers, name) is getattr(microasgi, name), name
    assert helpers.message_flashed is microasgi.message_flashed
    assert helpers.get_root_path(__name__) == str(Path(__file__).parent)


@pytest.mark.parametrize(
    ("env", "debug"),
    [
        ({}, False),
        ({"MICROASGI_DEBUG": "1"}, True),
        ({"MICROASGI_DEBUG": "False"}, False),
        ({"FLASK_DEBUG": "yes"}, True),
        ({"FLASK_DEBUG": "no"}, False),
        ({"MICROASGI_DEBUG": "0", "FLASK_DEBUG": "1"}, False),  # ours wins
    ],
)
def test_get_debug_flag(env: dict[str, str], debug: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from microasgi.helpers import get_debug_flag

    for name in ("MICROASGI_DEBUG", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert get_debug_flag() is debug


def test_get_load_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    from microasgi.helpers import get_load_dotenv

    for name in ("MICROASGI_SKIP_DOTENV", "FLASK_SKIP_DOTENV"):
        monkeypatch.delenv(name, raising=False)
    assert get_load_dotenv() is True
    assert get_load_dotenv(False) is False
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    assert get_load_dotenv() is False
    monkeypatch.setenv("MICROASGI_SKIP_DOTENV", "0")
    assert get_load_dotenv() is True


def test_wrappers_are_ours_on_werkzeugs_bases() -> None:
    import werkzeug.exceptions
    import werkzeug.sansio.request
    import werkzeug.sansio.response

    from microasgi import wrappers

    assert wrappers.Request is Request and wrappers.Response is Response
    assert issubclass(wrappers.Request, wrappers.RequestBase)
    assert issubclass(wrappers.Response, wrappers.ResponseBase)
    assert wrappers.RequestBase is werkzeug.sansio.request.Request
    assert wrappers.ResponseBase is werkzeug.sansio.response.Response
    assert wrappers.BadRequest is werkzeug.exceptions.BadRequest
    assert wrappers.HTTPException is werkzeug.exceptions.HTTPException


def test_views_and_typing_names() -> None:
    from microasgi import typing as ft
    from microasgi import views

    assert views.http_method_funcs == flask.views.http_method_funcs
    assert views.MethodView is microasgi.views.MethodView
    assert ft.URLValuePreprocessorCallable is ft.URLValuePreprocessor
    assert ft.ResponseValue is ft.BodyValue


def test_templating_names_load_jinja2_on_demand() -> None:
    import jinja2

    from microasgi import templating

    assert templating.TemplateNotFound is jinja2.TemplateNotFound
    assert templating.Template is jinja2.Template
    assert templating.BaseLoader is jinja2.BaseLoader
    assert templating.BaseEnvironment is jinja2.Environment
    assert issubclass(templating.Environment, jinja2.Environment)
    with pytest.raises(AttributeError):
        templating.NoSuchName  # noqa: B018


def test_sessions_and_config_names() -> None:
    import werkzeug.datastructures
    import werkzeug.utils

    from microasgi import config, sessions
    from microasgi.json.tag import TaggedJSONSerializer

    assert sessions.CallbackDict is werkzeug.datastructures.CallbackDict
    assert isinstance(sessions.session_json_serializer, TaggedJSONSerializer)
    assert sessions.SecureCookieSessionInterface.serializer is sessions.session_json_serializer
    assert sessions.SessionInterface.pickle_based is False
    assert config.import_string is werkzeug.utils.import_string


# -- globals: Flask's two context variables over our one ----------------------------------


def test_cv_request_reads_the_current_request_context() -> None:
    from microasgi.globals import _cv_app, _cv_request

    app = MicroASGI("layout")
    assert _cv_request.get(None) is None
    with pytest.raises(LookupError):
        _cv_request.get()
    with app.app_context() as app_ctx:
        assert _cv_app.get() is app_ctx
        assert _cv_request.get(None) is None  # an app context alone has no request
        assert _cv_request.get("default") == "default"
    with app.test_request_context("/x?a=1") as ctx:
        assert _cv_request.get() is ctx
        assert _cv_request.get(None) is _cv_app.get()
        assert _cv_request.get().request.args["a"] == "1"


def test_cv_request_set_and_reset_make_a_context_current() -> None:
    from microasgi.globals import _cv_request

    app = MicroASGI("layout")
    ctx = app.test_request_context("/set")
    token = _cv_request.set(ctx)
    try:
        assert request.path == "/set"
    finally:
        _cv_request.reset(token)
    assert _cv_request.get(None) is None


def test_request_ctx_and_app_ctx_have_flasks_attributes() -> None:
    from microasgi.globals import app_ctx, request_ctx

    app = MicroASGI("layout")
    app.secret_key = "layout"
    with app.test_request_context("/"):
        assert request_ctx.request is request._get_current_object()  # type: ignore[attr-defined]
        assert request_ctx.app is app
        assert request_ctx.session is session._get_current_object()  # type: ignore[attr-defined]
        request_ctx.session["k"] = "v"
        assert session["k"] == "v"
        assert app_ctx.g is g._get_current_object()  # type: ignore[attr-defined]
        assert request_ctx.flashes is None
        microasgi.flash("hello")
        # get_flashed_messages keeps what it took from the session on the context.
        assert microasgi.get_flashed_messages() == ["hello"]
        assert request_ctx.flashes == [("message", "hello")]
        assert request_ctx._get_current_object() is app_ctx._get_current_object()  # type: ignore[attr-defined]


def test_request_ctx_outside_a_request_says_so() -> None:
    from microasgi.globals import app_ctx, request_ctx

    app = MicroASGI("layout")
    with pytest.raises(RuntimeError, match="outside of application context"):
        app_ctx.g  # noqa: B018
    with app.app_context():
        assert app_ctx.app is app
        with pytest.raises(RuntimeError, match="outside of request context"):
            request_ctx.request  # noqa: B018
        assert not request_ctx


def test_request_context_is_the_context_class() -> None:
    from microasgi.ctx import AppContext, RequestContext, has_request_context

    app = MicroASGI("layout")
    with app.test_request_context("/") as ctx:
        assert isinstance(ctx, RequestContext)
        assert isinstance(ctx, AppContext)
        assert has_request_context()


def test_a_copied_context_keeps_request_session_and_g() -> None:
    from microasgi.globals import request_ctx

    app = MicroASGI("layout")
    app.secret_key = "layout"
    with app.test_request_context("/copied"):
        g.value = 1
        session["user"] = "ann"
        copy = request_ctx.copy()
    with copy:
        assert request.path == "/copied"
        assert g.value == 1
        assert session["user"] == "ann"


# -- proxies forward __class__, as Werkzeug's LocalProxy does -------------------------------


def test_proxies_forward_class_and_are_werkzeug_local_proxies() -> None:
    from microasgi.sessions import SecureCookieSession, SessionMixin

    app = MicroASGI("layout")
    app.secret_key = "layout"
    with app.test_request_context("/"):
        assert isinstance(session, SessionMixin)
        assert isinstance(session, SecureCookieSession)
        assert session.__class__ is SecureCookieSession
        assert request.__class__ is Request
        assert isinstance(request, Request)
        assert isinstance(microasgi.current_app, MicroASGI)
    for proxy in (request, session, g, microasgi.current_app):
        assert isinstance(proxy, werkzeug.local.LocalProxy)
        assert not proxy  # unbound: false, never an error
        assert "unbound" in repr(proxy)


def test_proxies_forward_the_operations_flask_code_uses() -> None:
    app = MicroASGI("layout")
    app.secret_key = "layout"
    with app.test_request_context("/?a=1&b=2"):
        session["n"] = 1
        assert "n" in session and len(session) == 1 and list(session) == ["n"]
        assert session == {"n": 1}
        del session["n"]
        assert dict(session) == {}
        g.x = 1
        assert "x" in g and g.get("x") == 1
        del g.x
        assert "x" not in g
        assert hash(microasgi.current_app) == hash(app)  # usable as a dict key, as in Flask
        assert microasgi.current_app == app


# -- json ------------------------------------------------------------------------------------


def test_json_dump_and_load_use_the_apps_provider() -> None:
    from microasgi import json as mjson

    app = MicroASGI("layout")
    data = {"b": 1, "a": datetime(2024, 1, 2, tzinfo=timezone.utc), "d": Markup("<i>")}
    ours, theirs = io.StringIO(), io.StringIO()
    mjson.dump(data, ours)
    flask.json.dump(data, theirs)  # outside an app, as Flask: stdlib json, its defaults
    assert ours.getvalue() == theirs.getvalue()
    assert mjson.load(io.StringIO('{"x": [1]}')) == {"x": [1]}

    class Upper(microasgi.json.provider.DefaultJSONProvider):
        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            return {"loaded by": "provider"}

    app.json = Upper(app)
    with app.app_context():
        assert mjson.load(io.BytesIO(b"{}")) == {"loaded by": "provider"}
        buffer = io.StringIO()
        mjson.dump([1], buffer)
        assert buffer.getvalue() == "[1]"


# -- the session cookie's tagged JSON, as Flask's ------------------------------------------


def _session_data() -> dict[str, Any]:
    return {
        "pair": (1, (2, b"\x00\xff")),
        "markup": Markup("<b>hi</b>"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "when": datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
        "looks tagged": {" t": [1, 2]},
        "nested": [{"a": (1,)}],
    }


def test_tagged_json_is_byte_for_byte_flasks() -> None:
    from flask.json.tag import TaggedJSONSerializer as FlaskSerializer

    from microasgi.json.tag import TaggedJSONSerializer

    data = _session_data()
    theirs = FlaskSerializer()
    ours = TaggedJSONSerializer()
    assert ours.dumps(data) == theirs.dumps(data)
    assert ours.loads(theirs.dumps(data)) == data
    assert theirs.loads(ours.dumps(data)) == data


def _flask_cookie(data: dict[str, Any], secret: str) -> str:
    app = flask.Flask("cookie_writer")
    app.secret_key = secret
    serializer = flask.sessions.SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return str(serializer.dumps(data))


def test_a_cookie_written_by_flask_opens_here_and_the_other_way_round() -> None:
    app = MicroASGI("layout")
    app.secret_key = "shared secret"
    data = _session_data()
    cookie = _flask_cookie(data, "shared secret")
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        assert dict(session) == data
        ours = app.session_interface.get_signing_serializer(app).dumps(dict(session))  # type: ignore[attr-defined]
    flask_app = flask.Flask("cookie_reader")
    flask_app.secret_key = "shared secret"
    with flask_app.test_request_context("/", headers={"Cookie": f"session={ours}"}):
        assert dict(flask.session) == data


def test_a_tag_registered_on_the_serializer_is_used() -> None:
    from microasgi.json.tag import JSONTag, TaggedJSONSerializer

    class TagOrderedDict(JSONTag):
        __slots__ = ()
        key = " od"

        def check(self, value: Any) -> bool:
            return isinstance(value, OrderedDict)

        def to_json(self, value: Any) -> Any:
            return [[k, self.serializer.tag(v)] for k, v in value.items()]

        def to_python(self, value: Any) -> Any:
            return OrderedDict(value)

    serializer = TaggedJSONSerializer()
    serializer.register(TagOrderedDict, index=0)
    value = OrderedDict([("b", (1,)), ("a", 2)])
    text = serializer.dumps({"o": value})
    assert stdlib_json.loads(text) == {"o": {" od": [["b", {" t": [1]}], ["a", 2]]}}
    loaded = serializer.loads(text)["o"]
    assert isinstance(loaded, OrderedDict) and loaded == value
    with pytest.raises(KeyError, match="already registered"):
        serializer.register(TagOrderedDict)
    serializer.register(TagOrderedDict, force=True)
    assert serializer.tags[" od"] in serializer.order


# -- logging -----------------------------------------------------------------------------


def test_logging_module_as_flasks(capsys: pytest.CaptureFixture[str]) -> None:
    from microasgi.logging import (
        create_logger,
        default_handler,
        has_level_handler,
        wsgi_errors_stream,
    )

    app = MicroASGI("layout_logging_app")
    logger = logging.getLogger(app.name)
    logger.propagate = False  # away from the handlers pytest puts on the root logger
    try:
        assert create_logger(app) is logger
        assert default_handler in logger.handlers
        assert has_level_handler(logger)
        logger.error("boom")
        assert "ERROR in test_flask_layout: boom" in capsys.readouterr().err
        wsgi_errors_stream.write("direct\n")
        assert capsys.readouterr().err == "direct\n"
        # Once configured elsewhere, no second handler is added.
        logger.removeHandler(default_handler)
        logger.addHandler(logging.NullHandler())
        assert has_level_handler(logger)
        create_logger(app)
        assert default_handler not in logger.handlers
    finally:
        logger.handlers.clear()
        logger.propagate = True


def test_the_apps_logger_has_flasks_default_handler() -> None:
    from microasgi.logging import default_handler

    app = MicroASGI("layout_default_handler_app")
    app.debug = True
    logger = logging.getLogger(app.name)
    logger.propagate = False  # away from the handlers pytest puts on the root logger
    try:
        assert app.logger is logger
        assert logger.handlers == [default_handler]
        assert logger.level == logging.DEBUG
        # Flask's documented way to take over the app's logging.
        app.logger.removeHandler(default_handler)
        assert logger.handlers == []
    finally:
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def test_has_level_handler_stops_where_propagation_stops() -> None:
    from microasgi.logging import has_level_handler

    parent = logging.getLogger("layout_parent")
    child = logging.getLogger("layout_parent.child")
    handler = logging.StreamHandler(io.StringIO())
    parent.addHandler(handler)
    parent.propagate = False  # away from the handlers pytest puts on the root logger
    try:
        assert has_level_handler(child)
        child.propagate = False
        assert not has_level_handler(child)
        child.propagate = True
        handler.setLevel(logging.CRITICAL)
        child.setLevel(logging.INFO)
        assert not has_level_handler(child)
    finally:
        parent.removeHandler(handler)
        parent.propagate = True
        child.setLevel(logging.NOTSET)


# -- a Response's state is in its __dict__ -------------------------------------------------


def test_response_state_copies_through_its_dict() -> None:
    # What Flask-Caching's CachedResponse does to wrap a view's response.
    class CachedResponse(Response):
        timeout = None

        def __init__(self, response: Response, timeout: int) -> None:
            self.__dict__ = response.__dict__
            self.timeout = timeout

    original = Response("cached body", 201, {"X-Kind": "cached"}, mimetype="text/plain")
    cached = CachedResponse(original, 30)
    assert cached.status_code == 201 and cached.status == "201 CREATED"
    assert cached.get_data() == b"cached body"
    assert cached.headers["X-Kind"] == "cached"
    assert cached.mimetype == "text/plain"
    assert cached.timeout == 30

    app = MicroASGI("layout")

    @app.get("/")
    def index() -> Response:
        return CachedResponse(Response("from a view", 202), 5)

    response = app.test_client().get("/")
    assert (response.status_code, response.text) == (202, "from a view")
