"""Jinja2 templates as in Flask: rendering, loaders, context, filters, streaming, errors."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from microasgi import MicroASGI, Response, g, request, session
from microasgi.blueprints import Blueprint
from microasgi.flashing import flash
from microasgi.templating import (
    get_template_attribute,
    render_template,
    render_template_string,
    stream_template,
    stream_template_string,
    template_location,
)
from microasgi.testing import TestClient

from .kinds import KIND, as_kind

FIXTURE_ROOT = Path(__file__).parent / "templates_fixture"


def make_app(root: Path | str = FIXTURE_ROOT, **config: Any) -> MicroASGI:
    app = MicroASGI("tmpl", root_path=str(root))
    app.config.update(TESTING=True, SECRET_KEY="test secret", **config)
    return app


@pytest.fixture
def tapp() -> MicroASGI:
    """An app whose templates folder is ``tests/templates_fixture/templates``."""
    return make_app()


@pytest.fixture
def tclient(tapp: MicroASGI) -> Iterator[TestClient]:
    client = tapp.test_client()
    yield client
    client.close()


def make_blueprint(name: str, folder: str | None = None) -> Blueprint:
    """A blueprint whose templates are in ``tests/templates_fixture/<folder>/templates``."""
    return Blueprint(
        name,
        __name__,
        template_folder="templates" if folder else None,
        root_path=str(FIXTURE_ROOT / (folder or name)),
    )


# --- rendering ----------------------------------------------------------------------


@KIND
def test_render_template_from_view(kind: str, tapp: MicroASGI, tclient: TestClient) -> None:
    tapp.add_url_rule(
        "/", view_func=as_kind(kind, lambda: render_template("index.html", name="World"))
    )
    response = tclient.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.text == "Hello World!"


@KIND
def test_render_template_string_from_view(kind: str, tapp: MicroASGI, tclient: TestClient) -> None:
    tapp.add_url_rule(
        "/", view_func=as_kind(kind, lambda: render_template_string("{{ a }}+{{ b }}", a=1, b=2))
    )
    assert tclient.get("/").text == "1+2"


def test_autoescape_on_for_html_and_strings_off_for_txt(tapp: MicroASGI) -> None:
    with tapp.app_context():
        assert render_template("index.html", name="<b>") == "Hello &lt;b&gt;!"
        assert render_template_string("{{ v }}", v="<b>&") == "&lt;b&gt;&amp;"
        assert render_template("plain.txt", value="<b>") == "Text <b>"
        assert render_template_string("{{ v|safe }}", v="<i>") == "<i>"


def test_inheritance_blocks_and_include(tapp: MicroASGI) -> None:
    with tapp.app_context():
        text = render_template("child.html", name="Ann")
    assert "<title>Child title</title>" in text
    assert "<main>child body, then base body</main>" in text
    assert "<footer>footer for Ann</footer>" in text


def test_first_existing_template_of_a_list(tapp: MicroASGI) -> None:
    with tapp.app_context():
        assert render_template(["nope.html", "index.html"], name="x") == "Hello x!"
        with pytest.raises(jinja2.TemplatesNotFound):
            render_template(["nope.html", "neither.html"])


def test_one_environment_per_app(tapp: MicroASGI) -> None:
    env = tapp.jinja_env
    assert env is tapp.jinja_env
    assert env.app is tapp
    assert make_app().jinja_env is not env


def test_custom_environment_class() -> None:
    from microasgi.templating import DispatchingJinjaLoader, Environment

    class MyEnvironment(Environment):  # type: ignore[misc]
        def __init__(self, app: MicroASGI, **options: Any) -> None:
            super().__init__(app, **options)
            self.globals["custom"] = "yes"

    class MyApp(MicroASGI):
        jinja_environment = MyEnvironment

    app = MyApp("tmpl", root_path=str(FIXTURE_ROOT))
    assert isinstance(app.jinja_env, MyEnvironment)
    assert isinstance(app.jinja_env.loader, DispatchingJinjaLoader)
    with app.app_context():
        assert render_template_string("{{ custom }} {{ config.TESTING }}") == "yes False"


def test_jinja_options_reach_the_environment() -> None:
    app = make_app()
    app.jinja_options = {"trim_blocks": True, "autoescape": False}
    with app.app_context():
        assert render_template_string("{% if 1 %}\n{{ v }}{% endif %}", v="<b>") == "<b>"


@pytest.mark.parametrize(
    "function, args",
    [
        (render_template, ("index.html",)),
        (render_template_string, ("x",)),
        (stream_template, ("index.html",)),
        (stream_template_string, ("x",)),
        (get_template_attribute, ("macros.html", "hello")),
    ],
)
def test_outside_app_context_is_an_error(function: Callable[..., Any], args: tuple[str]) -> None:
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        function(*args)


def test_importing_templating_does_not_import_jinja2() -> None:
    code = (
        "import microasgi, microasgi.templating, microasgi.flashing, sys;"
        " assert 'jinja2' not in sys.modules, 'jinja2 imported'"
    )
    root = Path(__file__).parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# --- loaders ----------------------------------------------------------------------


def test_app_templates_first_then_blueprints_in_registration_order(tapp: MicroASGI) -> None:
    tapp.register_blueprint(make_blueprint("first", "bp_first"))
    tapp.register_blueprint(make_blueprint("no_templates"))
    tapp.register_blueprint(make_blueprint("second", "bp_second"))
    with tapp.app_context():
        assert render_template("index.html", name="app") == "Hello app!"
        assert render_template("shared.html") == "first's shared"
        assert render_template("second.html") == "second's own"
        names = tapp.jinja_env.list_templates()
    assert {"index.html", "shared.html", "second.html", "base.html"} <= set(names)


def test_blueprint_registered_twice_and_nested_blueprints(tapp: MicroASGI) -> None:
    parent = make_blueprint("parent")
    parent.register_blueprint(make_blueprint("child", "bp_second"))
    first = make_blueprint("first", "bp_first")
    tapp.register_blueprint(first)
    tapp.register_blueprint(first, name="again", url_prefix="/again")
    tapp.register_blueprint(parent, url_prefix="/parent")
    assert list(tapp.blueprints) == ["first", "again", "parent", "parent.child"]
    with tapp.app_context():
        assert render_template("shared.html") == "first's shared"
        assert render_template("second.html") == "second's own"


def test_blueprint_registered_after_first_render_is_searched(tapp: MicroASGI) -> None:
    with tapp.app_context():
        render_template("index.html")
        tapp.register_blueprint(make_blueprint("second", "bp_second"))
        assert render_template("second.html") == "second's own"


def test_app_without_template_folder_uses_blueprints() -> None:
    app = MicroASGI("tmpl", root_path=str(FIXTURE_ROOT), template_folder=None)
    app.register_blueprint(make_blueprint("first", "bp_first"))
    with app.app_context():
        assert render_template("index.html") == "first's index"


def test_blueprint_views_templates_and_processors(tapp: MicroASGI, tclient: TestClient) -> None:
    bp = make_blueprint("first", "bp_first")
    bp.context_processor(lambda: {"where": "in first"})
    bp.add_app_template_filter(lambda v: f"*{v}*", name="stars")
    bp.add_url_rule("/page", view_func=lambda: render_template("first_page.html", name="n"))
    tapp.add_url_rule(
        "/app", view_func=lambda: render_template("first_page.html", name="m", where="app")
    )
    tapp.register_blueprint(bp, url_prefix="/first")
    assert tclient.get("/first/page").text == "in first: n *x*"
    assert tclient.get("/app").text == "app: m *x*"


def test_explain_template_loading_logs_the_attempts(
    tapp: MicroASGI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=tapp.name)
    tapp.config["EXPLAIN_TEMPLATE_LOADING"] = True
    tapp.register_blueprint(make_blueprint("bp", "bp_first"))
    with tapp.app_context():
        assert render_template("index.html", name="x") == "Hello x!"
        with pytest.raises(jinja2.TemplateNotFound):
            render_template("nowhere.html")
    first, second = (r.getMessage() for r in caplog.records if r.name == tapp.name)
    assert "Locating template 'index.html'" in first
    assert "1: trying loader of application 'tmpl'" in first
    assert "2: trying loader of blueprint 'bp'" in first
    assert "found (" in first
    assert "several loaders" in first
    assert "Locating template 'nowhere.html'" in second
    assert "no match" in second
    assert "Error: the template could not be found." in second


# --- context ------------------------------------------------------------------------


def test_globals_in_templates_during_a_request(tapp: MicroASGI, tclient: TestClient) -> None:
    tapp.config["GREETING"] = "hi"

    @tapp.get("/context")
    def context_view() -> str:
        session["user"] = "ann"
        g.setdefault("who", "g-value")
        flash("one")
        flash("two")
        return render_template("context.html")

    lines = tclient.get("/context?x=1").text.splitlines()
    assert lines == [
        "url=/context?page=2",
        "path=/context",
        "user=ann",
        "g=g-value",
        "config=hi",
        "flashes=one,two",
    ]


def test_request_is_the_real_object_and_session_the_proxy(tapp: MicroASGI) -> None:
    with tapp.test_request_context("/here"):
        context: dict[str, Any] = {}
        tapp.update_template_context(context)
        assert context["request"] is request._get_current_object()  # type: ignore[attr-defined]
        assert context["g"] is g._get_current_object()  # type: ignore[attr-defined]
        assert tapp.jinja_env.globals["session"] is session


def test_outside_a_request_g_and_config_work_request_and_session_are_absent(
    tapp: MicroASGI,
) -> None:
    tapp.config["GREETING"] = "hello"
    source = (
        "{{ g.x }}|{{ config.GREETING }}|{{ 'request' if request else 'no request' }}"
        "|{{ 'session' if session else 'no session' }}"
    )
    with tapp.app_context():
        g.setdefault("x", "gx")
        context: dict[str, Any] = {}
        tapp.update_template_context(context)
        assert "request" not in context
        assert "session" not in context
        assert render_template_string(source) == "gx|hello|no request|no session"


def test_app_context_processor_and_explicit_values_win(
    tapp: MicroASGI, tclient: TestClient
) -> None:
    @tapp.context_processor
    def inject() -> dict[str, Any]:
        return {"site": "Example", "user": "from processor"}

    @tapp.get("/")
    def index() -> str:
        return render_template_string("{{ site }}/{{ user }}", user="explicit")

    assert tclient.get("/").text == "Example/explicit"
    with tapp.app_context():
        assert render_template_string("{{ site }}") == "Example"


def test_blueprint_context_processors_apply_to_their_requests_only(
    tapp: MicroASGI, tclient: TestClient
) -> None:
    tapp.context_processor(lambda: {"a": "app", "b": "app", "c": "app"})
    tapp.template_context_processors["bp"].append(lambda: {"b": "bp", "c": "bp"})
    tapp.template_context_processors["bp.child"].append(lambda: {"c": "child"})
    tapp.template_context_processors["other"].append(lambda: {"a": "other"})

    def view() -> str:
        return render_template_string("{{ a }} {{ b }} {{ c }} {{ request.blueprints }}")

    tapp.add_url_rule("/x", endpoint="bp.view", view_func=view)
    tapp.add_url_rule("/y", endpoint="bp.child.view", view_func=view)
    tapp.add_url_rule("/z", endpoint="plain", view_func=view)
    assert tclient.get("/x").text == "app bp bp [&#39;bp&#39;]"
    assert tclient.get("/y").text == "app bp child [&#39;bp.child&#39;, &#39;bp&#39;]"
    assert tclient.get("/z").text == "app app app []"


def test_async_context_processor_is_a_clear_error(tapp: MicroASGI) -> None:
    @tapp.context_processor
    async def inject() -> dict[str, Any]:
        return {}

    with tapp.app_context(), pytest.raises(TypeError, match="is async"):
        render_template_string("x")


def test_context_processor_returning_none_is_a_clear_error(tapp: MicroASGI) -> None:
    tapp.context_processor(lambda: None)
    with tapp.app_context(), pytest.raises(TypeError, match="must return a dict"):
        render_template_string("x")


# --- filters, globals, tests ------------------------------------------------------


def test_filters_globals_and_tests(tapp: MicroASGI, tclient: TestClient) -> None:
    @tapp.template_filter()
    def reverse(value: str) -> str:
        return value[::-1]

    @tapp.template_filter("shout")
    def make_loud(value: str) -> str:
        return value.upper() + "!"

    tapp.add_template_filter(lambda v: v * 2, name="double")

    @tapp.template_global()
    def answer() -> int:
        return 42

    tapp.add_template_global(lambda who: f"hi {who}", name="greet")

    @tapp.template_test()
    def even(n: int) -> bool:
        return n % 2 == 0

    tapp.add_template_test(lambda n: n > 10, name="big")

    @tapp.get("/")
    def index() -> str:
        return render_template_string(
            "{{ 'abc'|reverse }} {{ 'hey'|shout }} {{ 'ab'|double }} {{ answer() }}"
            " {{ greet('you') }} {{ 4 is even }} {{ 3 is even }} {{ 11 is big }}"
        )

    assert tclient.get("/").text == "cba HEY! abab 42 hi you True False True"


def test_template_setup_after_first_request_is_refused(
    tapp: MicroASGI, tclient: TestClient
) -> None:
    tapp.add_url_rule("/", view_func=lambda: "ok")
    tclient.get("/")
    with pytest.raises(RuntimeError, match="add_template_filter"):
        tapp.add_template_filter(str.upper, name="upper2")


def test_tojson_is_safe_inside_script(tapp: MicroASGI) -> None:
    data = {"html": "</script><script>alert('x')</script>", "amp": "a & b", "n": [1, 2]}
    with tapp.app_context():
        text = render_template("script.html", data=data)
    assert text.count("</script>") == 1
    assert "<script>alert" not in text
    for escaped in ("\\u003c/script\\u003e", "\\u0027x\\u0027", "a \\u0026 b"):
        assert escaped in text
    literal = text.removeprefix("<script>const data = ").removesuffix(";</script>")
    assert json.loads(literal) == data


def test_tojson_uses_the_app_json_provider_and_indent(tapp: MicroASGI) -> None:
    with tapp.app_context():
        assert render_template_string("{{ d|tojson }}", d={"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
        assert render_template_string("{{ [1]|tojson(indent=1) }}") == "[\n 1\n]"

        class Provider(type(tapp.json)):  # type: ignore[misc]
            def dumps(self, obj: Any, **kwargs: Any) -> str:
                return '"<custom>"'

        tapp.json = Provider(tapp)
        assert render_template_string("{{ 1|tojson }}") == '"\\u003ccustom\\u003e"'


# --- streaming and macros -----------------------------------------------------------


@KIND
def test_stream_template_through_the_client(
    kind: str, tapp: MicroASGI, tclient: TestClient
) -> None:
    streamed: list[bool] = []

    @tapp.after_request
    def record(response: Response) -> Response:
        streamed.append(response.is_streamed)
        return response

    tapp.add_url_rule(
        "/stream",
        endpoint="stream",
        view_func=as_kind(kind, lambda: stream_template("stream.html", items=["a", "&"])),
    )
    tapp.add_url_rule(
        "/string",
        endpoint="string",
        view_func=as_kind(
            kind, lambda: stream_template_string("{{ n }}:{{ request.args.q }}", n=1)
        ),
    )
    assert tclient.get("/stream").text == "<a><&amp;> at /stream"
    assert tclient.get("/string?q=x").text == "1:x"
    assert streamed == [True, True]


def test_stream_template_yields_chunks(tapp: MicroASGI) -> None:
    with tapp.app_context():
        chunks = stream_template_string("{% for i in items %}{{ i }}{% endfor %}", items="abc")
        assert not isinstance(chunks, str)
        assert "".join(chunks) == "abc"


def test_get_template_attribute_calls_a_macro(tapp: MicroASGI) -> None:
    with tapp.app_context():
        hello = get_template_attribute("macros.html", "hello")
        assert hello("World") == "Hello World!"
        assert get_template_attribute("macros.html", "answer") == 42


# --- reloading ----------------------------------------------------------------------


def _write(path: Path, text: str, mtime_offset: float = 0) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + mtime_offset))


@pytest.mark.parametrize(
    "auto_reload, debug, reloaded",
    [(True, False, True), (False, True, False), (None, True, True), (None, False, False)],
)
def test_templates_auto_reload(
    tmp_path: Path, auto_reload: bool | None, debug: bool, reloaded: bool
) -> None:
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "page.html"
    _write(page, "version 1")
    app = make_app(tmp_path, TEMPLATES_AUTO_RELOAD=auto_reload, DEBUG=debug)
    with app.app_context():
        assert render_template("page.html") == "version 1"
        _write(page, "version 2", mtime_offset=10)
        assert render_template("page.html") == ("version 2" if reloaded else "version 1")


def test_auto_reload_follows_config_set_after_the_environment_exists(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "page.html"
    _write(page, "version 1")
    app = make_app(tmp_path)
    app.add_template_filter(str.upper, name="upper2")  # creates the environment
    app.config["TEMPLATES_AUTO_RELOAD"] = True
    with app.app_context():
        assert render_template("page.html") == "version 1"
        _write(page, "version 2", mtime_offset=10)
        assert render_template("page.html") == "version 2"


def test_explicit_auto_reload_option_wins(tmp_path: Path) -> None:
    app = make_app(tmp_path, TEMPLATES_AUTO_RELOAD=True)
    app.jinja_options = {"auto_reload": False}
    assert app.jinja_env.auto_reload is False
    app.jinja_env.auto_reload = True
    assert app.jinja_env.auto_reload is True


# --- errors -------------------------------------------------------------------------


def test_missing_template_propagates_when_testing(tapp: MicroASGI, tclient: TestClient) -> None:
    tapp.add_url_rule("/", view_func=lambda: render_template("missing.html"))
    with pytest.raises(jinja2.TemplateNotFound, match=r"missing\.html"):
        tclient.get("/")


def test_missing_template_is_a_500_when_not_propagating(
    tapp: MicroASGI, tclient: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    tapp.config["PROPAGATE_EXCEPTIONS"] = False
    tapp.add_url_rule("/", view_func=lambda: render_template("missing.html"))
    assert tclient.get("/").status_code == 500
    (record,) = [r for r in caplog.records if r.name == tapp.name]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], jinja2.TemplateNotFound)


def _error_of(app: MicroASGI, render: Callable[[], Any]) -> BaseException:
    with app.app_context():
        try:
            render()
        except Exception as exc:
            return exc
    raise AssertionError("no error was raised")


def test_template_location_of_a_syntax_error(tapp: MicroASGI) -> None:
    exc = _error_of(tapp, lambda: render_template("syntax_error.html"))
    assert isinstance(exc, jinja2.TemplateSyntaxError)
    assert template_location(exc) == "template 'syntax_error.html', line 3"


def test_template_location_of_a_syntax_error_in_an_included_template(tapp: MicroASGI) -> None:
    exc = _error_of(tapp, lambda: render_template_string('a\n{% include "syntax_error.html" %}'))
    assert template_location(exc) == "template 'syntax_error.html', line 3"


def test_template_location_of_a_string_template(tapp: MicroASGI) -> None:
    syntax = _error_of(tapp, lambda: render_template_string("line 1\n{% endif %}"))
    assert template_location(syntax) == "template '<template>', line 2"
    runtime = _error_of(tapp, lambda: render_template_string("1\n2\n{{ 1 / 0 }}"))
    assert isinstance(runtime, ZeroDivisionError)
    assert template_location(runtime) == "template '<template>', line 3"


@pytest.fixture
def strict_app() -> MicroASGI:
    app = make_app()
    app.jinja_options = {"undefined": jinja2.StrictUndefined}
    return app


def test_template_location_of_an_undefined_error(strict_app: MicroASGI) -> None:
    exc = _error_of(strict_app, lambda: render_template("undefined.html", x={}))
    assert isinstance(exc, jinja2.UndefinedError)
    assert template_location(exc) == "template 'undefined.html', line 2"
    missing = _error_of(strict_app, lambda: render_template("undefined.html"))
    assert template_location(missing) == "template 'undefined.html', line 2"


def test_template_location_names_the_innermost_template(strict_app: MicroASGI) -> None:
    exc = _error_of(strict_app, lambda: render_template("extends_undefined.html", x={}))
    assert template_location(exc) == "template 'extends_undefined.html', line 4"


def test_template_location_of_an_error_in_a_filter(tapp: MicroASGI) -> None:
    def explode(value: Any) -> str:
        raise ValueError("boom")

    tapp.add_template_filter(explode, name="explode")
    exc = _error_of(tapp, lambda: render_template_string("a\nb\n{{ 1|explode }}"))
    assert isinstance(exc, ValueError)
    assert template_location(exc) == "template '<template>', line 3"


def test_template_location_of_a_streamed_template(strict_app: MicroASGI) -> None:
    exc = _error_of(strict_app, lambda: "".join(stream_template("undefined.html", x={})))
    assert template_location(exc) == "template 'undefined.html', line 2"


def test_template_location_from_unrewritten_template_frames(strict_app: MicroASGI) -> None:
    with strict_app.app_context():
        template = strict_app.jinja_env.get_template("undefined.html")
        with pytest.raises(jinja2.UndefinedError) as info:
            # Calling the compiled code directly skips Jinja's traceback rewriting.
            "".join(template.root_render_func(template.new_context({"x": {}})))
    assert template_location(info.value) == "template 'undefined.html', line 2"


def test_template_location_of_other_errors_is_none() -> None:
    try:
        raise ValueError("not from a template")
    except ValueError as exc:
        assert template_location(exc) is None
    assert template_location(KeyError("never raised")) is None


def test_template_location_with_a_custom_loader_gives_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.html").write_text("ok\n{{ x.y.z }}\n")
    app = make_app()
    app.jinja_options = {
        "loader": jinja2.FileSystemLoader(str(tmp_path)),
        "undefined": jinja2.StrictUndefined,
    }
    exc = _error_of(app, lambda: render_template("bad.html"))
    # Only the app's own loader records names; the file is the next best thing.
    assert template_location(exc) == f"template {str(tmp_path / 'bad.html')!r}, line 2"
