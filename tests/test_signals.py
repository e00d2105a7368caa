"""Flask's signals: the names, and the ones sent outside the request path (templates,
flash, pushing and popping a context), with Flask's sender and keyword arguments.

The request path's own signals (``request_started`` and the rest) are tested with
the app, in tests/test_app.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import blinker
import flask
import flask.signals
import jinja2
import pytest

import microasgi
import microasgi.signals
from microasgi import (
    MicroASGI,
    current_app,
    flash,
    has_app_context,
    render_template,
    render_template_string,
    stream_template_string,
)

SIGNAL_NAMES = [
    "template_rendered",
    "before_render_template",
    "request_started",
    "request_finished",
    "request_tearing_down",
    "got_request_exception",
    "appcontext_tearing_down",
    "appcontext_pushed",
    "appcontext_popped",
    "message_flashed",
]

#: The signals sent outside the request path, which these tests cover.
SENT_HERE = [
    "template_rendered",
    "before_render_template",
    "message_flashed",
    "appcontext_pushed",
    "appcontext_popped",
]

Calls = list[tuple[str, Any, dict[str, Any]]]


@contextmanager
def recording(sender: Any, *signals: blinker.Signal) -> Iterator[Calls]:
    """Record ``(signal name, sender, kwargs)`` for each send from ``sender``."""
    calls: Calls = []
    with ExitStack() as stack:
        for signal in signals:

            def receiver(sender: Any, _signal: Any = signal, **kwargs: Any) -> None:
                calls.append((_signal.name, sender, kwargs))

            stack.enter_context(signal.connected_to(receiver, sender))
        yield calls


@pytest.fixture
def app(tmp_path: Path) -> MicroASGI:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "hello.html").write_text("Hello {{ name }}!")
    app = MicroASGI("signals_app", root_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="signals")
    return app


# -- the names ------------------------------------------------------------------


@pytest.mark.parametrize("name", SIGNAL_NAMES)
def test_each_flask_signal_exists_under_its_flask_name(name: str) -> None:
    ours = getattr(microasgi.signals, name)
    assert isinstance(ours, blinker.base.NamedSignal)
    assert ours.name == getattr(flask.signals, name).name
    assert getattr(microasgi, name) is ours
    # Ours, not Flask's: a receiver connected to Flask's signal is not called here.
    assert ours is not getattr(flask.signals, name)


def test_namespace_is_blinkers_for_an_extensions_own_signals() -> None:
    assert microasgi.signals.Namespace is blinker.Namespace
    assert microasgi.Namespace is blinker.Namespace
    signal = microasgi.signals.Namespace().signal("my-extension-event")
    with recording("me", signal) as calls:
        signal.send("me", detail=1)
    assert calls == [("my-extension-event", "me", {"detail": 1})]


# -- templates --------------------------------------------------------------------


def test_rendering_sends_before_and_after_with_template_and_context(app: MicroASGI) -> None:
    signals = (microasgi.signals.before_render_template, microasgi.signals.template_rendered)
    with recording(app, *signals) as calls, app.test_request_context("/"):
        html = render_template("hello.html", name="Ann")
    assert html == "Hello Ann!"
    assert [(name, sender) for name, sender, _ in calls] == [
        ("before-render-template", app),
        ("template-rendered", app),
    ]
    for _name, _sender, kwargs in calls:
        assert set(kwargs) == {"template", "context"}
        assert isinstance(kwargs["template"], jinja2.Template)
        assert kwargs["template"].name == "hello.html"
        # The context as rendered: the caller's values and what the app adds.
        assert kwargs["context"]["name"] == "Ann"
        assert "g" in kwargs["context"] and "request" in kwargs["context"]


def test_render_template_string_sends_them_too(app: MicroASGI) -> None:
    signals = (microasgi.signals.before_render_template, microasgi.signals.template_rendered)
    with recording(app, *signals) as calls, app.app_context():
        assert render_template_string("{{ 1 + n }}", n=1) == "2"
    assert [name for name, _, _ in calls] == ["before-render-template", "template-rendered"]
    assert calls[0][2]["template"] is calls[1][2]["template"]
    assert calls[1][2]["context"]["n"] == 1


def test_streamed_template_sends_rendered_after_its_last_piece(app: MicroASGI) -> None:
    rendered = microasgi.signals.template_rendered
    before = microasgi.signals.before_render_template
    with recording(app, before, rendered) as calls, app.app_context():
        pieces = stream_template_string("{% for i in range(3) %}{{ i }}{% endfor %}")
        assert [name for name, _, _ in calls] == ["before-render-template"]
        assert "".join(pieces) == "012"
    assert [name for name, _, _ in calls] == ["before-render-template", "template-rendered"]


def test_a_template_rendered_in_a_view_is_seen_through_the_test_client(app: MicroASGI) -> None:
    @app.get("/")
    def index() -> str:
        return render_template("hello.html", name="Bob")

    with recording(app, microasgi.signals.template_rendered) as calls:
        assert app.test_client().get("/").text == "Hello Bob!"
    assert len(calls) == 1
    assert calls[0][2]["context"]["name"] == "Bob"


def test_connected_to_receives_only_its_senders_signals(app: MicroASGI) -> None:
    other = MicroASGI("other_app")
    seen: list[Any] = []

    def receiver(sender: Any, template: Any, context: Any) -> None:
        seen.append(sender)

    with microasgi.signals.template_rendered.connected_to(receiver, app):
        with other.app_context():
            render_template_string("x")
        with app.app_context():
            render_template_string("x")
    with app.app_context():
        render_template_string("after")  # disconnected by now
    assert seen == [app]


# -- flash ------------------------------------------------------------------------


def test_flash_sends_message_flashed_with_message_and_category(app: MicroASGI) -> None:
    @app.post("/")
    def post() -> str:
        flash("Saved")
        flash("Careful", "warning")
        return "ok"

    with recording(app, microasgi.signals.message_flashed) as calls:
        assert app.test_client().post("/").status_code == 200
    assert calls == [
        ("message-flashed", app, {"message": "Saved", "category": "message"}),
        ("message-flashed", app, {"message": "Careful", "category": "warning"}),
    ]


# -- pushing and popping a context --------------------------------------------------


def test_app_context_sends_pushed_then_popped(app: MicroASGI) -> None:
    states: list[tuple[str, bool]] = []

    def pushed(sender: Any) -> None:
        states.append(("pushed", has_app_context() and current_app.name == "signals_app"))

    def popped(sender: Any) -> None:
        states.append(("popped", has_app_context()))

    signals = microasgi.signals
    with (
        recording(app, signals.appcontext_pushed, signals.appcontext_popped) as calls,
        signals.appcontext_pushed.connected_to(pushed, app),
        signals.appcontext_popped.connected_to(popped, app),
        app.app_context(),
    ):
        assert [name for name, _, _ in calls] == ["appcontext-pushed"]
    assert calls == [("appcontext-pushed", app, {}), ("appcontext-popped", app, {})]
    # As in Flask: pushed once the context is current, popped once it is gone.
    assert states == [("pushed", True), ("popped", False)]


def test_a_request_context_pushed_by_hand_sends_them_too(app: MicroASGI) -> None:
    signals = microasgi.signals
    with recording(app, signals.appcontext_pushed, signals.appcontext_popped) as calls:
        ctx = app.test_request_context("/")
        ctx.push()
        ctx.push()  # pushed again while current: each push and pop is told
        ctx.pop()
        ctx.pop()
    assert [name for name, _, _ in calls] == [
        "appcontext-pushed",
        "appcontext-pushed",
        "appcontext-popped",
        "appcontext-popped",
    ]


def test_an_async_receiver_runs_for_a_sync_with_block(app: MicroASGI) -> None:
    seen: list[str] = []

    async def pushed(sender: Any) -> None:
        seen.append(f"pushed {sender.name}")

    with microasgi.signals.appcontext_pushed.connected_to(pushed, app), app.app_context():
        pass
    assert seen == ["pushed signals_app"]


async def test_async_with_awaits_async_receivers_and_calls_sync_ones(app: MicroASGI) -> None:
    seen: list[str] = []

    async def pushed(sender: Any) -> None:
        seen.append("async pushed")

    def popped(sender: Any) -> None:
        seen.append("sync popped")

    signals = microasgi.signals
    with (
        signals.appcontext_pushed.connected_to(pushed, app),
        signals.appcontext_popped.connected_to(popped, app),
    ):
        async with app.app_context():
            assert seen == ["async pushed"]
        async with app.test_request_context("/"):
            pass
    assert seen == ["async pushed", "sync popped", "async pushed", "sync popped"]


# -- no receivers, no cost ------------------------------------------------------------


def test_without_receivers_nothing_is_sent(app: MicroASGI, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("sent with no receivers")

    for name in SENT_HERE:
        signal = getattr(microasgi.signals, name)
        assert not signal.receivers, f"a test left a receiver on {name}"
        monkeypatch.setattr(signal, "send", refuse)
        monkeypatch.setattr(signal, "send_async", refuse)

    @app.post("/")
    def post() -> str:
        flash("hi")
        return render_template("hello.html", name="x")

    assert app.test_client().post("/").text == "Hello x!"
    with app.app_context():
        assert "".join(stream_template_string("{{ 2 }}")) == "2"


async def test_without_receivers_async_with_sends_nothing(
    app: MicroASGI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("sent with no receivers")

    for name in ("appcontext_pushed", "appcontext_popped"):
        signal = getattr(microasgi.signals, name)
        monkeypatch.setattr(signal, "send", refuse)
        monkeypatch.setattr(signal, "send_async", refuse)
    async with app.app_context():
        pass


# -- side by side with Flask ----------------------------------------------------------


def _flask_app(tmp_path: Path) -> flask.Flask:
    app = flask.Flask("flask_side", root_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="signals")
    return app


def _render(module: Any, app: Any) -> None:
    with app.test_request_context("/"):
        module.render_template("hello.html", name="Ann")
        module.render_template_string("{{ 1 }}")


def _stream(module: Any, app: Any) -> None:
    with app.test_request_context("/"):
        "".join(module.stream_template("hello.html", name="Ann"))


def _flash(module: Any, app: Any) -> None:
    with app.test_request_context("/"):
        module.flash("Saved", "info")


def _app_context(module: Any, app: Any) -> None:
    with app.app_context():
        pass


# Flask's stream_with_context pushes the request context again while the template
# streams (so appcontext_pushed and _popped are sent twice); here the context stays
# current until the response is sent, so there is nothing to push again.
_TEMPLATE_SIGNALS = ["template_rendered", "before_render_template"]


@pytest.mark.parametrize(
    ("operation", "names"),
    [
        (_render, SENT_HERE),
        (_stream, _TEMPLATE_SIGNALS),
        (_flash, SENT_HERE),
        (_app_context, SENT_HERE),
    ],
)
def test_same_signals_sender_and_keywords_as_flask(
    operation: Any, names: list[str], tmp_path: Path
) -> None:
    ours_app = MicroASGI("ours", root_path=str(tmp_path))
    ours_app.config.update(TESTING=True, SECRET_KEY="signals")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "hello.html").write_text("Hello {{ name }}!")
    theirs_app = _flask_app(tmp_path)

    def shape(calls: Calls, app: Any) -> list[tuple[str, bool, list[str]]]:
        return [(name, sender is app, sorted(kwargs)) for name, sender, kwargs in calls]

    with recording(ours_app, *(getattr(microasgi.signals, n) for n in names)) as ours:
        operation(microasgi, ours_app)
    with recording(theirs_app, *(getattr(flask.signals, n) for n in names)) as theirs:
        operation(flask, theirs_app)
    assert theirs, "the operation sends something under Flask"
    assert shape(ours, ours_app) == shape(theirs, theirs_app)
    # The same values, where they are plain data.
    plain = {"message", "category"}
    assert [{k: v for k, v in kw.items() if k in plain} for _, _, kw in ours] == [
        {k: v for k, v in kw.items() if k in plain} for _, _, kw in theirs
    ]


def test_the_request_path_knows_when_its_signals_have_receivers() -> None:
    # One test per request stands for seven: it must follow connects and disconnects.
    from microasgi.signals import request_path_listened

    assert request_path_listened.any is False

    def receiver(sender: Any, **extra: Any) -> None:
        pass

    microasgi.signals.request_finished.connect(receiver)
    assert request_path_listened.any is True
    microasgi.signals.request_finished.disconnect(receiver)
    assert request_path_listened.any is False
    with microasgi.signals.appcontext_popped.connected_to(receiver):
        assert request_path_listened.any is True
    assert request_path_listened.any is False
