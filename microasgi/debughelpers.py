"""Help while developing: the debug 500 page, the blocked-loop watchdog, and errors
that say what to change in code half-ported from Flask.

- :func:`debug_response`: with ``DEBUG`` on, an unhandled error is answered with
  its traceback, as an HTML page that leads with the exception and the
  application's own frames; frames of the framework, its libraries and the
  standard library are folded into ``<details>`` blocks. Everything shown is
  escaped, and local variables are never shown (they can hold secrets).
- :func:`start_watchdog`: with ``DEBUG`` on, a thread per event loop notices an
  ``async def`` view that blocks the loop for more than
  :data:`BLOCKING_THRESHOLD` seconds and logs one warning naming the view and
  the blocking line.
- :func:`explain_flask_context_error`: real Flask's ``flask.request`` used
  during a microasgi request fails with Flask's "Working outside of request
  context"; this adds a note naming the import to change.

Flask's own names from its ``debughelpers`` module are here too.
"""

from __future__ import annotations

import html
import inspect
import linecache
import os
import site
import sys
import sysconfig
import threading
import traceback
from collections.abc import Iterable, Iterator
from functools import lru_cache
from types import CodeType, FrameType, TracebackType
from typing import TYPE_CHECKING, Any

import anyio
from anyio.lowlevel import EventLoopToken, current_token
from werkzeug.datastructures import MultiDict

from ._anyio import call_soon
from .wrappers.response import Response

if TYPE_CHECKING:
    import jinja2

    from .sansio.app import App
    from .sansio.scaffold import Scaffold
    from .wrappers.request import Request

__all__ = [
    "BLOCKING_THRESHOLD",
    "DebugFilesKeyError",
    "FormDataRoutingRedirect",
    "UnexpectedUnicodeError",
    "attach_enctype_error_multidict",
    "debug_response",
    "explain_flask_context_error",
    "explain_template_loading_attempts",
    "is_framework_file",
    "render_traceback",
    "start_watchdog",
    "stop_watchdog",
]

# -- Flask's names --------------------------------------------------------------------


class UnexpectedUnicodeError(AssertionError, UnicodeError):
    """Flask's name for unexpected text or binary data; kept so code that catches it runs."""


class DebugFilesKeyError(KeyError, AssertionError):
    """A missing ``request.files`` key when the form was not sent as
    ``multipart/form-data``: the message says to add ``enctype``."""

    def __init__(self, request: Request, key: str) -> None:
        message = (
            f"You tried to access the file {key!r} in request.files, but there is none:"
            f" the request's mimetype is {request.mimetype!r}, not 'multipart/form-data',"
            ' so no file contents were sent. Add enctype="multipart/form-data" to the'
            " form."
        )
        names = request.form.getlist(key)
        if names:
            sent = ", ".join(repr(name) for name in names)
            message += f"\n\nThe browser sent file names in the form instead: {sent}"
        self.msg = message

    def __str__(self) -> str:
        return self.msg


class FormDataRoutingRedirect(AssertionError):
    """Flask raises this in debug mode for a redirect that would make a browser drop a
    form's body. microasgi's routing redirects are 308s, which keep the method and the
    body, so it never raises it; the class is here for code that catches it."""

    def __init__(self, request: Request) -> None:
        new_url = getattr(request.routing_exception, "new_url", "?")
        super().__init__(
            f"A request was sent to {request.url!r}, but routing redirected it to the"
            f" canonical URL {new_url!r}. Send requests to the canonical URL, or use a 307"
            " or 308 redirect: otherwise browsers drop form data."
        )


def attach_enctype_error_multidict(request: Request) -> None:
    """Make ``request.files[key]`` raise :class:`DebugFilesKeyError` when ``key`` was
    sent as a plain form field (the form lacks ``enctype="multipart/form-data"``)."""
    files = request.files
    base: type[MultiDict[str, Any]] = type(files)

    class ExplainedFiles(base):  # type: ignore[valid-type,misc]
        def __getitem__(self, key: str) -> Any:
            try:
                return super().__getitem__(key)
            except KeyError as exc:
                if key not in request.form:
                    raise
                raise DebugFilesKeyError(request, key).with_traceback(exc.__traceback__) from None

    ExplainedFiles.__name__ = base.__name__
    ExplainedFiles.__qualname__ = base.__qualname__
    ExplainedFiles.__module__ = base.__module__
    files.__class__ = ExplainedFiles


def explain_template_loading_attempts(
    app: App,
    template: str,
    attempts: list[tuple[jinja2.BaseLoader, Scaffold, tuple[str, str | None, Any] | None]],
) -> None:
    """Log (info) where ``template`` was looked for: Flask's ``attempts``, one
    ``(loader, app or blueprint, get_source() result or None)`` per loader tried.

    microasgi's loader does this itself when ``EXPLAIN_TEMPLATE_LOADING`` is set.
    """
    from ._jinja import _explain  # jinja2 only when templates are used

    found = [
        (owner, loader, None if source is None else source[1] or "<string>")
        for loader, owner, source in attempts
    ]
    app.logger.info(_explain(app, template, found))


# -- the framework's frames, and the application's -----------------------------------

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {_PACKAGE_DIR}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if key in paths:
            dirs.add(paths[key])
    # Also site-packages that sysconfig does not name (Debian's dist-packages, say).
    dirs.update(getattr(site, "getsitepackages", list)())
    dirs.add(site.getusersitepackages())
    real = {os.path.realpath(path) for path in dirs}
    return tuple(sorted(path.rstrip(os.sep) + os.sep for path in dirs | real))


_LIBRARY_DIRS = _library_dirs()


@lru_cache(maxsize=1024)
def is_framework_file(filename: str) -> bool:
    """Whether code in ``filename`` belongs to the framework rather than the application:
    microasgi itself, an installed package (Werkzeug, anyio, uvicorn, ...), or the
    standard library (asyncio, ...). Everything else is the application's."""
    if filename.startswith("<frozen "):
        return True
    if filename.startswith("<"):
        return False  # code from a string: the application's (a template, exec)
    path = os.path.abspath(filename)
    return path.startswith(_LIBRARY_DIRS) or os.path.realpath(path).startswith(_LIBRARY_DIRS)


def _origin(filename: str) -> str:
    """What a framework frame belongs to: ``microasgi``, ``anyio``, ``asyncio``, ..."""
    path = os.path.abspath(filename)
    if path.startswith(_PACKAGE_DIR + os.sep):
        return "microasgi"
    for root in _LIBRARY_DIRS:
        if path.startswith(root):
            head = path[len(root) :].split(os.sep, 1)[0]
            return head.removesuffix(".py")
    return os.path.basename(filename)


def _where(filename: str, lineno: int | None) -> str:
    return f"{filename}:{lineno}" if lineno is not None else filename


# -- the debug 500 page ---------------------------------------------------------------

_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"
#: Lines of source shown around an application frame's line, before and after.
_CONTEXT_LINES = 2

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.5em; margin: 0; color: #a11; }
.message { font: 1.1em ui-monospace, monospace; white-space: pre-wrap; margin: .4em 0 1em; }
.origin, .request, .chain, footer { color: #555; }
.frame { margin: .8em 0; }
.frame .where { margin: 0; font-size: .9em; }
pre { background: #f6f6f6; padding: .4em .6em; margin: .2em 0; overflow-x: auto; }
pre mark { background: #fde3a7; }
details { margin: .6em 0; color: #666; }
summary { cursor: pointer; font-size: .9em; }
.exception { font: 1em ui-monospace, monospace; white-space: pre-wrap; color: #a11; }
.group { margin-left: 1.5em; border-left: 3px solid #eee; padding-left: 1em; }
"""


def render_traceback(exc: BaseException, request: Request | None = None) -> str:
    """The debug 500 page for ``exc``, as HTML: the exception's type and message, the
    application's frame that raised it, then the traceback (chained exceptions as
    Python shows them), the framework's frames folded. Everything is escaped; no
    local variables are shown."""
    te = traceback.TracebackException.from_exception(exc)
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ not in ("builtins", "__main__"):
        name = f"{kind.__module__}.{name}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(name)}: {_e(_first_line(exc))} // microasgi debug</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(name)}</h1>",
        f'<p class="message">{_e(str(exc))}</p>',
    ]
    if request is not None:
        query = request.query_string.decode("latin-1")
        target = f"{request.path}?{query}" if query else request.path
        parts.append(f'<p class="request">{_e(request.method)} {_e(target)}</p>')
    origin = _innermost_app_frame(te)
    if origin is not None:
        at = _e(_where(origin.filename, origin.lineno))
        parts.append(
            f'<p class="origin">Raised in your code at {at}, in <code>{_e(origin.name)}</code>.</p>'
        )
    parts.append("<h2>Traceback (most recent call last)</h2>")
    parts.extend(_render_chain(te))
    parts.append(
        "<footer><p>This page is shown because <code>DEBUG</code> is on: never turn it on"
        " in production. Local variables are not shown; they can hold secrets.</p></footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def debug_response(
    exc: BaseException, request: Request | None, response_class: type[Response] = Response
) -> Response:
    """The 500 answer to ``exc`` in debug mode: :func:`render_traceback`'s page, or the
    plain-text traceback when the request's ``Accept`` does not take HTML."""
    if request is not None and "accept" in request.headers:
        wants_html = request.accept_mimetypes.best_match(("text/html", "text/plain")) == "text/html"
    else:
        wants_html = True
    if wants_html:
        return response_class(render_traceback(exc, request), 500, mimetype="text/html")
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return response_class(text, 500, mimetype="text/plain")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else ""


def _innermost_app_frame(te: traceback.TracebackException) -> traceback.FrameSummary | None:
    for frame in reversed(te.stack):
        if not is_framework_file(frame.filename):
            return frame
    return None


def _chain(
    te: traceback.TracebackException,
) -> list[tuple[str | None, traceback.TracebackException]]:
    """The exceptions chained to ``te``, oldest first, each with the sentence Python prints
    before it (``None`` for the first)."""
    chain: list[tuple[str | None, traceback.TracebackException]] = []
    seen: set[int] = set()
    current: traceback.TracebackException | None = te
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.__cause__ is not None:
            message, following = _CAUSE, current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            message, following = _CONTEXT, current.__context__
        else:
            message, following = None, None
        chain.append((message, current))
        current = following
    chain.reverse()
    return chain


def _render_chain(te: traceback.TracebackException) -> Iterator[str]:
    for message, current in _chain(te):
        if message is not None:
            yield f'<p class="chain">{_e(message)}</p>'
        yield from _render_frames(current.stack)
        yield f'<p class="exception">{_e("".join(current.format_exception_only()).rstrip())}</p>'
        for number, sub in enumerate(getattr(current, "exceptions", None) or (), 1):
            yield f'<div class="group"><p class="chain">Sub-exception {number}</p>'
            yield from _render_chain(sub)
            yield "</div>"


def _render_frames(stack: Iterable[traceback.FrameSummary]) -> Iterator[str]:
    folded: list[traceback.FrameSummary] = []
    for frame in stack:
        if is_framework_file(frame.filename):
            folded.append(frame)
            continue
        if folded:
            yield _render_folded(folded)
            folded = []
        yield _render_frame(frame, _CONTEXT_LINES)
    if folded:
        yield _render_folded(folded)


def _render_folded(frames: list[traceback.FrameSummary]) -> str:
    origins = ", ".join(dict.fromkeys(_origin(frame.filename) for frame in frames))
    count = f"{len(frames)} frame{'s' if len(frames) > 1 else ''}"
    inner = "".join(_render_frame(frame, 0) for frame in frames)
    return f"<details><summary>{count} in {_e(origins)}</summary>{inner}</details>"


def _render_frame(frame: traceback.FrameSummary, around: int) -> str:
    lineno = frame.lineno
    at = _e(_where(frame.filename, lineno))
    where = f'<p class="where">{at}, in <code>{_e(frame.name)}</code></p>'
    lines = linecache.getlines(frame.filename) if lineno is not None else []
    if not lines or lineno is None or lineno > len(lines):
        source = frame.line
        return f'<div class="frame">{where}<pre>{_e(source)}</pre></div>' if source else where
    first = max(lineno - around, 1)
    last = min(lineno + around, len(lines))
    shown = []
    for number in range(first, last + 1):
        text = _e(f"{number:>5}  {lines[number - 1].rstrip()}")
        shown.append(f"<mark>{text}</mark>\n" if number == lineno else text + "\n")
    return f'<div class="frame">{where}<pre>{"".join(shown)}</pre></div>'


# -- real Flask's context locals in a microasgi request --------------------------------

_NOTE_START = "microasgi: this error is real Flask's:"
_FLASK_LOCALS = {
    "_no_req_msg": ("request", "session"),
    "_no_app_msg": ("current_app", "g"),
}


def explain_flask_context_error(exc: BaseException | None) -> None:
    """If ``exc`` is real Flask's "Working outside of ... context" error (code in a
    microasgi request used ``flask.request``, ``flask.g``, ... of the real Flask), add a
    note naming the import to change: ``exc.add_note`` (Python 3.11+), else appended
    to its message. Does nothing to any other exception, or when ``import flask``
    means microasgi. The app's ``log_exception`` calls it."""
    if not isinstance(exc, RuntimeError) or not exc.args:
        return
    names = _flask_locals_for(exc.args[0])
    if names is None:
        return
    where = ""
    found = _innermost_app_line(exc.__traceback__)
    if found is not None:
        filename, lineno = found
        line = linecache.getline(filename, lineno).strip()
        where = f" (at {_where(filename, lineno)}: {line})" if line else ""
    first, second = names
    note = (
        f"{_NOTE_START} code running in a microasgi request used"
        f" Flask's own `flask.{first}` or `flask.{second}`{where}, which only a Flask app"
        f" sets. Import them from microasgi: `from flask import {first}` becomes"
        f" `from microasgi import {first}`. For a library that imports flask itself, make"
        " `import flask` mean microasgi: `import microasgi.as_flask` first thing in the app"
        " (see docs/migrating.md)."
    )
    if sys.version_info >= (3, 11):
        if not any(str(seen).startswith(_NOTE_START) for seen in getattr(exc, "__notes__", ())):
            exc.add_note(note)
    elif _NOTE_START not in str(exc.args[0]):
        exc.args = (f"{exc.args[0]}\n\n{note}", *exc.args[1:])


def _flask_locals_for(message: object) -> tuple[str, str] | None:
    """The names of the real Flask's context locals whose error ``message`` is, if any."""
    flask = sys.modules.get("flask")
    if flask is None or getattr(flask, "__name__", None) != "flask":
        return None  # no Flask here, or `import flask` means microasgi
    flask_globals = sys.modules.get("flask.globals")
    for attribute, names in _FLASK_LOCALS.items():
        if message == getattr(flask_globals, attribute, None):
            return names
    return None


def _innermost_app_line(tb: TracebackType | None) -> tuple[str, int] | None:
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not is_framework_file(filename):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


# -- the watchdog: async views that block the event loop -------------------------------

#: Seconds the event loop may go unanswered before the watchdog looks at what blocks it.
BLOCKING_THRESHOLD = 0.1
#: Seconds between the watchdog's pings of a loop that answers.
_PING_INTERVAL = 0.02
_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR

#: One watchdog per event loop, by the loop's thread; it serves every app started there.
_watchdogs: dict[int, _Watchdog] = {}
_watchdogs_lock = threading.Lock()


def start_watchdog(app: App) -> None:
    """Watch the running event loop for ``app`` (call on the loop, at startup, in debug mode).

    A thread pings the loop; when a ping goes unanswered for
    :data:`BLOCKING_THRESHOLD` seconds, it samples the loop thread's stack and, if
    the application's async code is running there (an ``async def`` view or hook
    that called something blocking), logs one warning per blocking episode on
    ``app.logger``, naming the view and the blocking line. Apps started on the
    same loop (a mounted microasgi app, say) share its watchdog. Stopped by
    :func:`stop_watchdog`, or when the loop ends.
    """
    loop_thread = threading.current_thread()
    with _watchdogs_lock:
        watchdog = _watchdogs.get(loop_thread.ident or 0)
        if watchdog is not None and watchdog.loop_thread is loop_thread:
            if app not in watchdog.apps:
                watchdog.apps.append(app)
            return
        watchdog = _Watchdog(app, current_token(), loop_thread)
        _watchdogs[loop_thread.ident or 0] = watchdog
    watchdog.start()


def stop_watchdog(app: App) -> None:
    """Stop watching this event loop for ``app``; the watchdog ends with its last app."""
    with _watchdogs_lock:
        key = threading.get_ident()
        watchdog = _watchdogs.get(key)
        if watchdog is None or app not in watchdog.apps:
            return
        watchdog.apps.remove(app)
        if watchdog.apps:
            return
        del _watchdogs[key]
    watchdog.stop()


class _Watchdog:
    def __init__(self, app: App, token: EventLoopToken, loop_thread: threading.Thread) -> None:
        self.apps = [app]
        self.token = token
        self.loop_thread = loop_thread
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name=f"microasgi-watchdog-{app.name}", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout=1)

    def _run(self) -> None:
        try:
            self._watch()
        except Exception:  # a watchdog must never take anything down with it
            self.apps[0].logger.exception("The blocked-loop watchdog failed; it is off now.")
        finally:
            with _watchdogs_lock:
                if _watchdogs.get(self.loop_thread.ident or 0) is self:
                    del _watchdogs[self.loop_thread.ident or 0]

    def _watch(self) -> None:
        answered = threading.Event()
        while not self.stopping.is_set():
            answered.clear()
            try:
                call_soon(self.token, answered.set)
            except (anyio.RunFinishedError, RuntimeError):
                return  # the loop has ended
            if not answered.wait(BLOCKING_THRESHOLD):
                self._report()
                # One warning per episode: wait until the loop answers again.
                while not answered.wait(_PING_INTERVAL):
                    if self.stopping.is_set() or not self.loop_thread.is_alive():
                        return
            self.stopping.wait(_PING_INTERVAL)

    def _report(self) -> None:
        frame = sys._current_frames().get(self.loop_thread.ident or 0)
        apps = list(self.apps)
        found = _blocking_call(frame, apps) if frame is not None and apps else None
        if found is None:
            return  # the framework's own work, or no async code of the application's
        app, what, location = found
        code = location.f_code
        line = linecache.getline(code.co_filename, location.f_lineno or 0).strip()
        app.logger.warning(
            "%s has blocked the event loop for more than %d ms, at %s%s. Every other"
            " request waits meanwhile: await an async version of the call, run it in a"
            " thread (await anyio.to_thread.run_sync(...)), or make the view a def view.",
            what,
            BLOCKING_THRESHOLD * 1000,
            _where(code.co_filename, location.f_lineno),
            f": {line}" if line else "",
        )


def _blocking_call(frame: FrameType, apps: list[App]) -> tuple[App, str, FrameType] | None:
    """What blocks the loop, sampled at ``frame`` (the loop thread's innermost): the app
    to tell, a description of the application's running async function (the view, by
    endpoint and name, when it is one), and the application's innermost frame, the
    blocking call's location. ``None`` when no async function of the application's runs."""
    views: dict[CodeType, tuple[App, str]] = {}
    for app in apps:
        for code, endpoint in _view_codes(app):
            views.setdefault(code, (app, endpoint))
    location: FrameType | None = None
    view: tuple[App, str, CodeType] | None = None
    outermost: CodeType | None = None
    current: FrameType | None = frame
    while current is not None:
        code = current.f_code
        if not is_framework_file(code.co_filename):
            if location is None:
                location = current
            if code.co_flags & _ASYNC_FLAGS:
                outermost = code
                if view is None and code in views:
                    view = (*views[code], code)
        current = current.f_back
    if location is None or outermost is None:
        return None  # e.g. a def view run on the loop's thread: not an async view's doing
    if view is not None:
        app, endpoint, code = view
        return app, f"The async view {endpoint!r} ({_qualname(code)})", location
    return apps[0], f"The async function {_qualname(outermost)}", location


def _qualname(code: CodeType) -> str:
    return str(getattr(code, "co_qualname", code.co_name))


def _view_codes(app: App) -> Iterator[tuple[CodeType, str]]:
    """The code objects of each view of ``app`` (unwrapping decorators, and a
    class-based view's methods), with their endpoints."""
    for endpoint, view in list(app.view_functions.items()):
        for code in _codes_of(view):
            yield code, endpoint


def _codes_of(view: Any) -> Iterator[CodeType]:
    seen: set[int] = set()
    current = view
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "__code__", None)
        if isinstance(code, CodeType):
            yield code
        view_class = getattr(current, "view_class", None)
        if isinstance(view_class, type):
            for cls in view_class.__mro__:
                for member in vars(cls).values():
                    code = getattr(member, "__code__", None)
                    if isinstance(code, CodeType) and not is_framework_file(code.co_filename):
                        yield code
        current = getattr(current, "__wrapped__", None)
