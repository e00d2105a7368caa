"""URL converters: the ``int`` in ``/users/<int:user_id>``.

A converter owns a regular expression for the part of the path it accepts, turns
the matched text into a Python value (``to_python``) and a value back into URL
text (``to_url``). Their names and arguments are Werkzeug's, so Flask rules
port unchanged. A custom converter is a subclass, registered before any rule
uses it::

    class ListConverter(BaseConverter):
        def to_python(self, value: str) -> list[str]:
            return value.split(",")

        def to_url(self, value: list[str]) -> str:
            return ",".join(BaseConverter.to_url(self, v) for v in value)

    app.url_map.converters["list"] = ListConverter   # then: "/tags/<list:tags>"
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

__all__ = [
    "DEFAULT_CONVERTERS",
    "AnyConverter",
    "BaseConverter",
    "FloatConverter",
    "IntegerConverter",
    "NumberConverter",
    "PathConverter",
    "UUIDConverter",
    "UnicodeConverter",
    "ValidationError",
]

# What a path segment may hold unquoted (the WHATWG path-segment set minus "/").
_SEGMENT_SAFE = "!$&'()*+,;=:@"
_PATH_SAFE = _SEGMENT_SAFE + "/"


#: What a segment reader returns for text its converter does not accept.
NO_MATCH: Any = object()


def _whole_segment(part: str) -> Any:
    return part or NO_MATCH


def _ascii_int(part: str) -> Any:
    # The "[0-9]+" regex, without the regex: "²".isdigit() too, hence isascii.
    if not (part.isdigit() and part.isascii()):
        return NO_MATCH
    try:
        return int(part)
    except ValueError:  # more than sys.get_int_max_str_digits() digits
        return NO_MATCH


class ValidationError(ValueError):
    """Raised by ``to_python`` to say "this rule does not match; try the others".

    Raised by ``to_url``, it makes the rule unsuitable for building that URL.
    """


class BaseConverter:
    """One variable of a rule: ``regex`` to match, ``to_python``/``to_url`` to convert.

    ``weight`` orders variables competing for the same segment (lower is tried
    first); ``part_isolating`` is false for converters whose text may span
    several segments (their regex can match ``/``).
    """

    regex: str = "[^/]+"
    weight: int = 100
    part_isolating: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass with its own regex spans segments if that regex can match "/";
        # "[^/]" only excludes it, so it does not count.
        if "regex" in cls.__dict__ and "part_isolating" not in cls.__dict__:
            cls.part_isolating = "/" not in cls.regex.replace("[^/]", "")

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        self.map = map

    def to_python(self, value: str) -> Any:
        """The Python value for the matched (already percent-decoded) text."""
        return value

    def _segment_reader(self) -> Callable[[str], Any]:
        """For a variable alone in its segment: ``read(segment)`` is its value, or NO_MATCH.

        The router's hot path: one call does the regex and ``to_python``, and a
        mismatch is a return value, not an exception. Raises ``re.error`` for a
        bad regex.
        """
        to_python = self.to_python
        if self.regex == BaseConverter.regex:
            if type(self).to_python is BaseConverter.to_python:
                return _whole_segment
            match: Callable[[str], Any] = bool
        else:
            match = re.compile(f"(?:{self.regex})", re.DOTALL).fullmatch

        def read(part: str) -> Any:
            if not match(part):
                return NO_MATCH
            try:
                return to_python(part)
            except ValueError:  # ValidationError: "not this rule"
                return NO_MATCH

        return read

    def to_url(self, value: Any) -> str:
        """The percent-quoted URL text for ``value`` (``/`` is quoted too)."""
        return quote(str(value), safe=_SEGMENT_SAFE)


class UnicodeConverter(BaseConverter):
    """``<name>`` or ``<string(minlength=1, maxlength=None, length=None):name>``: one segment."""

    def __init__(
        self,
        map: Any,
        minlength: int = 1,
        maxlength: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(map)
        if length is not None:
            self.regex = f"[^/]{{{int(length)}}}"
        elif minlength != 1 or maxlength is not None:
            upper = "" if maxlength is None else str(int(maxlength))
            self.regex = f"[^/]{{{int(minlength)},{upper}}}"


class AnyConverter(BaseConverter):
    """``<any(about, help):page>``: exactly one of the given words."""

    def __init__(self, map: Any, *items: Any) -> None:
        super().__init__(map)
        if not items:
            raise TypeError("any() needs at least one choice, as in <any(about, help):page>")
        self.items = tuple(str(item) for item in items)
        self.regex = "(?:" + "|".join(re.escape(item) for item in self.items) + ")"

    def to_python(self, value: str) -> str:
        if value not in self.items:
            raise ValidationError(value)
        return value

    def to_url(self, value: Any) -> str:
        text = str(value)
        if text not in self.items:
            raise ValidationError(f"{text!r} is not one of {list(self.items)}")
        return quote(text, safe=_SEGMENT_SAFE)


class PathConverter(BaseConverter):
    """``<path:name>``: one or more segments, slashes included; tried after all others."""

    regex = "[^/].*?"
    weight = 200
    part_isolating = False

    def to_url(self, value: Any) -> str:
        return quote(str(value), safe=_PATH_SAFE)


class NumberConverter(BaseConverter):
    """Shared checks of ``int`` and ``float``: ``fixed_digits``, ``min``, ``max``, ``signed``."""

    regex = "[0-9]+"  # ASCII digits only: to_url never writes other scripts' digits
    weight = 50
    num_convert: Callable[[str], int | float] = int

    def __init__(
        self,
        map: Any,
        fixed_digits: int = 0,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map)
        self.fixed_digits = fixed_digits
        self.min = min
        self.max = max
        self.signed = signed
        if signed:
            self.regex = f"-?{type(self).regex}"

    def to_python(self, value: str) -> Any:
        if self.fixed_digits and len(value) != self.fixed_digits:
            raise ValidationError(value)
        number = self.num_convert(value)
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise ValidationError(value)
        return number

    def check_sign(self, number: float) -> None:
        """Refuse to build a negative number that this unsigned rule would never match."""
        if number < 0 and not self.signed:
            raise ValidationError(f"{number!r} is negative but the converter is not signed")


class IntegerConverter(NumberConverter):
    """``<int:n>``, ``<int(fixed_digits=4, min=1, max=None, signed=False):n>``."""

    def to_url(self, value: Any) -> str:
        number = int(value)
        self.check_sign(number)
        text = str(number)
        return text.zfill(self.fixed_digits) if self.fixed_digits else text

    def _segment_reader(self) -> Callable[[str], Any]:
        plain = (
            type(self).to_python is NumberConverter.to_python
            and self.regex == IntegerConverter.regex
            and not self.fixed_digits
            and self.min is None
            and self.max is None
        )
        return _ascii_int if plain else super()._segment_reader()


class FloatConverter(NumberConverter):
    """``<float:x>``, ``<float(min=0.0, max=None, signed=False):x>``; the URL needs a dot."""

    regex = r"[0-9]+\.[0-9]+"
    num_convert = float

    def __init__(
        self,
        map: Any,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, min=min, max=max, signed=signed)

    def to_url(self, value: Any) -> str:
        number = float(value)
        if not math.isfinite(number):
            raise ValidationError(f"{number!r} cannot appear in a URL")
        self.check_sign(number)
        # Decimal spells repr()'s shortest digits without an exponent (1e-05 -> 0.00001).
        text = format(Decimal(repr(number)), "f")
        return text if "." in text else text + ".0"


class UUIDConverter(BaseConverter):
    """``<uuid:id>``: a hyphenated UUID, given to the view as :class:`uuid.UUID`."""

    regex = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


#: Converter name -> class; each :class:`~microasgi.routing.Map` starts from a copy.
DEFAULT_CONVERTERS: dict[str, type[BaseConverter]] = {
    "default": UnicodeConverter,
    "string": UnicodeConverter,
    "any": AnyConverter,
    "path": PathConverter,
    "int": IntegerConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
}
