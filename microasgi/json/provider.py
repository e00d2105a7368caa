"""The app's pluggable JSON provider (``app.json``), as Flask's ``json.provider``.

The default one uses the standard library with Flask's settings. To plug in a
faster library, subclass :class:`JSONProvider`, implement ``dumps`` and
``loads``, and set ``app.json = MyProvider(app)`` (or
``MicroASGI.json_provider_class``).
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import json
import uuid
from collections.abc import Callable
from datetime import date
from typing import IO, Any

from werkzeug.http import http_date
from werkzeug.sansio.response import Response
from werkzeug.utils import get_content_type

__all__ = ["DefaultJSONProvider", "JSONProvider"]


def _default(obj: Any) -> Any:
    """Serialise the types Flask's JSON provider supports beyond plain JSON."""
    if isinstance(obj, date):
        return http_date(obj)  # a naive datetime is UTC, as in Flask
    if isinstance(obj, (decimal.Decimal, uuid.UUID)):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if hasattr(obj, "__html__"):
        return str(obj.__html__())
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


class JSONProvider:
    """The interface ``app.json`` offers; subclass it to change JSON handling.

    A subclass must implement :meth:`dumps` and :meth:`loads`; ``dump``,
    ``load`` and ``response`` are built on them.
    """

    def __init__(self, app: Any) -> None:
        # A plain reference: the app owns its provider for its whole life,
        # and a weak proxy would cost an indirection on every response.
        self._app: Any = app

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise ``obj`` to a JSON string."""
        raise NotImplementedError

    def dump(self, obj: Any, fp: IO[str], **kwargs: Any) -> None:
        """Serialise ``obj`` as JSON into the text file ``fp``."""
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse a JSON document from ``s``."""
        raise NotImplementedError

    def load(self, fp: IO[Any], **kwargs: Any) -> Any:
        """Parse a JSON document from the file ``fp`` (text or binary)."""
        return self.loads(fp.read(), **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Return an ``app.response_class`` with the arguments as a JSON body.

        One positional argument is serialised as is, several as a list,
        keyword arguments as a dict, and no arguments as ``null``. Passing both
        positional and keyword arguments raises ``TypeError``.
        """
        body = self.dumps(_response_obj(args, kwargs))
        return self._app.response_class(f"{body}\n", mimetype="application/json")  # type: ignore[no-any-return]


def _response_obj(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if args and kwargs:
        raise TypeError("app.json.response() takes either args or kwargs, not both")
    if len(args) == 1:
        return args[0]
    if args:
        return list(args)
    return kwargs or None


# Encoder options per output layout: "plain" is what ``dumps()`` produces with
# no arguments; responses are "compact" or, in debug mode, "pretty".
_LAYOUTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "compact": {"separators": (",", ":")},
    "pretty": {"indent": 2},
}


class DefaultJSONProvider(JSONProvider):
    """JSON through the standard library, with Flask's defaults.

    Beyond plain JSON types it serialises dates and datetimes (as HTTP dates,
    naive ones taken as UTC), ``Decimal`` and ``UUID`` (as strings),
    dataclasses (as dicts) and objects with ``__html__`` (as their markup).
    Change behaviour per app through the attributes, e.g.
    ``app.json.sort_keys = False``.
    """

    default: Callable[[Any], Any] = staticmethod(_default)
    """Called for objects the encoder cannot serialise itself."""

    ensure_ascii = True
    """Escape non-ASCII characters as ``\\uXXXX``."""

    sort_keys = True
    """Sort the keys of every object in the output."""

    compact: bool | None = None
    """Response layout: ``True`` compact, ``False`` indented, ``None`` compact
    unless ``app.debug`` is true."""

    mimetype = "application/json"
    """The mimetype of :meth:`response`'s responses."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        # Built encoders keyed by layout, each with the settings it was built
        # from: settings may change at any time, and constructing a
        # JSONEncoder per call (as json.dumps with options does) is slow.
        self._encoders: dict[str, tuple[tuple[Any, ...], json.JSONEncoder]] = {}

    def _encoder(self, layout: str) -> json.JSONEncoder:
        settings = (self.ensure_ascii, self.sort_keys, self.default)
        cached = self._encoders.get(layout)
        if cached is not None and cached[0] == settings:
            return cached[1]
        encoder = json.JSONEncoder(
            ensure_ascii=self.ensure_ascii,
            sort_keys=self.sort_keys,
            default=self.default,
            **_LAYOUTS[layout],
        )
        self._encoders[layout] = (settings, encoder)
        return encoder

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise ``obj``; keyword arguments go to :func:`json.dumps`.

        The provider's ``default``, ``ensure_ascii`` and ``sort_keys`` apply
        unless overridden by the keyword arguments.
        """
        if not kwargs:
            return self._encoder("plain").encode(obj)
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON from ``s``; keyword arguments go to :func:`json.loads`."""
        return json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Return an ``app.response_class`` with the arguments as a JSON body.

        Arguments as in :meth:`JSONProvider.response`. The body is compact, or
        indented by 2 when ``compact`` is false (or ``None`` and the app is in
        debug mode), and ends with a newline.
        """
        obj = args[0] if len(args) == 1 and not kwargs else _response_obj(args, kwargs)
        compact = self.compact
        if compact is None:
            compact = not self._app.debug
        layout = "compact" if compact else "pretty"
        if type(self).dumps is DefaultJSONProvider.dumps:
            body = self._encoder(layout).encode(obj)
        else:
            # A subclass that customises dumps must see every serialisation.
            body = self.dumps(obj, **_LAYOUTS[layout])
        response_class: type[Any] = self._app.response_class
        if hasattr(response_class, "_ready"):  # microasgi's Response: skip the argument parsing
            content_type = _content_type_bytes(self.mimetype)
            return response_class._ready(f"{body}\n".encode(), content_type)  # type: ignore[no-any-return]
        return response_class(f"{body}\n", mimetype=self.mimetype)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=16)
def _content_type_bytes(mimetype: str) -> bytes:
    return get_content_type(mimetype, "utf-8").encode("latin-1")
