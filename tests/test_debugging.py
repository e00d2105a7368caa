"""Debugging (microasgi.debughelpers): the debug 500 page, the blocked-loop watchdog,
and the errors that say what to change in code half-ported from Flask."""

from __future__ import annotations

import inspect
import logging
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import anyio
import flask
import httpx
import pytest

from microasgi import Blueprint, MicroASGI, abort, request
from microasgi.debughelpers import (
    DebugFilesKeyError,
    attach_enctype_error_multidict,
    explain_flask_context_error,
    explain_template_loading_attempts,
    render_traceback,
)
from tests import servers

HERE = str(Path(__file__).resolve())


def make_app(debug: bool = True) -> MicroASGI:
    app = MicroASGI(__name__, static_folder=None)
    app.debug = debug
    return app


def line_of(func: Any, text: str) -> int:
    """The line number of the first line of ``func``'s source containing ``text``."""
    lines, first = inspect.getsourcelines(func)
    return first + next(i for i, line in enumerate(lines) if text in line)


class Page(HTMLParser):
    """The page's text, each piece with whether it is folded (inside ``<details>``)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.depth = 0
        self.pieces: list[tuple[str, bool]] = []
        self.tags: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)
        if tag == "details":
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        self.pieces.append((data, self.depth > 0))

    def shown(self) -> str:
        return "".join(text for text, folded in self.pieces if not folded)

    def folded(self) -> str:
        return "".join(text for text, folded in self.pieces if folded)


# -- the debug 500 page ---------------------------------------------------------------


def failing_app(debug: bool = True) -> MicroASGI:
    app = make_app(debug)

    @app.get("/fail")
    async def fail() -> str:
        raise ValueError("it went wrong")

    return app


def test_debug_page_is_html_that_leads_with_the_error_and_the_apps_frames() -> None:
    app = failing_app()
    with app.test_client() as client:
        response = client.get("/fail", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    page = Page(response.text)
    shown = page.shown()
    # The exception's type and message come first, before any frame.
    assert shown.lstrip().startswith("ValueError: it went wrong")
    assert shown.index("ValueError") < shown.index(HERE)
    raised_at = line_of(failing_app, 'raise ValueError("it went wrong")')
    assert f"Raised in your code at {HERE}:{raised_at}, in fail." in shown
    # The application's frame is shown with its source; microasgi's are folded.
    assert f"{HERE}:{raised_at}, in fail" in shown
    assert 'raise ValueError("it went wrong")' in shown
    assert "microasgi/app.py" not in shown
    assert "microasgi/app.py" in page.folded()
    assert "details" in page.tags and "summary" in page.tags
    assert "script" not in page.tags  # <details> unfolds without JavaScript
    assert "DEBUG" in shown


def test_debug_page_escapes_the_message_and_the_source() -> None:
    app = make_app()

    @app.get("/xss")
    async def xss() -> str:
        raise ValueError("<script>alert('message')</script>")  # <script>alert('source')

    with app.test_client() as client:
        response = client.get("/xss")
    assert response.status_code == 500
    assert "<script" not in response.text.lower()
    assert "&lt;script&gt;alert(&#x27;message&#x27;)&lt;/script&gt;" in response.text
    assert "# &lt;script&gt;alert(&#x27;source&#x27;)" in response.text
    # Escaped, the text reads as it was.
    assert "ValueError: <script>alert('message')</script>" in Page(response.text).shown()


def test_debug_page_shows_chained_exceptions_as_python_does() -> None:
    app = make_app()

    @app.get("/cause")
    async def cause() -> str:
        try:
            {}["missing"]
        except KeyError as exc:
            raise LookupError("from the cause") from exc
        return "unreachable"

    @app.get("/context")
    async def context() -> str:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            raise RuntimeError("while handling")  # noqa: B904
        return "unreachable"

    @app.get("/suppressed")
    async def suppressed() -> str:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            raise RuntimeError("suppressed context") from None
        return "unreachable"

    with app.test_client() as client:
        shown = Page(client.get("/cause").text).shown()
        first = shown.index("KeyError: 'missing'")
        sentence = shown.index("The above exception was the direct cause of the following")
        assert first < sentence < shown.index("LookupError: from the cause", sentence)

        shown = Page(client.get("/context").text).shown()
        first = shown.index("ZeroDivisionError: division by zero")
        sentence = shown.index("During handling of the above exception, another exception")
        assert first < sentence < shown.index("RuntimeError: while handling", sentence)

        shown = Page(client.get("/suppressed").text).shown()
        assert "division by zero" not in shown  # (the source still says ZeroDivisionError)
        assert "During handling" not in shown


def test_debug_page_shows_no_local_variables() -> None:
    app = make_app()

    @app.get("/secret")
    async def secret_view() -> str:
        secret = "hun" + "ter2"
        raise ValueError(f"{len(secret)} characters")

    with app.test_client() as client:
        response = client.get("/secret")
    assert "7 characters" in response.text
    assert "secret = &quot;hun&quot; + &quot;ter2&quot;" in response.text  # the source line
    assert "hunter2" not in response.text  # but never the value


def test_without_debug_the_500_is_bare_and_unchanged() -> None:
    app = failing_app(debug=False)

    @app.get("/abort")
    async def aborted() -> str:
        abort(500)

    with app.test_client() as client:
        response = client.get("/fail")
        bare = client.get("/abort")
    assert response.status_code == 500
    assert (response.headers["Content-Type"], response.text) == (
        bare.headers["Content-Type"],
        bare.text,
    )
    assert "it went wrong" not in response.text
    assert "Traceback" not in response.text
    assert HERE not in response.text


def test_a_client_that_does_not_take_html_gets_a_plain_text_traceback() -> None:
    app = failing_app()
    with app.test_client() as client:
        response = client.get("/fail", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    assert response.text.startswith("Traceback (most recent call last):")
    assert response.text.rstrip().endswith("ValueError: it went wrong")
    assert f'File "{HERE}", line {line_of(failing_app, "raise ValueError")}' in response.text


def test_the_500_handler_answers_before_the_debug_page() -> None:
    app = failing_app()

    @app.errorhandler(500)
    async def server_error(error: Exception) -> tuple[str, int]:
        return "handled", 500

    with app.test_client() as client:
        response = client.get("/fail")
    assert (response.status_code, response.text) == (500, "handled")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is new in Python 3.11")
def test_render_traceback_shows_each_exception_of_a_group() -> None:
    def fail() -> None:
        raise ExceptionGroup("two failures", [ValueError("first"), KeyError("second")])  # noqa: F821

    with pytest.raises(Exception) as caught:
        fail()
    shown = Page(render_traceback(caught.value)).shown()
    assert "two failures" in shown
    assert shown.index("ValueError: first") < shown.index("KeyError: 'second'")


# -- the watchdog: async views that block the event loop -------------------------------


def watchdog_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("microasgi-watchdog")]


def blocked_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "blocked the event loop" in record.getMessage()
    ]


def blocking_app(debug: bool = True) -> MicroASGI:
    app = make_app(debug)

    @app.get("/block")
    async def block() -> str:
        time.sleep(0.3)
        return "done"

    @app.get("/helper")
    async def calls_helper() -> str:
        return slow_helper()

    @app.get("/await")
    async def awaits() -> str:
        await anyio.sleep(0.3)
        return "done"

    @app.get("/sync")
    def sync_view() -> str:
        time.sleep(0.3)
        return "done"

    @app.get("/threads")
    async def threads() -> str:
        return str(len(watchdog_threads()))

    return app


def slow_helper() -> str:
    time.sleep(0.3)
    return "done"


def test_an_async_view_that_blocks_logs_one_warning_naming_it_and_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = blocking_app()
    caplog.set_level(logging.WARNING, logger=app.name)
    with app.test_client() as client:
        assert client.get("/block").text == "done"
    [message] = blocked_warnings(caplog)
    assert "async view 'block' (blocking_app.<locals>.block)" in message
    assert f"at {HERE}:{line_of(blocking_app, 'time.sleep(0.3)')}: time.sleep(0.3)" in message


def test_the_location_is_the_blocking_line_in_a_helper_the_view_calls(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = blocking_app()
    caplog.set_level(logging.WARNING, logger=app.name)
    with app.test_client() as client:
        assert client.get("/helper").text == "done"
    [message] = blocked_warnings(caplog)
    assert "async view 'calls_helper'" in message
    assert f"at {HERE}:{line_of(slow_helper, 'time.sleep(0.3)')}: time.sleep(0.3)" in message


def test_awaiting_a_def_view_and_an_idle_loop_log_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = blocking_app()
    caplog.set_level(logging.WARNING, logger=app.name)
    with app.test_client() as client:
        assert client.get("/threads").text == "1"  # the watchdog is on
        assert client.get("/await").text == "done"
        assert client.get("/sync").text == "done"
        time.sleep(0.3)  # the loop idles
    assert blocked_warnings(caplog) == []


def test_without_debug_there_is_no_watchdog(caplog: pytest.LogCaptureFixture) -> None:
    app = blocking_app(debug=False)
    caplog.set_level(logging.WARNING, logger=app.name)
    with app.test_client() as client:
        assert client.get("/threads").text == "0"
        assert client.get("/block").text == "done"
    assert blocked_warnings(caplog) == []


def test_the_watchdog_stops_at_shutdown_or_when_its_loop_ends() -> None:
    app = blocking_app()
    with app.test_client() as client:  # lifespan: startup, then shutdown
        assert client.get("/threads").text == "1"
    assert watchdog_threads() == []

    app = blocking_app()
    client = app.test_client()  # no lifespan: the first request starts the app
    assert client.get("/threads").text == "1"
    client.close()  # ends the client's event loop
    deadline = time.monotonic() + 2
    while watchdog_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert watchdog_threads() == []


def test_apps_on_one_loop_share_a_watchdog_and_the_view_s_app_tells(
    caplog: pytest.LogCaptureFixture,
) -> None:
    parent = blocking_app()
    child = MicroASGI("child_app", static_folder=None)
    child.debug = True

    @child.get("/block")
    async def child_block() -> str:
        time.sleep(0.3)
        return "child done"

    parent.mount("/child", child)
    caplog.set_level(logging.WARNING)
    with parent.test_client() as client:
        assert client.get("/threads").text == "1"
        assert client.get("/child/block").text == "child done"
    [record] = [r for r in caplog.records if "blocked the event loop" in r.getMessage()]
    assert record.name == "child_app"
    assert "async view 'child_block'" in record.getMessage()
    assert watchdog_threads() == []


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_watchdog_on_both_event_loops(backend: str, caplog: pytest.LogCaptureFixture) -> None:
    app = blocking_app()
    caplog.set_level(logging.WARNING, logger=app.name)

    async def main() -> None:
        async with app.async_test_client() as client:
            assert (await client.get("/await")).text == "done"
            assert (await client.get("/block")).text == "done"

    anyio.run(main, backend=backend)
    [message] = blocked_warnings(caplog)
    assert "async view 'block'" in message
    assert watchdog_threads() == []


def test_the_watchdog_under_uvicorn(tmp_path: Path) -> None:
    (tmp_path / "blocking_debug_app.py").write_text(
        textwrap.dedent(
            """
            import time
            from microasgi import MicroASGI

            app = MicroASGI(__name__)
            app.debug = True

            @app.get("/")
            async def index():
                return "up"

            @app.get("/block")
            async def block():
                time.sleep(0.3)
                return "done"
            """
        )
    )
    server = servers.uvicorn("blocking_debug_app:app", env={"PYTHONPATH": str(tmp_path)})
    try:
        server.wait_ready()
        assert httpx.get(server.url + "/block", timeout=10).text == "done"
    finally:
        server.stop()
    output = server.output()
    assert output.count("blocked the event loop") == 1, output
    assert "async view 'block' (block)" in output
    assert "blocking_debug_app.py:14: time.sleep(0.3)" in output
    assert "Shutdown failed" not in output


# -- code half-ported from Flask --------------------------------------------------------


def real_flask() -> Any:
    assert flask.__name__ == "flask", "this test needs the real Flask, not the import alias"
    return flask


def test_a_flask_blueprint_is_refused_with_the_import_to_change() -> None:
    app = make_app()
    legacy = real_flask().Blueprint("legacy", __name__)
    with pytest.raises(TypeError, match="from microasgi import Blueprint") as caught:
        app.register_blueprint(legacy)
    assert "'legacy'" in str(caught.value)
    assert "import microasgi.as_flask" in str(caught.value)
    parent = Blueprint("parent", __name__)
    with pytest.raises(TypeError, match="from flask import Blueprint"):
        parent.register_blueprint(legacy)
    app.register_blueprint(parent)  # microasgi's own are welcome
    assert "parent" in app.blueprints


def error_records(caplog: pytest.LogCaptureFixture) -> Iterator[BaseException]:
    for record in caplog.records:
        if record.levelno == logging.ERROR and record.exc_info and record.exc_info[1]:
            yield record.exc_info[1]


def test_real_flask_request_in_a_microasgi_request_is_logged_with_the_import_to_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(debug=False)
    real = real_flask()

    @app.get("/request")
    async def uses_flask_request() -> str:
        return str(real.request.args.get("name"))

    @app.get("/app")
    def uses_flask_app() -> str:
        return str(real.current_app.name)

    with app.test_client() as client:
        assert client.get("/request?name=x").status_code == 500
        assert client.get("/app").status_code == 500
    [request_error, app_error] = error_records(caplog)
    [note] = getattr(request_error, "__notes__", [])
    assert "`from flask import request` becomes `from microasgi import request`" in note
    line = line_of(
        test_real_flask_request_in_a_microasgi_request_is_logged_with_the_import_to_change,
        "real.request.args",
    )
    assert f"{HERE}:{line}" in note
    assert "import microasgi.as_flask" in note
    [note] = getattr(app_error, "__notes__", [])
    assert "`from microasgi import current_app`" in note
    assert "from microasgi import request" in caplog.text  # the logged traceback has it


def test_other_errors_get_no_note() -> None:
    for error in (
        RuntimeError("Working outside of request context."),  # not Flask's own message
        RuntimeError(),
        ValueError("Working outside of request context."),
    ):
        explain_flask_context_error(error)
        assert not getattr(error, "__notes__", None)
    explain_flask_context_error(None)


def test_the_note_is_added_once() -> None:
    real = real_flask()
    with pytest.raises(RuntimeError) as caught:
        real.request.path  # noqa: B018
    explain_flask_context_error(caught.value)
    explain_flask_context_error(caught.value)
    assert len(caught.value.__notes__) == 1


# -- Flask's names -----------------------------------------------------------------------


def test_flask_debughelpers_names_are_here() -> None:
    import microasgi.debughelpers as ours

    real_flask()
    import flask.debughelpers as theirs

    public = {
        name
        for name, value in vars(theirs).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == theirs.__name__
    }
    assert public <= set(ours.__all__)


def test_a_files_key_sent_as_a_form_field_says_to_add_enctype() -> None:
    app = make_app()
    with app.test_request_context("/", method="POST", data={"upload": "notes.txt"}):
        attach_enctype_error_multidict(request)
        with pytest.raises(DebugFilesKeyError) as caught:
            request.files["upload"]
        assert 'enctype="multipart/form-data"' in str(caught.value)
        assert "'notes.txt'" in str(caught.value)
        with pytest.raises(KeyError) as missing:
            request.files["absent"]
        assert not isinstance(missing.value, DebugFilesKeyError)


def test_explain_template_loading_attempts_logs_each_loader(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()
    loader = app.jinja_loader
    assert loader is not None
    caplog.set_level(logging.INFO, logger=app.name)
    explain_template_loading_attempts(app, "page.html", [(loader, app, None)])
    assert "Locating template 'page.html'" in caplog.text
    assert "Error: the template could not be found." in caplog.text
