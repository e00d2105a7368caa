"""Response headers as ASGI sends them, checked as they are set.

Request-side containers (``request.args``, ``form``, ``files``, ``headers``,
``cookies``, the Accept classes) are Werkzeug's, as in Flask.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from starlette.datastructures import MutableHeaders as _StarletteMutableHeaders

T = TypeVar("T")
_V = TypeVar("_V")


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

    def remove(self, key: str) -> None:
        """Delete every ``key`` header, if any."""
        if key in self:
            del self[key]
