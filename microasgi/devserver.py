"""``app.run()``: Flask's development-server call, served by uvicorn; and the environment a
run reads, which the ``microasgi`` command shares.

- ``.flaskenv`` and ``.env`` set the environment variables not set already
  (:func:`load_dotenv`); ``MICROASGI_SKIP_DOTENV=1`` (or Flask's ``FLASK_SKIP_DOTENV``)
  turns that off (:func:`get_load_dotenv`).
- ``MICROASGI_DEBUG``, else Flask's ``FLASK_DEBUG``, asks for debug mode
  (:func:`get_debug_flag`).
- ``app.run``'s Flask keywords become uvicorn's settings where they mean something there
  (:func:`run_app`); those that do not are named in one warning.
"""

from __future__ import annotations

import os
import ssl
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from .sansio.app import App

__all__ = [
    "RUN_FROM_CLI",
    "debug_from_env",
    "get_debug_flag",
    "get_load_dotenv",
    "load_dotenv",
    "run_app",
    "show_server_banner",
]

#: Set (to ``"true"``) by the ``microasgi`` command, and by ``app.run`` for the processes
#: uvicorn starts: a call to ``app.run()`` there returns at once instead of serving again.
RUN_FROM_CLI = "MICROASGI_RUN_FROM_CLI"

_TRUTHY = frozenset({"1", "true", "yes", "on"})


def _from_env(name: str) -> str | None:
    """``MICROASGI_<name>``, else ``FLASK_<name>``; an empty value counts as unset."""
    return os.environ.get(f"MICROASGI_{name}") or os.environ.get(f"FLASK_{name}") or None


def debug_from_env() -> bool | None:
    """Debug mode as the environment sets it, None when it does not: ``MICROASGI_DEBUG``,
    else ``FLASK_DEBUG``, on for ``1``, ``true``, ``yes`` or ``on``."""
    value = _from_env("DEBUG")
    return None if value is None else value.lower() in _TRUTHY


def get_debug_flag() -> bool:
    """Whether the environment asks for debug mode (``MICROASGI_DEBUG``, else
    ``FLASK_DEBUG``); False when neither is set."""
    return bool(debug_from_env())


def get_load_dotenv(default: bool = True) -> bool:
    """Whether to load the default dotenv files: ``default``, unless
    ``MICROASGI_SKIP_DOTENV`` (else ``FLASK_SKIP_DOTENV``) is set, which skips them
    unless its value is ``0``, ``false`` or ``no``."""
    value = _from_env("SKIP_DOTENV")
    if value is None:
        return default
    return value.lower() in ("0", "false", "no")


def load_dotenv(path: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> bool:
    """Set environment variables from dotenv files; True if the files set any value.

    With ``load_defaults``, the nearest ``.flaskenv`` and the nearest ``.env``, looking
    from the current folder up, are read; ``.env`` wins over ``.flaskenv`` and ``path`` over
    both, and a variable already in the environment wins over them all. As in Flask 3.1,
    the current folder is not changed.
    """
    # Imported here: it is wanted only when a command or app.run starts (~40 ms to import).
    import dotenv

    values: dict[str, str | None] = {}
    if load_defaults:
        for name in (".flaskenv", ".env"):
            found = dotenv.find_dotenv(name, usecwd=True)
            if found:
                values |= dotenv.dotenv_values(found, encoding="utf-8")
    if path is not None and os.path.isfile(path):
        values |= dotenv.dotenv_values(path, encoding="utf-8")
    for key, value in values.items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
    return bool(values)


def show_server_banner(debug: bool | None, app_import_path: str | None) -> None:
    """Print the lines a server start shows: the app, and whether debug mode is on."""
    if app_import_path is not None:
        click.echo(f" * Serving microasgi app '{app_import_path}'")
    if debug is not None:
        click.echo(f" * Debug mode: {'on' if debug else 'off'}")


#: Werkzeug's keywords with no counterpart in uvicorn: whether a value asks for nothing
#: (so it is honoured as is), and why the others are ignored.
_WERKZEUG_ONLY: dict[str, tuple[Callable[[Any], bool], str]] = {
    "use_debugger": (
        lambda value: not value,
        "there is no interactive debugger; in debug mode a 500 shows the traceback",
    ),
    "threaded": (bool, "requests are always served concurrently"),
    "request_handler": (lambda value: value is None, "uvicorn has its own protocol classes"),
    "static_files": (lambda value: not value, "use the app's static folder or app.mount()"),
    "passthrough_errors": (
        lambda value: not value,
        "errors are answered with a 500; the test client can raise them (TESTING)",
    ),
}
#: Werkzeug's reloader settings; uvicorn's counterparts in :func:`_map_reload_options`.
_RELOADER_OPTIONS = ("extra_files", "exclude_patterns", "reloader_interval", "reloader_type")
_NOT_IMPORTABLE = (
    "uvicorn imports the app by name in its new processes, and {app!r} is not an attribute"
    " of its module or of __main__; use `microasgi --app module:app run {option}`"
)


def run_app(
    app: App,
    host: str | None = None,
    port: int | str | None = None,
    debug: bool | None = None,
    dotenv: bool = True,
    *,
    use_reloader: bool | None = None,
    threaded: bool = True,
    processes: int = 1,
    ssl_context: Any = None,
    **options: Any,
) -> None:
    """Serve ``app`` with uvicorn, given ``Flask.run``'s arguments (``dotenv`` is its
    ``load_dotenv``). What maps where is in ``MicroASGI.run`` and docs/cli.md."""
    if os.environ.get(RUN_FROM_CLI) == "true":
        import multiprocessing

        # Only the process that was started says so: uvicorn's reload and worker
        # processes run the script again (before their parent_process() is known).
        if multiprocessing.current_process().name == "MainProcess":
            click.secho(
                " * Ignoring a call to 'app.run()' that would block the current 'microasgi'"
                " command.\n   Only call 'app.run()' in an 'if __name__ == \"__main__\"' guard.",
                fg="red",
            )
        return
    ssl_files = _ssl_files(ssl_context)
    if get_load_dotenv(dotenv):
        load_dotenv()
        from_env = debug_from_env()
        if from_env is not None:
            app.debug = from_env
    if debug is not None:
        app.debug = bool(debug)
    host, port = _address(app, host, port)

    given: dict[str, Any] = {"threaded": threaded}
    given |= {name: options.pop(name) for name in _WERKZEUG_ONLY if name in options}
    ignored = [
        f"{name}={value!r} ({_WERKZEUG_ONLY[name][1]})"
        for name, value in given.items()
        if not _WERKZEUG_ONLY[name][0](value)
    ]
    options.pop("use_evalex", None)  # nothing evaluates code here, whatever its value
    reload_options = {key: options.pop(key) for key in _RELOADER_OPTIONS if key in options}
    if "reload" in options:  # uvicorn's name
        use_reloader = options.pop("reload")
    reload = bool(app.debug if use_reloader is None else use_reloader)
    workers = int(options.pop("workers", None) or processes)
    target, reload, workers, refused = _target(app, reload, workers, use_reloader is not None)
    ignored += refused
    if reload:
        ignored += _map_reload_options(reload_options, options)
    for key, value in ssl_files.items():
        options.setdefault(key, value)
    if ignored:
        warnings.warn(
            "app.run() ignores what uvicorn cannot do: " + "; ".join(ignored) + ".",
            stacklevel=3,
        )
    options.setdefault("log_level", "debug" if app.debug else "info")
    show_server_banner(app.debug, app.name)

    import uvicorn

    # Processes that uvicorn starts import the app anew: they learn debug mode from the
    # environment, and that an app.run() they meet is this one.
    new_processes = target is not app
    with _environ(
        {RUN_FROM_CLI: "true", "MICROASGI_DEBUG": "1" if app.debug else "0"}
        if new_processes
        else {}
    ):
        uvicorn.run(
            target,
            host=host,
            port=port,
            reload=reload,
            workers=workers if workers > 1 else None,
            **options,
        )


def _target(app: App, reload: bool, workers: int, asked: bool) -> tuple[Any, bool, int, list[str]]:
    """What uvicorn serves: the app itself, or its import string when new processes
    (``reload``, ``workers``) must import it; and the settings that could not be kept."""
    if not reload and workers == 1:
        return app, reload, workers, []
    import_string = _import_string(app)
    refused: list[str] = []
    if import_string is None:
        # Reloading that debug mode implies is dropped quietly, as `microasgi run` does.
        if reload and asked:
            reason = _NOT_IMPORTABLE.format(app=app.name, option="--reload")
            refused.append(f"use_reloader=True ({reason})")
        if workers > 1:
            reason = _NOT_IMPORTABLE.format(app=app.name, option=f"--workers {workers}")
            refused.append(f"processes={workers} ({reason})")
        return app, False, 1, refused
    if reload and workers > 1:
        refused.append(f"processes={workers} (uvicorn runs one process when reloading)")
        workers = 1
    return import_string, reload, workers, refused


def _address(app: App, host: str | None, port: int | str | None) -> tuple[str, int]:
    """``host`` and ``port``, else ``SERVER_NAME``'s, else ``127.0.0.1:5000``, as Flask."""
    server_host, _, server_port = (app.config.get("SERVER_NAME") or "").partition(":")
    if not port and port != 0:
        port = server_port or 5000
    return host or server_host or "127.0.0.1", int(port)


def _import_string(app: App) -> str | None:
    """``module:name`` under which uvicorn's new processes find ``app``, if there is one:
    an attribute of the app's own module, else of ``__main__`` (a script's, which
    uvicorn's processes run again as ``__mp_main__``: its ``__main__`` guard stays shut)."""
    for module_name in dict.fromkeys((app.import_name, "__main__")):
        module = sys.modules.get(module_name)
        if module is None or not getattr(module, "__file__", None):
            continue  # an interactive session's __main__ cannot be imported again
        names = [name for name, value in vars(module).items() if value is app]
        if names:
            return f"{module_name}:{'app' if 'app' in names else names[0]}"
    return None


def _map_reload_options(given: dict[str, Any], options: dict[str, Any]) -> list[str]:
    """Werkzeug's reloader settings as uvicorn's; what has no counterpart, described."""
    if given.get("extra_files"):
        files = [os.fspath(path) for path in given["extra_files"]]
        options.setdefault("reload_includes", files)
        folders = {os.path.dirname(os.path.abspath(path)) for path in files}
        options.setdefault("reload_dirs", sorted({os.getcwd(), *folders}))
    if given.get("exclude_patterns"):
        options.setdefault("reload_excludes", list(given["exclude_patterns"]))
    if given.get("reloader_interval") is not None:
        options.setdefault("reload_delay", float(given["reloader_interval"]))
    kind = given.get("reloader_type")
    if kind not in (None, "auto"):
        return [f"reloader_type={kind!r} (uvicorn chooses watchfiles, or polling without it)"]
    return []


def _ssl_files(ssl_context: Any) -> dict[str, Any]:
    """Flask's ``ssl_context`` as uvicorn's ``ssl_certfile`` and ``ssl_keyfile``."""
    if ssl_context is None:
        return {}
    if isinstance(ssl_context, ssl.SSLContext):
        raise TypeError(
            "uvicorn cannot take an ssl.SSLContext: it builds its own from files. Pass"
            " ssl_context=(certfile, keyfile) to app.run(), or uvicorn's own ssl_certfile=,"
            " ssl_keyfile=, ssl_keyfile_password=, ssl_ca_certs=, ssl_ciphers=."
        )
    if ssl_context == "adhoc":
        raise ValueError(
            "ssl_context='adhoc' is not available under uvicorn: make a development"
            " certificate once (werkzeug.serving.make_ssl_devcert('dev'), with the"
            " cryptography package, writes dev.crt and dev.key) and pass"
            " ssl_context=('dev.crt', 'dev.key')."
        )
    if isinstance(ssl_context, (str, os.PathLike)):
        return {"ssl_certfile": ssl_context}  # one PEM file holding the key too
    if isinstance(ssl_context, (tuple, list)) and len(ssl_context) in (1, 2):
        cert, key = (*ssl_context, None)[:2]
        return {"ssl_certfile": cert, "ssl_keyfile": key}
    raise TypeError(
        f"ssl_context must be a (certfile, keyfile) pair or a file path, not {ssl_context!r}."
    )


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block, then put back what was there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
