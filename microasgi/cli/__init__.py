"""The ``microasgi`` command: serve the app, list its routes, open a shell, or run the
commands registered on ``app.cli`` or by installed packages. It mirrors ``flask``, under
Flask's names too (``FlaskGroup``, ``ScriptInfo``, ``with_appcontext``, ...); how the app is
found (``--app``, ``MICROASGI_APP`` or ``FLASK_APP``, default file names) is in
:mod:`microasgi.cli.discovery`.

Before anything else the command reads ``.flaskenv`` and ``.env`` (:func:`load_dotenv`), so
they may name the app; ``MICROASGI_SKIP_DOTENV=1`` turns that off.
"""

from __future__ import annotations

import os
import platform
import sys
import traceback
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, entry_points
from importlib.metadata import version as _package_version
from typing import Any, NamedTuple, TypeVar

import click
import click.testing
from click.core import ParameterSource

from ..app import MicroASGI
from ..commands import AppGroup, with_appcontext
from ..devserver import RUN_FROM_CLI, load_dotenv, show_server_banner
from ..globals import _cv_app, g
from ..memory import OWNED_BY_MICROASGI
from .discovery import (
    NoAppException,
    ScriptInfo,
    find_app_by_string,
    find_best_app,
    locate_app,
    prepare_import,
)
from .openapi import openapi_command

__all__ = [
    "AppGroup",
    "FlaskGroup",
    "MicroASGIGroup",
    "NoAppException",
    "ScriptInfo",
    "cli",
    "find_app_by_string",
    "find_best_app",
    "get_version",
    "load_dotenv",
    "locate_app",
    "main",
    "openapi_command",
    "pass_script_info",
    "prepare_import",
    "routes_command",
    "run_command",
    "shell_command",
    "show_server_banner",
    "version_option",
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
    defaults = ctx.ensure_object(ScriptInfo).load_dotenv_defaults
    if value is not None or defaults:
        load_dotenv(value, load_defaults=defaults)


def _version(package: str) -> str:
    try:
        return _package_version(package)
    except PackageNotFoundError:
        return "unknown"


def get_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """The ``--version`` option's callback: print the Python, microasgi and uvicorn
    versions, and exit."""
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
    help="Load environment variables from this file; its values win over those of .env and"
    " .flaskenv (read first unless MICROASGI_SKIP_DOTENV is set). Variables already set in"
    " the environment win over all.",
    is_eager=True,
    expose_value=False,
    callback=_load_env_file,
)
_app_option = click.Option(
    ["-A", "--app"],
    metavar="IMPORT",
    envvar=["MICROASGI_APP", "FLASK_APP"],
    help="The app to load: 'module:name', 'module:create_app(args)', 'module' or"
    " 'path/to/file.py'. Default: MICROASGI_APP, else FLASK_APP, else asgi.py, app.py or"
    " wsgi.py in the current folder.",
    is_eager=True,
    expose_value=False,
    callback=_set_app_import_path,
)
_debug_option = click.Option(
    ["--debug/--no-debug"],
    default=None,
    envvar=["MICROASGI_DEBUG", "FLASK_DEBUG"],
    help="Set the app's debug mode. Default: MICROASGI_DEBUG, else FLASK_DEBUG.",
    expose_value=False,
    callback=_set_debug,
)
version_option = click.Option(
    ["--version"],
    is_flag=True,
    help="Show the Python, microasgi and uvicorn versions.",
    is_eager=True,
    expose_value=False,
    allow_from_autoenv=False,
    callback=get_version,
)


def _print_load_error() -> None:
    exc = sys.exc_info()[1]
    if isinstance(exc, click.ClickException):
        message = f"Error: {exc.format_message()}\n"
    else:
        message = traceback.format_exc()
    click.secho(message, err=True, fg="red")


def _flask_is_microasgi() -> bool:
    """Whether the flask opt-in is on: ``import flask`` gives microasgi's own package."""
    return getattr(sys.modules.get("flask"), "__name__", None) == "microasgi"


class MicroASGIGroup(AppGroup):
    """The ``microasgi`` command: ``--app``, ``--debug`` and ``--env-file``; the built-in
    ``run``, ``routes`` and ``shell``; the commands that installed packages declare; and
    the commands of the loaded app's ``app.cli``. ``FlaskGroup`` is this class.

    Packages declare commands as entry points in the ``microasgi.commands`` group, or in
    Flask's ``flask.commands`` (as Flask-Migrate's ``db``); those are loaded only when the
    flask opt-in is on (docs/migrating.md) once the app is loaded, as their modules import
    flask. For a project's own management script: ``MicroASGIGroup(create_app=make_app)``;
    ``load_dotenv=False`` does not read ``.flaskenv`` and ``.env``. Options also read
    ``MICROASGI_<COMMAND>_<OPTION>`` (``MICROASGI_RUN_PORT=8000``).
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: Callable[[], MicroASGI] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: Any,
    ) -> None:
        params = list(extra.pop("params", None) or ())
        # --env-file first: the files it reads may set MICROASGI_APP for --app.
        params += [_env_file_option, _app_option, _debug_option]
        if add_version_option:
            params.append(version_option)
        settings = dict(extra.pop("context_settings", None) or {})
        settings.setdefault("auto_envvar_prefix", "MICROASGI")
        super().__init__(params=params, context_settings=settings, **extra)
        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag
        self._plugin_groups: set[str] = set()
        if add_default_commands:
            self.add_command(run_command)
            self.add_command(routes_command)
            self.add_command(shell_command)
            self.add_command(openapi_command)

    def _load_plugin_commands(self, group: str) -> None:
        """Add the commands of the ``group`` entry points, once; one that fails to load is
        reported (in red, on stderr) and left out."""
        if group in self._plugin_groups:
            return
        self._plugin_groups.add(group)
        for entry_point in entry_points(group=group):
            try:
                self.add_command(entry_point.load(), entry_point.name)
            except Exception:
                _print_load_error()

    def _app_and_plugins(self, ctx: click.Context) -> MicroASGI:
        """Load the app, then the Flask plugins' commands if the app turned the opt-in on."""
        app = ctx.ensure_object(ScriptInfo).load_app()
        if _flask_is_microasgi():
            self._load_plugin_commands("flask.commands")
        return app

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Give the context a :class:`ScriptInfo` object unless one is passed in."""
        # A module that calls app.run() outside a __main__ guard would otherwise start a
        # server while the command imports it, and block the command.
        os.environ[RUN_FROM_CLI] = "true"
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the arguments; help (asked for, or for no arguments) lists the app's
        commands too."""
        if (not args and self.no_args_is_help) or (
            len(args) == 1 and args[0] in self.get_help_option_names(ctx)
        ):
            # The eager options' callbacks have not run yet (or would run after --help's):
            # read the env files and MICROASGI_APP now, so the help can list the app's
            # commands.
            _env_file_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])
        return super().parse_args(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A built-in or plugin command, else one from the loaded app's ``app.cli``."""
        self._load_plugin_commands("microasgi.commands")
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        try:
            app = self._app_and_plugins(ctx)
        except NoAppException:
            _print_load_error()
            return None
        return super().get_command(ctx, cmd_name) or app.cli.get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Find the command to invoke; an app command runs inside the app context."""
        name, command, rest = super().resolve_command(ctx, args)
        # Pushed here rather than in get_command, which --help also calls while parsing,
        # before the context that would pop it again is entered. Plain click commands
        # added to app.cli get the app context this way too; plugin commands, as in
        # Flask, use with_appcontext.
        if command is not None and self.commands.get(name or "") is not command:
            app = ctx.ensure_object(ScriptInfo).load_app()
            active = _cv_app.get(None)
            if active is None or active.app is not app:
                ctx.with_resource(app.app_context())
        return name, command, rest

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The built-in, plugin and app commands; an app that fails to load is reported
        (in red, on stderr) and only the others are listed."""
        self._load_plugin_commands("microasgi.commands")
        names: set[str] = set()
        try:
            names.update(self._app_and_plugins(ctx).cli.list_commands(ctx))
        except Exception:
            _print_load_error()
        return sorted(names.union(super().list_commands(ctx)))


#: Flask's name for the group of the command line (``flask.cli.FlaskGroup``).
FlaskGroup = MicroASGIGroup


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
    show_server_banner(app.debug, app.name)
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
