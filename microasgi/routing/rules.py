"""Rules: Flask's rule syntax parsed once, and the URL a rule builds.

``Rule("/users/<int:user_id>", endpoint="users.show")`` splits its text into
segments of static text and variables (``<converter(args):name>``); a
:class:`~microasgi.routing.Map` resolves the converters when the rule is added,
and compiles how the rule is matched (steps of the segment tree, see
:mod:`.matcher`) and built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from .converters import BaseConverter
from .matcher import _Step

if TYPE_CHECKING:
    from .map import Map

__all__ = ["Rule"]

# Static rule text and redirect targets keep "/"; both are percent-quoted otherwise.
_PATH_SAFE = "!$&'()*+,/:;=@"
_QUERY_SAFE = "!$'()*,/:;?@"
_NO_DEFAULTS: Mapping[str, Any] = MappingProxyType({})

_VARIABLE_RE = re.compile(
    r"""
    <\s*
    (?:
        (?P<converter>[A-Za-z_]\w*)\s*
        (?:\((?P<args>(?:[^()"']|"[^"]*"|'[^']*')*)\)\s*)?
        :\s*
    )?
    (?P<name>[A-Za-z_]\w*)\s*
    >
    """,
    re.VERBOSE,
)
_ARGUMENT_RE = re.compile(
    r"""\s*(?:(?P<key>[A-Za-z_]\w*)\s*=\s*)?(?P<value>"[^"]*"|'[^']*'|[^,"'\s]+)\s*(?:,|\Z)"""
)

_KEYWORDS = {"True": True, "False": False, "None": None}


class _Variable:
    """``<converter(args):name>`` as written in a rule, before a map resolves it."""

    __slots__ = ("args", "converter", "kwargs", "name", "signature")

    def __init__(self, rule: str, name: str, converter: str, arguments: str | None) -> None:
        self.name = name
        self.converter = converter
        self.args, self.kwargs = _parse_arguments(rule, arguments or "")
        self.signature = f"{converter}{self.args!r}{sorted(self.kwargs.items())!r}"

    def resolve(self, rule: str, urls: Map) -> BaseConverter:
        cls = urls.converters.get(self.converter)
        if cls is None:
            known = ", ".join(sorted(urls.converters))
            raise ValueError(
                f"URL rule {rule!r} uses the unknown converter {self.converter!r} (known: "
                f"{known}). Register it first: map.converters[{self.converter!r}] = MyConverter."
            )
        try:
            return cls(urls, *self.args, **self.kwargs)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"URL rule {rule!r} gives bad arguments to converter {self.converter!r}: {exc}"
            ) from exc


_Segment = tuple["str | _Variable", ...]


def _parse_arguments(rule: str, text: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Converter arguments as Werkzeug reads them: numbers, True/False/None, strings.

    Strings may be quoted (needed for commas or spaces) or bare words.
    """
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    text = text.strip()
    pos = 0
    while pos < len(text):
        found = _ARGUMENT_RE.match(text, pos)
        if found is None:
            raise ValueError(
                f"URL rule {rule!r} has unreadable converter arguments {text!r} near "
                f"{text[pos:]!r}; write them like Python: <int(min=1, signed=True):x>."
            )
        value = _argument_value(found["value"])
        key = found["key"]
        if key is None and kwargs:
            raise ValueError(
                f"URL rule {rule!r}: positional converter argument {found['value']!r} "
                "comes after a keyword argument."
            )
        if key is None:
            args.append(value)
        elif key in kwargs:
            raise ValueError(f"URL rule {rule!r} repeats converter argument {key!r}.")
        else:
            kwargs[key] = value
        pos = found.end()
    return tuple(args), kwargs


def _argument_value(text: str) -> Any:
    if text[0] in "\"'":
        return text[1:-1]  # raw, as Werkzeug: a regex argument keeps its backslashes
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _parse_rule(rule: str) -> tuple[_Segment, ...]:
    """Split ``rule`` on ``/`` into segments of static text and variables."""
    if not rule.startswith("/"):
        raise ValueError(f"URL rule {rule!r} must start with '/', as in '/{rule}'.")
    segments: list[list[str | _Variable]] = [[]]
    names: set[str] = set()
    pos = 1
    for found in [*_VARIABLE_RE.finditer(rule, 1), None]:
        text = rule[pos : len(rule) if found is None else found.start()]
        if "<" in text or ">" in text:
            raise ValueError(
                f"URL rule {rule!r} has a malformed variable in {text!r}; write <name> "
                "or <converter:name>, as in '/users/<int:user_id>'."
            )
        for index, chunk in enumerate(text.split("/")):
            if index:
                segments.append([])
            if chunk:
                segments[-1].append(chunk)
        if found is None:
            break
        name = found["name"]
        if name in names:
            raise ValueError(f"URL rule {rule!r} uses the variable name {name!r} twice.")
        names.add(name)
        converter = found["converter"] or "default"
        segments[-1].append(_Variable(rule, name, converter, found["args"]))
        pos = found.end()
    return tuple(tuple(segment) for segment in segments)


class Rule:
    """A URL pattern in Flask syntax and the endpoint it leads to.

    ``methods`` become an uppercase frozenset (default ``{"GET"}``), with HEAD
    added when GET is present and OPTIONS when ``provide_automatic_options``. A
    ``websocket`` rule only answers websocket requests and its methods are
    ``{"GET"}``. ``plan`` is free for the application; the router never reads it.
    """

    __slots__ = (
        "_build_parts",
        "_canonical",
        "_known",
        "_map",
        "_names",
        "_required",
        "_segments",
        "_steps",
        "arguments",
        "defaults",
        "endpoint",
        "methods",
        "plan",
        "provide_automatic_options",
        "rule",
        "strict_slashes",
        "websocket",
    )

    def __init__(
        self,
        rule: str,
        *,
        endpoint: str,
        methods: Iterable[str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        strict_slashes: bool | None = None,
        provide_automatic_options: bool = True,
        websocket: bool = False,
    ) -> None:
        self.rule = rule
        self.endpoint = endpoint
        self.defaults: dict[str, Any] | None = dict(defaults) if defaults else None
        self.strict_slashes = strict_slashes
        self.provide_automatic_options = provide_automatic_options
        self.websocket = websocket
        self.plan: Any = None
        self.methods = self._methods(methods)
        self._segments = _parse_rule(rule)
        self._names = tuple(
            item.name
            for segment in self._segments
            for item in segment
            if isinstance(item, _Variable)
        )
        self.arguments = frozenset(self._names)
        self._known = self.arguments | frozenset(self.defaults or ())
        self._required = self.arguments - frozenset(self.defaults or ())
        self._map: Map | None = None
        self._steps: tuple[str | _Step, ...] = ()
        self._build_parts: tuple[str | tuple[str, BaseConverter], ...] = ()
        # Earlier rules of the endpoint whose defaults make them the canonical URL.
        self._canonical: tuple[Rule, ...] = ()

    def _methods(self, methods: Iterable[str] | None) -> frozenset[str]:
        if isinstance(methods, str):
            raise TypeError(
                f"URL rule {self.rule!r}: methods must be a list of strings, such as "
                f"methods=[{methods!r}], not a string."
            )
        chosen = {"GET"} if methods is None else {method.upper() for method in methods}
        if not chosen:
            raise ValueError(f"URL rule {self.rule!r} has no methods; leave methods out for GET.")
        if self.websocket:
            if chosen - {"GET", "HEAD", "OPTIONS"}:
                raise ValueError(
                    f"Websocket rule {self.rule!r} cannot take methods {sorted(chosen)}; "
                    "a websocket handshake is always GET."
                )
            return frozenset({"GET"})
        if "GET" in chosen:
            chosen.add("HEAD")
        if self.provide_automatic_options:
            chosen.add("OPTIONS")
        return frozenset(chosen)

    def _bind(self, urls: Map) -> None:
        """Resolve converters through ``urls`` and precompile matching and building."""
        converters = {
            item.name: item.resolve(self.rule, urls)
            for segment in self._segments
            for item in segment
            if isinstance(item, _Variable)
        }
        steps: list[str | _Step] = []
        for index, segment in enumerate(self._segments):
            used = [converters[item.name] for item in segment if isinstance(item, _Variable)]
            if not used:
                steps.append("".join(item for item in segment if isinstance(item, str)))
            elif all(converter.part_isolating for converter in used):
                steps.append(_Step(self.rule, [segment], converters))
            else:  # one step takes this segment and all that follow
                rest = list(self._segments[index:])
                # A final "/" stays a tree step of its own, for the strict-slash logic.
                trailing = len(rest) > 1 and not rest[-1]
                steps.append(_Step(self.rule, rest[:-1] if trailing else rest, converters))
                if trailing:
                    steps.append("")
                break
        parts: list[str | tuple[str, BaseConverter]] = []
        text = ""
        for segment in self._segments:
            text += "/"
            for item in segment:
                if isinstance(item, str):
                    text += quote(item, safe=_PATH_SAFE)
                else:
                    if text:
                        parts.append(text)
                    parts.append((item.name, converters[item.name]))
                    text = ""
        if text:
            parts.append(text)
        self._steps = tuple(steps)
        self._build_parts = tuple(parts)
        if self.strict_slashes is None:
            self.strict_slashes = urls.strict_slashes
        self._map = urls

    def _build(self, values: Mapping[str, Any], append_unknown: bool) -> str | None:
        """This rule's URL for ``values``, or None when the rule does not suit them."""
        defaults = self.defaults or _NO_DEFAULTS
        for name in self._required:
            if name not in values:
                return None
        for key, default in defaults.items():
            if key in values and values[key] != default:
                return None
        pieces: list[str] = []
        try:
            for part in self._build_parts:
                if isinstance(part, str):
                    pieces.append(part)
                else:
                    name, converter = part
                    value = values[name] if name in values else defaults[name]
                    pieces.append(converter.to_url(value))
        except ValueError:
            return None
        url = "".join(pieces)
        if append_unknown and not self._known.issuperset(values):
            query = _encode_query((k, v) for k, v in values.items() if k not in self._known)
            if query:
                url += "?" + query
        return url

    def _why_not(self, values: Mapping[str, Any]) -> str:
        """Why :meth:`_build` refuses ``values``, said so that the caller can fix it."""
        missing = sorted(self._required - values.keys())
        if missing:
            return f"Did you forget to specify values {missing}?"
        defaults = self.defaults or _NO_DEFAULTS
        clash = {k: v for k, v in defaults.items() if k in values and values[k] != v}
        if clash:
            return f"Rule {self.rule!r} has defaults {clash}; leave those values out."
        for part in self._build_parts:
            if not isinstance(part, str):
                name, converter = part
                value = values[name] if name in values else defaults[name]
                try:
                    converter.to_url(value)
                except ValueError as exc:
                    return (
                        f"The {type(converter).__name__} of rule {self.rule!r} "
                        f"refuses {name}={value!r}: {exc}"
                    )
        return f"Rule {self.rule!r} refuses these values."

    def __repr__(self) -> str:
        kind = "websocket" if self.websocket else ", ".join(sorted(self.methods))
        return f"<Rule {self.rule!r} ({kind}) -> {self.endpoint}>"


def _encode_query(items: Iterable[tuple[str, Any]]) -> str:
    pairs: list[tuple[str, Any]] = []
    for key, value in items:
        if isinstance(value, (list, tuple)):
            pairs.extend((key, v) for v in value if v is not None)
        else:
            pairs.append((key, value))
    return urlencode(pairs, safe=_QUERY_SAFE)
