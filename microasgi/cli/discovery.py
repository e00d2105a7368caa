"""Finding the app the ``microasgi`` command serves: ``--app``, ``MICROASGI_APP``, or a file.

The forms, as ``flask``'s:

- ``module:name``: an attribute that is the app, or a factory called without arguments;
- ``module:create_app("dev", debug=True)``: a factory called with literal arguments;
- ``module``: its ``app`` or ``application``, else the only app in it, else its
  ``create_app`` or ``make_app`` factory;
- ``path/to/file.py`` (``:name`` optional): the file's folder goes on ``sys.path``.

Without any, ``asgi.py``, ``app.py`` and ``wsgi.py`` in the current folder are tried
in that order. A real ``flask.Flask`` found instead is refused with the import to change.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import sys
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any, Literal, NamedTuple, overload

import click

from ..app import MicroASGI
from ..devserver import debug_from_env, get_load_dotenv

__all__ = [
    "NoAppException",
    "ScriptInfo",
    "find_app_by_string",
    "find_best_app",
    "locate_app",
    "prepare_import",
]

_DEFAULT_FILES = ("asgi.py", "app.py", "wsgi.py")
_FACTORY_NAMES = ("create_app", "make_app")
_NOT_FOUND = (
    "Could not locate a microasgi application. Use the 'microasgi --app' option,"
    " 'MICROASGI_APP' (or 'FLASK_APP') environment variable, or an 'asgi.py' or 'app.py'"
    " file in the current directory."
)


class NoAppException(click.UsageError):
    """The application could not be found or loaded; the message says what was tried."""


class _ModuleNotFound(NoAppException):
    """The module named to hold the app does not exist."""


# -- finding the app ---------------------------------------------------------------


class _Found(NamedTuple):
    app: MicroASGI
    #: What uvicorn can import to load the app again ("pkg.mod:app"); None if it cannot.
    import_string: str | None
    factory: bool


def prepare_import(path: str) -> str:
    """Turn a file or module path into a module name and put its base folder on ``sys.path``.

    ``src/pkg/views.py`` (``src/pkg`` being a package) gives ``"pkg.views"``, with ``src``
    on the path; ``examples.hello.app`` gives itself, with the current folder on the path.
    """
    path = os.path.realpath(path)
    stem, ext = os.path.splitext(path)
    if ext == ".py":
        path = stem
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)
    parts: list[str] = []
    # Climb out of packages so the module keeps its dotted name (relative imports work).
    while True:
        path, name = os.path.split(path)
        parts.append(name)
        if not os.path.isfile(os.path.join(path, "__init__.py")):
            break
    if sys.path[:1] != [path]:
        sys.path.insert(0, path)
    return ".".join(reversed(parts))


@overload
def locate_app(
    module_name: str, app_name: str | None = None, raise_if_not_found: Literal[True] = True
) -> MicroASGI: ...


@overload
def locate_app(
    module_name: str, app_name: str | None = None, raise_if_not_found: bool = True
) -> MicroASGI | None: ...


def locate_app(
    module_name: str, app_name: str | None = None, raise_if_not_found: bool = True
) -> MicroASGI | None:
    """Import ``module_name`` and return the app in it: ``app_name`` (``"app"``,
    ``"create_app('dev')"``), or when None, the one :func:`find_best_app` finds.

    A module that does not exist is a :class:`NoAppException`, or None when
    ``raise_if_not_found`` is false.
    """
    try:
        return _locate(module_name, app_name).app
    except _ModuleNotFound:
        if raise_if_not_found:
            raise
        return None


def find_best_app(module: ModuleType) -> MicroASGI:
    """The app in an imported module: its ``app`` or ``application``, else its only app,
    else what its ``create_app`` or ``make_app`` factory returns when called bare."""
    return _find_in_module(module).app


def find_app_by_string(module: ModuleType, app_name: str) -> MicroASGI:
    """The app that ``app_name`` names in ``module``: an attribute (``"app"``) or a
    factory call with literal arguments (``"create_app('dev')"``)."""
    return _find_by_expression(module, app_name).app


def _locate(module_name: str, app_name: str | None) -> _Found:
    module = _import(module_name)
    if app_name is None:
        return _find_in_module(module)
    return _find_by_expression(module, app_name)


def _import(module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        missing = exc.name
        if (
            isinstance(exc, ModuleNotFoundError)
            and missing is not None
            and (module_name == missing or module_name.startswith(missing + "."))
        ):
            raise _ModuleNotFound(
                f"Could not import {module_name!r}. Check the module name given to --app"
                f" (or MICROASGI_APP), and run the command from the project folder (the"
                f" current one is {os.getcwd()!r})."
            ) from None
        # The module exists but something inside it failed to import: the user needs
        # the real traceback, not "not found".
        raise NoAppException(
            f"While importing {module_name!r}, an ImportError was raised:\n\n"
            f"{traceback.format_exc()}"
        ) from exc


def _find_in_module(module: ModuleType) -> _Found:
    name = module.__name__
    for attr in ("app", "application"):
        value = getattr(module, attr, None)
        if isinstance(value, MicroASGI):
            return _Found(value, f"{name}:{attr}", factory=False)
    apps: dict[int, tuple[str, MicroASGI]] = {}
    for attr, value in vars(module).items():
        if isinstance(value, MicroASGI):
            apps.setdefault(id(value), (attr, value))
    if len(apps) == 1:
        attr, app = next(iter(apps.values()))
        return _Found(app, f"{name}:{attr}", factory=False)
    if apps:
        names = ", ".join(sorted(attr for attr, _ in apps.values()))
        raise NoAppException(
            f"Detected multiple microasgi applications in module {name!r} ({names})."
            f" Use '{name}:name' to say which one to use."
        )
    for attr in _FACTORY_NAMES:
        factory = getattr(module, attr, None)
        if inspect.isfunction(factory):
            hint = (
                f"Detected factory {attr!r} in module {name!r}, but could not call it"
                f" without arguments. Use '{name}:{attr}(args)' to specify arguments."
            )
            app = _call_factory(factory, (), {}, f"{name}:{attr}", hint)
            return _Found(app, f"{name}:{attr}", factory=True)
    for attr, value in vars(module).items():
        _refuse_real_flask(value, f"'{name}:{attr}'")
    raise NoAppException(
        f"Failed to find a microasgi application or factory in module {name!r}."
        f" Use '{name}:name' to name it, or define 'app' or 'create_app' in it."
    )


def _parse_expression(text: str) -> tuple[str, tuple[Any, ...], dict[str, Any], bool]:
    """``"create_app('dev', x=1)"`` -> ``("create_app", ("dev",), {"x": 1}, True)``."""
    invalid = NoAppException(
        f"Failed to parse {text!r} as an attribute name or a function call."
        " Use 'module:name' or 'module:factory(args)'."
    )
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise invalid from None
    if isinstance(node, ast.Name):
        return node.id, (), {}, False
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise invalid
    try:
        args = tuple(ast.literal_eval(arg) for arg in node.args)
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
    except (ValueError, TypeError, SyntaxError):
        raise NoAppException(
            f"Failed to parse the arguments of {text!r}: only literal values"
            " (strings, numbers, lists, dicts, True/False/None) can be passed."
        ) from None
    if len(kwargs) != len(node.keywords):
        raise invalid
    return node.func.id, args, kwargs, True


def _find_by_expression(module: ModuleType, text: str) -> _Found:
    name, args, kwargs, called = _parse_expression(text)
    module_name = module.__name__
    try:
        value = getattr(module, name)
    except AttributeError:
        raise NoAppException(
            f"Failed to find attribute {name!r} in {module_name!r}. Check the name after"
            " the ':' in --app."
        ) from None
    if isinstance(value, MicroASGI):
        if called:
            raise NoAppException(
                f"{name!r} in {module_name!r} is an application, not a factory: use"
                f" '{module_name}:{name}' without parentheses."
            )
        return _Found(value, f"{module_name}:{name}", factory=False)
    _refuse_real_flask(value, f"'{module_name}:{name}'")
    if not (inspect.isfunction(value) or inspect.ismethod(value)):
        raise NoAppException(
            f"A valid microasgi application was not obtained from '{module_name}:{text}':"
            f" {name!r} is a {type(value).__name__}, not an application or a factory."
        )
    hint = (
        f"The factory '{module_name}:{text}' could not be called with the specified"
        f" arguments. Give its arguments as '{module_name}:{name}(args)'."
    )
    app = _call_factory(value, args, kwargs, f"{module_name}:{text}", hint)
    plain = not args and not kwargs
    return _Found(app, f"{module_name}:{name}" if plain else None, factory=True)


def _call_factory(
    factory: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    where: str,
    bad_arguments: str,
) -> MicroASGI:
    try:
        app = factory(*args, **kwargs)
    except TypeError as exc:
        if _raised_inside(factory, exc):
            raise
        raise NoAppException(bad_arguments) from exc
    if inspect.iscoroutine(app):
        app.close()
        raise NoAppException(
            f"The factory '{where}' is async: make it a plain 'def' that returns the app."
        )
    if not isinstance(app, MicroASGI):
        _refuse_real_flask(app, f"What '{where}' returned")
        raise NoAppException(
            f"A valid microasgi application was not obtained from '{where}': the factory"
            f" returned a {type(app).__name__}."
        )
    return app


def _refuse_real_flask(value: object, where: str) -> None:
    """Refuse an app of the real Flask, saying which import to change."""
    if isinstance(value, MicroASGI):
        return
    for cls in type(value).__mro__:
        if cls.__name__ == "Flask" and cls.__module__.partition(".")[0] == "flask":
            raise NoAppException(
                f"{where} is a Flask application (flask.Flask), not a microasgi one. Change"
                " the import that made it: 'from flask import Flask' -> 'from microasgi"
                " import Flask', or turn on the flask opt-in (docs/migrating.md): 'import"
                " microasgi.as_flask' at the top of the app, before anything imports flask."
            )


def _raised_inside(func: Callable[..., Any], exc: BaseException) -> bool:
    """Whether ``exc`` came from the body of ``func`` rather than from calling it wrongly."""
    code = getattr(func, "__code__", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            return True
        tb = tb.tb_next
    return False


class ScriptInfo:
    """How the ``microasgi`` command finds the app; the click context object of its commands.

    ``create_app`` (a callable returning the app) wins over ``app_import_path`` (the
    ``--app`` value). With ``set_debug_flag``, ``MICROASGI_DEBUG`` or ``FLASK_DEBUG`` (which
    ``--debug`` sets) is applied to the app once loaded. ``load_dotenv_defaults`` says
    whether the command reads ``.flaskenv`` and ``.env`` (``MICROASGI_SKIP_DOTENV`` can
    turn it off); the ``--env-file`` option does the reading.
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: Callable[[], MicroASGI] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        self.set_debug_flag = set_debug_flag
        self.load_dotenv_defaults = get_load_dotenv(load_dotenv_defaults)
        #: Free for extensions to keep data in.
        self.data: dict[Any, Any] = {}
        #: Once loaded, what uvicorn can import to load the app in another process
        #: (``"pkg.module:app"``), or None when the app cannot be imported that way.
        self.import_string: str | None = None
        #: Whether :attr:`import_string` names a factory (uvicorn's ``factory=True``).
        self.factory = False
        self._app: MicroASGI | None = None

    def load_app(self) -> MicroASGI:
        """Find, import and return the app; later calls return the same app."""
        if self._app is not None:
            return self._app
        if self.create_app is not None:
            app = self.create_app()
            if not isinstance(app, MicroASGI):
                _refuse_real_flask(app, "What the create_app callback returned")
                raise NoAppException(
                    "A valid microasgi application was not obtained from the create_app"
                    f" callback: it returned a {type(app).__name__}."
                )
            found = _Found(app, None, factory=False)
        elif self.app_import_path:
            # Split on the first ':' that does not start a Windows path ("C:\\...").
            path, *rest = re.split(r":(?![\\/])", self.app_import_path, maxsplit=1)
            name = rest[0] if rest else None
            found = _locate(prepare_import(path), name or None)
        else:
            found = self._find_default()
        app = found.app
        self.import_string, self.factory = found.import_string, found.factory
        debug = debug_from_env()
        if self.set_debug_flag and debug is not None:
            app.debug = debug
        self._app = app
        return app

    def _find_default(self) -> _Found:
        for filename in _DEFAULT_FILES:
            if os.path.isfile(filename):
                return _locate(prepare_import(filename), None)
        raise NoAppException(_NOT_FOUND)
