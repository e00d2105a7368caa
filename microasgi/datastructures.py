"""Flask-flavoured containers over Starlette's: multi-dicts, headers, uploads, Accept.

Starlette's datastructures do the storage; these subclasses add the Flask
behaviour ported code relies on: ``get(key, default, type=)``, the *first* value
winning for repeated keys, and a 400 (not a 500) for a missing key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from typing import Any, TypeVar, overload

from starlette.datastructures import Headers as _StarletteHeaders
from starlette.datastructures import ImmutableMultiDict
from starlette.datastructures import MutableHeaders as _StarletteMutableHeaders

from .exceptions import BadRequestKeyError

T = TypeVar("T")
_V = TypeVar("_V")


class MultiDict(ImmutableMultiDict[str, _V]):
    """An immutable multi-dict as Flask's ``request.args``/``request.form``.

    ``d["k"]`` and ``d.get("k")`` give the first value; ``d.getlist("k")`` all of
    them; ``d.get("page", 1, type=int)`` converts, falling back to the default
    when conversion fails. A missing key with ``d["k"]`` is a 400 Bad Request.
    """

    def __init__(self, items: Iterable[tuple[str, _V]] | Mapping[str, _V] = ()) -> None:
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        first: dict[str, _V] = {}
        for key, value in pairs:
            first.setdefault(key, value)
        self._list = pairs
        self._dict = first

    def __getitem__(self, key: str) -> _V:
        try:
            return self._dict[key]
        except KeyError:
            raise BadRequestKeyError(key) from None

    @overload
    def get(self, key: str) -> _V | None: ...
    @overload
    def get(self, key: str, default: _V | T) -> _V | T: ...
    @overload
    def get(self, key: str, default: T | None = None, *, type: Callable[[_V], T]) -> T | None: ...

    def get(self, key: str, default: Any = None, type: Callable[[Any], Any] | None = None) -> Any:
        """The first value for ``key``, converted by ``type`` if given, else ``default``."""
        try:
            value = self._dict[key]
        except KeyError:
            return default
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str, type: Callable[[_V], Any] | None = None) -> list[Any]:
        """Every value for ``key``; with ``type``, the ones that convert."""
        values = [v for k, v in self._list if k == key]
        if type is None:
            return values
        converted = []
        for value in values:
            with suppress(ValueError, TypeError):
                converted.append(type(value))
        return converted

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        """A plain dict: first values, or lists of all values when ``flat=False``."""
        if flat:
            return dict(self._dict)
        result: dict[str, list[_V]] = {}
        for key, value in self._list:
            result.setdefault(key, []).append(value)
        return result

    def lists(self) -> Iterator[tuple[str, list[_V]]]:
        """``(key, [values])`` pairs, in first-seen order."""
        yield from self.to_dict(flat=False).items()


class CombinedMultiDict(MultiDict[_V]):
    """Several multi-dicts read as one (``request.values``): first dict wins."""

    def __init__(self, dicts: Iterable[ImmutableMultiDict[str, _V]]) -> None:
        super().__init__([item for d in dicts for item in d.multi_items()])


class Headers(_StarletteHeaders):
    """Read-only, case-insensitive request headers with Flask's ``get(type=)``."""

    def __getitem__(self, key: str) -> str:
        try:
            return super().__getitem__(key)
        except KeyError:
            raise BadRequestKeyError(key) from None

    def get(self, key: str, default: Any = None, type: Callable[[str], Any] | None = None) -> Any:
        """The first value of header ``key``, converted by ``type`` if given."""
        lowered = key.lower().encode("latin-1")
        for name, value in self.raw:
            if name == lowered:
                text = value.decode("latin-1")
                if type is None:
                    return text
                try:
                    return type(text)
                except (ValueError, TypeError):
                    return default
        return default


# RFC 9110 5.1 and 5.5: a field name is a token; a field value has no control
# character but tab. CR and LF would let a client-controlled string (a redirect
# target, a cookie) start a new header or response; the rest (VT, DEL, ...) make
# ASGI servers drop the connection without an answer while their log says 200.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NOT_FIELD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _check_header(key: str, value: str) -> None:
    if _NOT_FIELD_VALUE.search(value):
        raise ValueError(
            f"Header {key!r} has a control character in its value {value!r}: only"
            " tab and printable characters may be sent (RFC 9110 5.5)."
        )
    if not _TOKEN.fullmatch(key):
        raise ValueError(f"Header name {key!r} is not a valid token (RFC 9110 5.1).")


#: Header names already checked, as sent (lowercased bytes). Names are nearly
#: always constants in the code, so this stays small; it stops growing at 512.
_HEADER_NAMES: dict[str, bytes] = {}


def header_pair(key: str, value: str) -> tuple[bytes, bytes]:
    """``(name, value)`` as the raw bytes ASGI sends, checked for header injection."""
    name = _HEADER_NAMES.get(key)
    if name is None:
        _check_header(key, "")
        name = key.lower().encode("latin-1")
        if len(_HEADER_NAMES) < 512:
            _HEADER_NAMES[key] = name
    if not value.isprintable():  # the common case skips the search
        _check_header(key, value)
    return name, value.encode("latin-1")


class ResponseHeaders(_StarletteMutableHeaders):
    """Mutable response headers: Flask's ``add``/``set``/``extend`` over a raw list.

    Values are checked: a newline or NUL raises ``ValueError`` and is never sent.
    """

    def __setitem__(self, key: str, value: str) -> None:
        value = str(value)
        _check_header(key, value)
        super().__setitem__(key, value)

    def set(self, key: str, value: Any) -> None:
        """Replace every ``key`` header with one ``value``."""
        self[key] = str(value)

    def add(self, key: str, value: Any, **params: Any) -> None:
        """Append a header, keeping others of the same name (``Set-Cookie``).

        Keyword arguments become parameters: ``add("Content-Disposition",
        "attachment", filename="a.txt")``.
        """
        value = str(value)
        for name, param in params.items():
            if param is None:
                continue
            name = name.replace("_", "-")
            if param is True:
                value += f"; {name}"
            else:
                escaped = str(param).replace("\\", "\\\\").replace('"', '\\"')
                value += f'; {name}="{escaped}"'
        self.raw.append(header_pair(key, value))

    def append(self, key: str, value: str) -> None:
        """Append a header, like :meth:`add` without parameters."""
        self.add(key, value)

    def extend(self, items: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Append several headers."""
        pairs = items.items() if isinstance(items, Mapping) else items
        for key, value in pairs:
            self.add(key, value)

    def update(self, items: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        """Set headers, replacing existing ones of the same name (Flask's ``update``)."""
        pairs = list(items.items() if isinstance(items, Mapping) else items)
        replaced: set[str] = set()
        for key, value in pairs:
            lowered = key.lower()
            values = value if isinstance(value, list | tuple) else [value]
            for item in values:
                if lowered in replaced:
                    self.add(key, item)
                else:
                    self[key] = str(item)
                    replaced.add(lowered)

    def setdefault(self, key: str, value: str) -> str:
        """The first ``key`` header's value, set to ``value`` first if missing."""
        _check_header(key, str(value))
        return super().setdefault(key, str(value))

    def get(self, key: str, default: Any = None, type: Callable[[str], Any] | None = None) -> Any:
        """The first value of header ``key``, converted by ``type`` if given."""
        return Headers.get(self, key, default, type)  # type: ignore[arg-type]

    def remove(self, key: str) -> None:
        """Delete every ``key`` header, if any."""
        if key in self:
            del self[key]


class UserAgent:
    """The ``User-Agent`` header, as Flask's ``request.user_agent`` (Werkzeug's ``UserAgent``).

    ``string`` is the header. ``platform``, ``browser``, ``version`` and
    ``language`` are ``None``, as in Werkzeug since 2.1: set
    ``Request.user_agent_class`` to a subclass that parses the string to fill
    them in (a user-agent library's job, not the framework's).
    """

    platform: str | None = None
    browser: str | None = None
    version: str | None = None
    language: str | None = None

    def __init__(self, string: str) -> None:
        self.string = string

    def to_header(self) -> str:
        """The header value: :attr:`string`."""
        return self.string

    def __str__(self) -> str:
        return self.string

    def __bool__(self) -> bool:
        return bool(self.browser)  # as Werkzeug's: true once a parser found a browser

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.browser!r}/{self.version!r}>"


class MIMEAccept:
    """The parsed ``Accept`` header: ``request.accept_mimetypes``.

    ``"application/json" in accept``, ``accept.quality("text/html")``,
    ``accept.best_match(["text/html", "application/json"])``, ``accept.best``.
    """

    def __init__(self, header: str | None) -> None:
        values: list[tuple[str, float]] = []
        for part in (header or "").split(","):
            fields = part.strip().split(";")
            mime = fields[0].strip().lower()
            if not mime:
                continue
            quality = 1.0
            for param in fields[1:]:
                name, _, raw = param.partition("=")
                if name.strip() == "q":
                    try:
                        quality = max(0.0, min(1.0, float(raw)))
                    except ValueError:
                        quality = 0.0
            values.append((mime, quality))
        values.sort(key=lambda item: (item[1], item[0] != "*/*"), reverse=True)
        self.values = values
        self.provided = header is not None

    @staticmethod
    def _matches(pattern: str, offer: str) -> bool:
        if pattern in ("*", "*/*"):
            return True
        p_type, _, p_sub = pattern.partition("/")
        o_type, _, o_sub = offer.lower().partition("/")
        return p_type == o_type and p_sub in ("*", o_sub)

    def quality(self, offer: str) -> float:
        """How much the client wants ``offer`` (0 when not at all).

        The most specific range that matches decides (RFC 9110): with
        ``text/html;q=0, */*;q=0.8``, HTML is refused.
        """
        if not self.values:
            return 1.0
        best_specificity, quality = -1, 0.0
        for pattern, q in self.values:
            if not self._matches(pattern, offer):
                continue
            specificity = 0 if pattern in ("*", "*/*") else 1 if pattern.endswith("/*") else 2
            if specificity > best_specificity or (specificity == best_specificity and q > quality):
                best_specificity, quality = specificity, q
        return quality

    def __contains__(self, offer: object) -> bool:
        return isinstance(offer, str) and self.quality(offer) > 0

    def best_match(self, offers: Iterable[str], default: str | None = None) -> str | None:
        """The offer the client prefers most, earlier offers winning ties."""
        best, best_quality = default, 0.0
        for offer in offers:
            quality = self.quality(offer)
            if quality > best_quality:
                best, best_quality = offer, quality
        return best

    @property
    def best(self) -> str | None:
        """The client's most preferred type."""
        return self.values[0][0] if self.values else None

    @property
    def accept_html(self) -> bool:
        """Whether the client accepts HTML (``text/html`` or ``application/xhtml+xml``)."""
        return "text/html" in self or "application/xhtml+xml" in self

    @property
    def accept_json(self) -> bool:
        """Whether the client accepts ``application/json``."""
        return "application/json" in self

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return iter(self.values)

    def __bool__(self) -> bool:
        return bool(self.values)
