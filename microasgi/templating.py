"""Jinja2 templates, as in Flask: ``render_template``, ``stream_template`` and friends.

Each app has one environment (``app.jinja_env``, created on first use by
:func:`create_environment`). Templates are looked up in the app's
``templates`` folder, then in each blueprint's, in registration order.
Every template sees ``request``, ``session``, ``g``, ``config``, ``url_for``
and ``get_flashed_messages``, plus what the context processors return.

Rendering is synchronous, as in Flask: call it from a ``def`` view (run in a
worker thread) or an ``async def`` view alike. Jinja2 itself is imported only
when the first template is needed (Jinja2's ``Environment``, ``BaseLoader``,
``Template`` and ``TemplateNotFound`` are importable from here, as from
Flask's module, and load it then).

Each render sends ``before_render_template`` and then ``template_rendered``
(sender: the app; ``template``, ``context``), as Flask does; a streamed
template sends the second once its last piece is produced.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from .ctx import stream_with_context as stream_with_context
from .flashing import get_flashed_messages
from .globals import _cv_app, g, request, session
from .globals import _cv_request as _cv_request
from .globals import current_app as current_app
from .signals import before_render_template, template_rendered

if TYPE_CHECKING:
    import jinja2

    from .sansio.app import App

__all__ = [
    "create_environment",
    "get_template_attribute",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
    "template_location",
    "update_template_context",
]

TemplateNames: TypeAlias = "str | jinja2.Template | list[str | jinja2.Template]"


def create_environment(app: App) -> jinja2.Environment:
    """Build ``app``'s Jinja2 environment (called once, by ``app.create_jinja_environment``).

    Options come from ``app.jinja_options``; by default autoescaping follows
    ``app.select_jinja_autoescape`` and reloading follows
    ``TEMPLATES_AUTO_RELOAD`` (``DEBUG`` when it is ``None``).
    """
    from ._jinja import Environment, make_tojson

    options = dict(app.jinja_options)
    options.setdefault("autoescape", app.select_jinja_autoescape)
    # Flask's hook for a custom class: `jinja_environment = MyEnvironment` on the app class.
    env_class = getattr(app, "jinja_environment", None) or Environment
    env: jinja2.Environment = env_class(app, **options)
    env.globals.update(
        url_for=app.url_for,
        get_flashed_messages=get_flashed_messages,
        config=app.config,
        request=request,
        session=session,
        g=g,
    )
    env.filters["tojson"] = make_tojson(app)
    return env


_FROM_JINJA2 = {
    "BaseEnvironment": "Environment",
    "BaseLoader": "BaseLoader",
    "Template": "Template",
    "TemplateNotFound": "TemplateNotFound",
}


def __getattr__(name: str) -> Any:
    # The names Flask's module has, without importing Jinja2 until someone asks for them.
    if name in ("Environment", "DispatchingJinjaLoader"):
        from . import _jinja

        return getattr(_jinja, name)
    if name in _FROM_JINJA2:
        import jinja2

        return getattr(jinja2, _FROM_JINJA2[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def update_template_context(app: App, context: dict[str, Any]) -> None:
    """Add ``g``, ``request`` and the context processors' values to ``context``.

    App processors run first, then those of the current request's blueprints,
    outermost first; values already in ``context`` (passed by the caller) win.
    Outside a request only ``g`` and the app's processors apply.
    """
    explicit = dict(context)
    ctx = _cv_app.get(None)
    scopes: list[str | None] = [None]
    if ctx is not None:
        context["g"] = ctx.g
        if ctx.request is not None:
            # The real object, not the proxy in the globals: attribute access is hot in templates.
            context["request"] = ctx.request
            scopes.extend(reversed(ctx.request.blueprints))
    processors = app.template_context_processors
    for scope in scopes:
        # .get, not [], so that lookups never add keys to the defaultdict.
        for func in processors.get(scope, ()):
            context.update(_run_processor(func))
    context.update(explicit)


def _run_processor(func: Any) -> dict[str, Any]:
    rv = func()
    if inspect.isawaitable(rv):
        if inspect.iscoroutine(rv):
            rv.close()  # never awaited: close it so no warning follows the error
        raise TypeError(
            f"Context processor {func!r} is async, but templates render synchronously."
            " Make it a plain 'def' function."
        )
    if rv is None:
        raise TypeError(f"Context processor {func!r} returned None; it must return a dict.")
    return cast("dict[str, Any]", rv)


def _app(func_name: str) -> App:
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "Working outside of application context.\n\n"
            f"{func_name}() needs the current app to find its templates. Call it from a"
            " view, or inside 'with app.app_context():'."
        )
    return ctx.app


def _env(app: App) -> jinja2.Environment:
    return app.jinja_env


def _render(app: App, template: jinja2.Template, context: dict[str, Any]) -> str:
    app.update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    rv = template.render(context)
    if template_rendered.receivers:
        template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    return rv


def _stream(app: App, template: jinja2.Template, context: dict[str, Any]) -> Iterator[str]:
    app.update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )

    def generate() -> Iterator[str]:
        yield from template.generate(context)
        if template_rendered.receivers:
            template_rendered.send(
                app, _async_wrapper=app.ensure_sync, template=template, context=context
            )

    return generate()


def render_template(template_name_or_list: TemplateNames, **context: Any) -> str:
    """Render a template from the templates folders with ``context`` as variables.

    ``render_template("user.html", user=user)``; with a list, the first
    template that exists is used.
    """
    app = _app("render_template")
    return _render(app, _env(app).get_or_select_template(template_name_or_list), context)


def render_template_string(source: str, **context: Any) -> str:
    """Render the template source ``source`` (autoescaped) with ``context`` as variables."""
    app = _app("render_template_string")
    return _render(app, _env(app).from_string(source), context)


def stream_template(template_name_or_list: TemplateNames, **context: Any) -> Iterator[str]:
    """Render a template piece by piece; return the iterator from a view to stream it.

    ``request``, ``session`` and ``g`` stay usable while the response is sent.
    """
    app = _app("stream_template")
    return _stream(app, _env(app).get_or_select_template(template_name_or_list), context)


def stream_template_string(source: str, **context: Any) -> Iterator[str]:
    """:func:`stream_template` for template source given as a string."""
    app = _app("stream_template_string")
    return _stream(app, _env(app).from_string(source), context)


def get_template_attribute(template_name: str, attribute: str) -> Any:
    """A macro or variable exported by a template, to use from Python.

    ``hello = get_template_attribute("macros.html", "hello"); hello("World")``
    """
    app = _app("get_template_attribute")
    return getattr(_env(app).get_template(template_name).module, attribute)


def template_location(exc: BaseException) -> str | None:
    """``"template 'page.html', line 3"`` for an error raised by a template, else ``None``.

    Syntax errors carry their location; for errors raised while rendering,
    the innermost template frame of the traceback is used.
    """
    jinja2_module = sys.modules.get("jinja2")
    if jinja2_module is None:
        return None  # no template was ever compiled, so none raised this
    if isinstance(exc, jinja2_module.TemplateSyntaxError):
        return _describe(exc.name or exc.filename, exc.lineno)
    found: tuple[str | None, int] | None = None
    tb = exc.__traceback__
    while tb is not None:
        frame_globals = tb.tb_frame.f_globals
        template = frame_globals.get("__jinja_template__")
        if template is not None:
            # Compiled template code whose traceback Jinja has not rewritten.
            line = template.get_corresponding_lineno(tb.tb_lineno)
            found = (template.name or template.filename, line)
        elif "__jinja_exception__" in frame_globals:
            # A frame Jinja rewrote to point at the template file and line.
            found = (_template_name(tb.tb_frame.f_code.co_filename), tb.tb_lineno)
        tb = tb.tb_next
    return None if found is None else _describe(*found)


def _describe(name: str | None, line: int) -> str:
    return f"template {name or '<template>'!r}, line {line}"


def _template_name(filename: str) -> str:
    """The name a template file was loaded under (the file name if unknown)."""
    from ._jinja import template_names

    return template_names.get(filename, filename)
