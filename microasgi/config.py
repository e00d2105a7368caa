"""Application configuration: Flask's ``Config`` dict and microasgi's defaults.

``app.config`` is a plain ``dict`` with loaders that read settings from Python
files, objects, mappings, data files and environment variables. Only
UPPERCASE keys are taken from files, objects and mappings, so helpers and
imports in a settings module never leak into the configuration::

    app.config.from_object("myapp.settings:Production")
    app.config.from_prefixed_env()      # MICROASGI_SECRET_KEY=... and friends
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import types
from collections.abc import Callable, Mapping, MutableMapping
from datetime import timedelta
from typing import IO, Any, Generic, Protocol, TypeVar, overload

# Flask's config module has Werkzeug's import_string; ours resolves names itself
# (`_import_string`), with messages that say what is missing.
from werkzeug.utils import import_string as import_string

__all__ = ["DEFAULT_CONFIG", "Config", "ConfigAttribute"]

T = TypeVar("T")

DEFAULT_CONFIG: dict[str, Any] = {
    "DEBUG": False,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "USE_X_SENDFILE": False,
    "TRUSTED_HOSTS": None,
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_SAMESITE": None,
    "SESSION_REFRESH_EACH_REQUEST": True,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
    # Most fields in one query string (400 past it): parsing is linear, but unbounded.
    "MAX_QUERY_FIELDS": 1_000,
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "TRAP_HTTP_EXCEPTIONS": False,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "PREFERRED_URL_SCHEME": "http",
    "TEMPLATES_AUTO_RELOAD": None,
    "MAX_COOKIE_SIZE": 4093,
    "PROVIDE_AUTOMATIC_OPTIONS": True,
    # Typed views' return values: "trust" (validate unless already the declared type),
    # "always" (every value, for tests) or "off"; a route's response_validation= wins.
    "RESPONSE_VALIDATION": "trust",
    # The API docs pages (microasgi.docs_pages), served offline from a pinned package:
    # Swagger UI at DOCS_URL, ReDoc at REDOC_URL; None turns a page off.
    "DOCS_URL": "/docs",
    "REDOC_URL": "/redoc",
    # The API spec (app.openapi()): served at OPENAPI_URL (None: not served); its
    # info.title (None: the app's name), info.version and info.description, named
    # as Flask-smorest names them.
    "OPENAPI_URL": "/openapi.json",
    "API_TITLE": None,
    "API_VERSION": "0.1.0",
    "API_DESCRIPTION": None,
    # Bytes of a request body kept in memory before it spools to a temporary file.
    "BODY_MEMORY_LIMIT": 1024 * 1024,
    # Worker threads available to sync views and hooks (a WSGIApp has its own).
    "SYNC_THREAD_LIMIT": 40,
    # Requests that may wait for one of those threads; past it, 503 with Retry-After.
    "SYNC_QUEUE_LIMIT": None,
    # Freeze startup objects, collect young ones less often and watch memory once
    # serving starts (see microasgi.memory): None does it where microasgi owns the
    # process (`microasgi run`), True under any server, False never.
    "GC_TUNING": None,
}
"""microasgi's default settings; each app starts from a copy of this dict."""

# A missing file, a directory, or a path through a non-directory all mean
# "there is no config file here", which ``silent=True`` is meant to tolerate.
_MISSING_FILE_ERRNOS = frozenset({errno.ENOENT, errno.EISDIR, errno.ENOTDIR})


class _HasConfig(Protocol):
    @property
    def config(self) -> MutableMapping[str, Any]: ...


class ConfigAttribute(Generic[T]):
    """Expose one config key as an attribute of an object that has ``.config``.

    ``debug = ConfigAttribute[bool]("DEBUG")`` on a class makes ``obj.debug``
    read and ``obj.debug = True`` write ``obj.config["DEBUG"]``.
    ``get_converter`` is applied to the stored value on every read.
    """

    def __init__(self, name: str, get_converter: Callable[[Any], T] | None = None) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> ConfigAttribute[T]: ...

    @overload
    def __get__(self, obj: _HasConfig, owner: type | None = None) -> T: ...

    def __get__(self, obj: _HasConfig | None, owner: type | None = None) -> T | ConfigAttribute[T]:
        if obj is None:
            return self
        value = obj.config[self.__name__]
        if self.get_converter is not None:
            return self.get_converter(value)
        return value  # type: ignore[no-any-return]  # config values are untyped

    # ``Any``, not ``T``: a converter exists precisely because what may be
    # stored (an int of seconds) can differ from what is read (a timedelta).
    def __set__(self, obj: _HasConfig, value: Any) -> None:
        obj.config[self.__name__] = value


class Config(dict[str, Any]):
    """A ``dict`` of settings with Flask's loaders.

    Relative file names given to the loaders are resolved against
    ``root_path`` (the app's root, or its instance folder when the app is
    created with ``instance_relative_config=True``).
    """

    def __init__(
        self, root_path: str | os.PathLike[str], defaults: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(defaults or {})
        self.root_path = root_path

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the Python config file named by the environment variable.

        Returns ``False`` if the variable is unset (or the file missing) and
        ``silent`` is true; raises ``RuntimeError`` if it is unset otherwise.
        """
        filename = os.environ.get(variable_name)
        if not filename:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set, so no configuration"
                " could be loaded from it. Set it to the path of a configuration file, or"
                " pass silent=True to ignore a missing variable."
            )
        return self.from_pyfile(filename, silent=silent)

    def from_prefixed_env(
        self, prefix: str = "MICROASGI", *, loads: Callable[[str], Any] = json.loads
    ) -> bool:
        """Load every environment variable that starts with ``PREFIX_``.

        The prefix is stripped from the key. Each value is parsed with
        ``loads`` (JSON by default, so ``1``, ``true`` and ``{"a": 1}`` become
        Python values) and kept as the raw string if that fails. A double
        underscore sets a nested key: ``MICROASGI_DB__HOST=x`` sets
        ``config["DB"]["HOST"]``, creating the ``DB`` dict if needed. Variables
        are applied in sorted order. Always returns ``True``.
        """
        prefix = f"{prefix}_"
        for env_key in sorted(os.environ):
            if not env_key.startswith(prefix):
                continue
            raw = os.environ[env_key]
            value: Any
            try:
                value = loads(raw)
            except Exception:
                # Any parse failure means "not encoded": keep the text as given.
                value = raw
            *parents, leaf = env_key[len(prefix) :].split("__")
            target: MutableMapping[str, Any] = self
            for part in parents:
                child = target.setdefault(part, {})
                if not isinstance(child, MutableMapping):
                    raise TypeError(
                        f"Cannot apply {env_key}: config key {part!r} holds a"
                        f" {type(child).__name__}, not a dict. Rename the variable or"
                        " remove the existing value first."
                    )
                target = child
            target[leaf] = value
        return True

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Execute a Python file as a module and load its UPPERCASE names.

        Returns ``True`` on success, ``False`` if the file is missing and
        ``silent`` is true. ``OSError`` messages are prefixed with
        ``"Unable to load configuration file"``.
        """
        path = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = path
        try:
            with open(path, "rb") as fp:
                source = fp.read()
        except OSError as exc:
            if silent and exc.errno in _MISSING_FILE_ERRNOS:
                return False
            exc.strerror = f"Unable to load configuration file ({exc.strerror})"
            raise
        # Compiling with the real path makes tracebacks point into the file.
        exec(compile(source, path, "exec"), module.__dict__)
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Load the UPPERCASE attributes of a module, class or instance.

        A string is imported first: ``"pkg.settings"``, ``"pkg.settings:Prod"``
        or ``"pkg.settings.Prod"``.
        """
        if isinstance(obj, str):
            obj = _import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: Callable[[IO[Any]], Mapping[str, Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load the UPPERCASE keys of the mapping ``load(file)`` returns.

        ``app.config.from_file("config.toml", load=tomllib.load, text=False)``.
        The file is opened in text mode unless ``text`` is false. Returns
        ``False`` if the file is missing and ``silent`` is true.
        """
        path = os.path.join(self.root_path, filename)
        try:
            with open(path, "r" if text else "rb") as fp:
                data = load(fp)
        except OSError as exc:
            if silent and exc.errno in _MISSING_FILE_ERRNOS:
                return False
            exc.strerror = f"Unable to load configuration file ({exc.strerror})"
            raise
        return self.from_mapping(data)

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        """Load the UPPERCASE keys of ``mapping`` and ``kwargs`` (kwargs win).

        Always returns ``True``.
        """
        merged: dict[str, Any] = {}
        if mapping is not None:
            merged.update(mapping)
        merged.update(kwargs)
        for key, value in merged.items():
            if key.isupper():
                self[key] = value
        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, Any]:
        """Return the settings whose keys start with ``namespace``.

        ``config.get_namespace("IMAGE_STORE_")`` turns ``IMAGE_STORE_PATH`` into
        ``{"path": ...}``; ``trim_namespace=False`` keeps the prefix and
        ``lowercase=False`` keeps the case.
        """
        found: dict[str, Any] = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            name = key[len(namespace) :] if trim_namespace else key
            found[name.lower() if lowercase else name] = value
        return found

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


def _import_string(import_name: str) -> Any:
    """Import ``"pkg.mod:attr.sub"``, ``"pkg.mod.attr"`` or ``"pkg.mod"``."""
    module_name, colon, attr_path = import_name.partition(":")
    if not colon:
        try:
            return importlib.import_module(import_name)
        except ModuleNotFoundError as exc:
            # Only "this very name is not a module" means "try it as an
            # attribute"; a missing import inside the module must surface.
            if exc.name != import_name or "." not in import_name:
                raise
        module_name, _, attr_path = import_name.rpartition(".")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ImportError(
                f"Cannot import {import_name!r}: module {module_name!r} has no"
                f" attribute {attr_path!r}."
            ) from None
    return obj
