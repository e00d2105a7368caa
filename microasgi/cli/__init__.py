"""The ``microasgi`` command: serve the app, list its routes, open a shell, or run the
commands registered on ``app.cli``. It mirrors ``flask``; how the app is found (``--app``,
``MICROASGI_APP``, default file names) is in :mod:`microasgi.cli.discovery`.
"""

from __future__ import annotations

import os
import platform
import sys
import traceback
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from typing import Any, NamedTuple, TypeVar

import click
import click.testing
from click.core import ParameterSource

from ..app import MicroASGI
from ..commands import AppGroup, with_appcontext
from ..globals import _cv_app, g
from ..memory import OWNED_BY_MICROASGI
from .discovery import NoAppException, ScriptInfo, locate_app, prepare_import

__all__ = [
    "AppGroup",
    "MicroASGIGroup",
    "NoAppException",
    "ScriptInfo",
    "cli",
    "locate_app",
    "main",
    "pass_script_info",
    "prepare_import",
    "routes_command",
    "run_command",
    "shell_command",
    "with_appcontext",
]

F = TypeVar("F", bound=Callable[..., Any])

pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


# -- the microasgi command ---------------------------------------------------------------


def _set_app_import_path(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(ScriptInfo).app_import_path = value


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool | None) -> None:
    source = ctx.get_parameter_source(param.name or "")
    if value is None or source in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
        return
    # Through the environment, so that uvicorn's reload and worker processes, which
    # import the app anew, see it as well.
    os.environ["MICROASGI_DEBUG"] = "1" if value else "0"
    info = ctx.ensure_object(ScriptInfo)
    if info._app is not None and info.set_debug_flag:
        info._app.debug = value


def _load_env_file(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    try:
        import dotenv
    except ImportError:
        raise click.BadParameter(
            "python-dotenv must be installed to load an env file: pip install python-dotenv",
            ctx=ctx,
            param=param,
        ) from None
    dotenv.load_dotenv(value, encoding="utf-8")


def _version(package: str) -> str:
    try:
        return _package_version(package)
    except PackageNotFoundError:
        return "unknown"


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(
        f"Python {platform.python_version()}\n"
        f"microasgi {_version('microasgi')}\n"
        f"uvicorn {_version('uvicorn')}",
        color=ctx.color,
    )
    ctx.exit()


_env_file_option = click.Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    help="Load environment variables from this file (needs python-dotenv)."
    " Variables already set in the environment win.",
    is_eager=True,
    expose_value=False,
    callback=_load_env_file,
)
_app_option = click.Option(
    ["-A", "--app"],
    metavar="IMPORT",
    envvar="MICROASGI_APP",
    help="The app to load: 'module:name', 'module:create_app(args)', 'module' or"
    " 'path/to/file.py'. Default: asgi.py, app.py or wsgi.py in the current folder.",
    is_eager=True,
    expose_value=False,
    callback=_set_app_import_path,
)
_debug_option = click.Option(
    ["--debug/--no-debug"],
    default=None,
    envvar="MICROASGI_DEBUG",
    help="Set the app's debug mode.",
    expose_value=False,
    callback=_set_debug,
)
_version_option = click.Option(
    ["--version"],
    is_flag=True,
    help="Show the Python, microasgi and uvicorn versions.",
    is_eager=True,
    expose_value=False,
    allow_from_autoenv=False,
    callback=_show_version,
)


def _print_load_error() -> None:
    exc = sys.exc_info()[1]
    if isinstance(exc, click.ClickException):
        message = f"Error: {exc.format_message()}\n"
    else:
        message = traceback.format_exc()
    click.secho(message, err=True, fg="red")


class MicroASGIGroup(AppGroup):
    """The ``microasgi`` command: ``--app``, ``--debug`` and ``--env-file``; the built-in
    ``run``, ``routes`` and ``shell``; and the commands of the loaded app's ``app.cli``.

    For a project's own management script: ``MicroASGIGroup(create_app=make_app)``.
    Options also read ``MICROASGI_<COMMAND>_<OPTION>`` (``MICROASGI_RUN_PORT=8000``).
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: Callable[[], MicroASGI] | None = None,
        add_version_option: bool = True,
        set_debug_flag: bool = True,
        **extra: Any,
    ) -> None:
        params = list(extra.pop("params", None) or ())
        params += [_env_file_option, _app_option, _debug_option]
        if add_version_option:
            params.append(_version_option)
        settings = dict(extra.pop("context_settings", None) or {})
        settings.setdefault("auto_envvar_prefix", "MICROASGI")
        super().__init__(params=params, context_settings=settings, **extra)
        self.create_app = create_app
        self.set_debug_flag = set_debug_flag
        if add_default_commands:
            self.add_command(run_command)
            self.add_command(routes_command)
            self.add_command(shell_command)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Give the context a :class:`ScriptInfo` object unless one is passed in."""
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app, set_debug_flag=self.set_debug_flag
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the arguments; with none, help is shown, listing the app's commands too."""
        if not args and self.no_args_is_help:
            # The eager options' callbacks have not run yet: read the env file and
            # MICROASGI_APP now, so the help can list the app's commands.
            _env_file_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])
        return super().parse_args(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A built-in command, else one from the loaded app's ``app.cli``."""
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except NoAppException:
            _print_load_error()
            return None
        return app.cli.get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Find the command to invoke; an app command runs inside the app context."""
        name, command, rest = super().resolve_command(ctx, args)
        # Pushed here rather than in get_command, which --help also calls while parsing,
        # before the context that would pop it again is entered. Plain click commands
        # added to app.cli get the app context this way too.
        if command is not None and self.commands.get(name or "") is not command:
            app = ctx.ensure_object(ScriptInfo).load_app()
            active = _cv_app.get(None)
            if active is None or active.app is not app:
                ctx.with_resource(app.app_context())
        return name, command, rest

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The built-in commands and the app's; an app that fails to load is reported
        (in red, on stderr) and only the built-in commands are listed."""
        names = set(super().list_commands(ctx))
        try:
            names.update(ctx.ensure_object(ScriptInfo).load_app().cli.list_commands(ctx))
        except Exception:
            _print_load_error()
        return sorted(names)


# -- built-in commands ---------------------------------------------------------------------


@click.command("run", short_help="Serve the app (uvicorn, or granian).")
@click.option("--host", "-h", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", "-p", default=5000, show_default=True, help="Port to bind.")
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Restart when code changes. Default: on with --debug.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Number of worker processes.",
)
@click.option("--debug/--no-debug", default=None, help="Set the app's debug mode.")
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug", "trace"]),
    default=None,
    help="uvicorn's log level. Default: 'debug' in debug mode, else 'info'.",
)
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=False,
    show_default=True,
    help="Trust X-Forwarded-For/Proto from the proxy in front (only behind one).",
)
@click.option(
    "--server",
    type=click.Choice(["uvicorn", "granian", "hypercorn"]),
    default="uvicorn",
    show_default=True,
    help="The ASGI server. granian (pip install granian) is faster on plain requests.",
)
@click.option(
    "--limit-concurrency",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Connections and requests at once per worker; past it, 503 (uvicorn) or a wait"
    " (granian's backpressure).",
)
@click.option(
    "--timeout-keep-alive",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Seconds an idle keep-alive connection stays open (uvicorn, hypercorn).",
)
@click.option(
    "--header-timeout",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Seconds a client has to send its request headers (granian; hypercorn: any read)."
    " uvicorn has no such setting: see docs/deployment.md.",
)
@click.option(
    "--max-header-size",
    type=click.IntRange(min=1024),
    default=16384,
    show_default=True,
    help="Largest request head in bytes (granian, hypercorn, uvicorn's h11).",
)
@click.option(
    "--ws-max-size",
    type=click.IntRange(min=1),
    default=1024 * 1024,
    show_default=True,
    help="Largest websocket message in bytes (uvicorn, hypercorn).",
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    workers: int,
    debug: bool | None,
    log_level: str | None,
    proxy_headers: bool,
    server: str,
    limit_concurrency: int,
    timeout_keep_alive: int,
    header_timeout: int,
    max_header_size: int,
    ws_max_size: int,
) -> None:
    """Serve the app with uvicorn (or granian or hypercorn with --server).

    --reload and --workers need the app as an import string (the server starts
    new processes that import it): give --app as 'module:name' or
    'module:factory'. granian and hypercorn always need it.

    The server gets protective settings by default: a bound on concurrent
    connections, on idle keep-alive connections, on the time to send the
    request head and on its size, and on websocket messages. Each server
    has only some of them; docs/deployment.md says which, and what to put in
    front of uvicorn for the rest.
    """
    limits = _Limits(
        limit_concurrency, timeout_keep_alive, header_timeout, max_header_size, ws_max_size
    )
    app = info.load_app()
    if debug is not None:
        os.environ["MICROASGI_DEBUG"] = "1" if debug else "0"
        app.debug = debug
    importable = info.import_string is not None
    if reload is None:
        # Debug implies reloading only where uvicorn can do it.
        reload = app.debug and workers == 1 and importable
    if reload and workers > 1:
        raise click.UsageError("--reload and --workers are mutually exclusive.")
    target: MicroASGI | str = app
    if reload or workers > 1:
        if info.import_string is None:
            raise click.UsageError(
                "--reload and --workers need an app that uvicorn can import by name,"
                " but it was loaded from a factory with arguments or a create_app"
                " callback. Use --app 'module:name' or 'module:create_app'."
            )
        target = info.import_string
    # The server's processes are microasgi's: GC_TUNING's default applies there.
    os.environ[OWNED_BY_MICROASGI] = "1"
    click.echo(f" * Serving microasgi app '{app.name}'")
    click.echo(f" * Debug mode: {'on' if app.debug else 'off'}")
    if server == "granian":
        _serve_with_granian(info, host, port, reload, workers, log_level or "info", limits)
        return
    if server == "hypercorn":
        _serve_with_hypercorn(info, host, port, reload, workers, log_level or "info", limits)
        return
    import uvicorn

    uvicorn.run(
        target,
        host=host,
        port=port,
        reload=reload,
        workers=workers if workers > 1 else None,
        log_level=log_level or ("debug" if app.debug else "info"),
        proxy_headers=proxy_headers,
        factory=info.factory and target is not app,
        limit_concurrency=limits.concurrency,
        timeout_keep_alive=limits.keep_alive,
        h11_max_incomplete_event_size=limits.header_size,
        ws_max_size=limits.ws_max_size,
    )


class _Limits(NamedTuple):
    """The protective server settings of ``microasgi run``."""

    concurrency: int
    keep_alive: int
    header_timeout: int
    header_size: int
    ws_max_size: int


def _import_string(info: ScriptInfo, server: str) -> str:
    if info.import_string is None:
        raise click.UsageError(
            f"{server} imports the app by name in its own processes, but it was loaded from"
            " a factory with arguments or a create_app callback. Use --app 'module:name'"
            " or 'module:create_app'."
        )
    return info.import_string


def _serve_with_granian(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool,
    workers: int,
    log_level: str,
    limits: _Limits,
) -> None:
    try:
        from granian import Granian
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings
    except ImportError:
        raise click.UsageError("--server granian needs granian: pip install granian") from None
    Granian(
        _import_string(info, "granian"),
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        reload=reload,
        factory=info.factory,
        log_level={"trace": "debug"}.get(log_level, log_level),  # type: ignore[arg-type]
        backpressure=limits.concurrency,
        http1_settings=HTTP1Settings(
            header_read_timeout=limits.header_timeout * 1000,
            max_buffer_size=max(limits.header_size, 65536),
        ),
    ).serve()


def _serve_with_hypercorn(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool,
    workers: int,
    log_level: str,
    limits: _Limits,
) -> None:
    try:
        from hypercorn.config import Config
        from hypercorn.run import run
    except ImportError:
        raise click.UsageError(
            "--server hypercorn needs hypercorn: pip install hypercorn"
        ) from None
    config = Config()
    path = _import_string(info, "hypercorn")
    config.application_path = f"{path}()" if info.factory else path  # hypercorn evaluates it
    config.bind = [f"{host}:{port}"]
    config.workers = workers
    config.use_reloader = reload
    config.loglevel = log_level.upper() if log_level != "trace" else "DEBUG"
    config.accesslog = "-"
    config.keep_alive_timeout = limits.keep_alive
    config.read_timeout = limits.header_timeout
    config.h11_max_incomplete_size = limits.header_size
    config.websocket_max_message_size = limits.ws_max_size
    run(config)


_SORT_KEYS = ("endpoint", "methods", "rule", "match")


@click.command("routes", short_help="Show the routes of the app.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(_SORT_KEYS),
    default="endpoint",
    show_default=True,
    help="Sort by column; 'match' keeps the order the routes were registered in.",
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS too.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show the routes of the app: endpoint, methods and URL rule."""
    rules = list(_cv_app.get().app.url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    hidden = frozenset() if all_methods else frozenset({"HEAD", "OPTIONS"})
    rows = [
        (
            rule.endpoint,
            "WEBSOCKET" if rule.websocket else ", ".join(sorted(rule.methods - hidden)),
            rule.rule,
        )
        for rule in rules
    ]
    if sort != "match":
        column = _SORT_KEYS.index(sort)
        rows.sort(key=lambda row: (row[column], row))
    headers = ("Endpoint", "Methods", "Rule")
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(3)]
    for row in [headers, tuple("-" * width for width in widths), *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@click.command("shell", short_help="Run a Python shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell in the app context, with ``app``, ``g`` and the
    names from the app's shell context processors; ``PYTHONSTARTUP`` is run first."""
    import code

    app = _cv_app.get().app
    banner = (
        f"Python {sys.version} on {sys.platform}\nApp: {app.name}\nInstance: {app.instance_path}"
    )
    namespace: dict[str, Any] = {}
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup, encoding="utf-8") as file:
            exec(compile(file.read(), startup, "exec"), namespace)
    namespace.update(app=app, g=g)
    for processor in app.shell_context_processors:
        namespace.update(processor())
    hook = getattr(sys, "__interactivehook__", None)
    # Readline and history only make sense at a terminal (not with piped input).
    if hook is not None and sys.stdin.isatty():
        try:
            import readline
            from rlcompleter import Completer
        except ImportError:
            pass
        else:
            readline.set_completer(Completer(namespace).complete)
        hook()
    code.interact(banner=banner, local=namespace)


cli = MicroASGIGroup(
    name="microasgi",
    help="""A general utility script for microasgi applications.

    The app is found from --app, the MICROASGI_APP environment variable, or an
    asgi.py, app.py or wsgi.py file in the current folder.

    \b
      microasgi --app hello:app run --debug
      microasgi --app hello:app routes
    """,
)


def main() -> None:
    """Entry point of the ``microasgi`` console script."""
    cli.main()
