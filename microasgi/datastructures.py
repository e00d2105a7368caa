"""Response headers as ASGI sends them, checked as they are set.

Request-side containers (``request.args``, ``form``, ``files``, ``headers``,
``cookies``, the Accept classes) are Werkzeug's, as in Flask.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import Headers

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


class ResponseHeaders(Headers):
    """Werkzeug's ``Headers``, for a response: what is set is checked at once.

    A name that is not a token, or a value with a control character other
    than tab, raises ``ValueError`` where it is set, so it is never sent.
    """

    def add(self, key: str, value: Any, /, **kwargs: Any) -> None:
        """Append a header, keeping others of the same name (``Set-Cookie``)."""
        _check(key, value, kwargs)
        super().add(key, value, **kwargs)

    def set(self, key: str, value: Any, /, **kwargs: Any) -> None:
        """Replace every ``key`` header with one ``value``."""
        _check(key, value, kwargs)
        super().set(key, value, **kwargs)


def _check(key: str, value: Any, params: dict[str, Any]) -> None:
    # Parameters are quoted into the value, which leaves a control character in.
    _check_header(key, str(value))
    for param in params.values():
        if param is not None:
            _check_header(key, str(param))
