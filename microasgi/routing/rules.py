"""Rules: Flask's rule syntax parsed once, and the URL a rule builds.

``Rule("/users/<int:user_id>", endpoint="users.show")`` splits its text into
segments of static text and variables (``<converter(args):name>``); a
:class:`~microasgi.routing.Map` resolves the converters when the rule is added,
and compiles how the rule is matched (steps of the segment tree, see
:mod:`.matcher`) and built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
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


def _parse_domain(rule: str, kind: str, pattern: str, taken: Iterable[str]) -> _Segment:
    """A ``subdomain=`` or ``host=`` pattern: static text (lowercased) and variables."""
    items: list[str | _Variable] = []
    names = set(taken)
    pos = 0
    for found in [*_VARIABLE_RE.finditer(pattern), None]:
        text = pattern[pos : len(pattern) if found is None else found.start()]
        if "<" in text or ">" in text or "/" in text:
            raise ValueError(
                f"The {kind} {pattern!r} of URL rule {rule!r} is malformed near {text!r}; "
                "write names and variables, as in 'api' or '<user>.example.com'."
            )
        if text:
            items.append(text.lower())  # host names are case-insensitive
        if found is None:
            break
        name = found["name"]
        if name in names:
            raise ValueError(
                f"URL rule {rule!r} uses the variable name {name!r} twice (its {kind} "
                f"{pattern!r} has it too)."
            )
        names.add(name)
        items.append(_Variable(rule, name, found["converter"] or "default", found["args"]))
        pos = found.end()
    return tuple(items)


def _build_parts(
    items: Iterable[str | _Variable], converters: Mapping[str, BaseConverter]
) -> tuple[str | tuple[str, BaseConverter], ...]:
    """Static text (already quoted) and ``(name, converter)`` pairs, merged where adjacent."""
    parts: list[str | tuple[str, BaseConverter]] = []
    text = ""
    for item in items:
        if isinstance(item, str):
            text += item
        else:
            if text:
                parts.append(text)
            parts.append((item.name, converters[item.name]))
            text = ""
    if text:
        parts.append(text)
    return tuple(parts)


def _fill(
    parts: tuple[str | tuple[str, BaseConverter], ...],
    values: Mapping[str, Any],
    defaults: Mapping[str, Any],
) -> str:
    """``parts`` with each variable's value from ``values`` or ``defaults``, via ``to_url``."""
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
        else:
            name, converter = part
            pieces.append(converter.to_url(values[name] if name in values else defaults[name]))
    return "".join(pieces)


class Rule:
    """A URL pattern in Flask syntax and the endpoint it leads to.

    ``methods`` become an uppercase frozenset (default ``{"GET"}``), with HEAD
    added when GET is present and OPTIONS when ``provide_automatic_options``. A
    ``websocket`` rule only answers websocket requests and its methods are
    ``{"GET"}``. ``plan`` is free for the application; the router never reads it.

    ``subdomain`` and ``host`` are Werkzeug's: with a map's ``host_matching``
    the rule matches requests whose host matches ``host`` (``"<user>.example.com"``
    may have variables, as the path does); otherwise it matches requests to
    ``subdomain`` (``"api"``, ``"<user>"``) of the server name, or, when not
    given, to the map's ``default_subdomain``. ``arguments`` holds the names of
    the rule's variables (path and domain) and of its defaults, as Werkzeug's.
    """

    __slots__ = (
        "_build_parts",
        "_canonical",
        "_domain",
        "_domain_parts",
        "_domain_step",
        "_known",
        "_map",
        "_names",
        "_required",
        "_segments",
        "_steps",
        "arguments",
        "defaults",
        "endpoint",
        "host",
        "methods",
        "plan",
        "provide_automatic_options",
        "rule",
        "strict_slashes",
        "subdomain",
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
        subdomain: str | None = None,
        host: str | None = None,
    ) -> None:
        self.rule = rule
        self.endpoint = endpoint
        self.defaults: dict[str, Any] | None = dict(defaults) if defaults else None
        self.strict_slashes = strict_slashes
        self.provide_automatic_options = provide_automatic_options
        self.websocket = websocket
        self.subdomain = subdomain
        self.host = host
        self.plan: Any = None
        self.methods = self._methods(methods)
        self._segments = _parse_rule(rule)
        self._names = tuple(
            item.name
            for segment in self._segments
            for item in segment
            if isinstance(item, _Variable)
        )
        self._required = frozenset(self._names) - frozenset(self.defaults or ())
        self.arguments = self._known = frozenset(self._names) | frozenset(self.defaults or ())
        self._map: Map | None = None
        self._steps: tuple[str | _Step, ...] = ()
        self._build_parts: tuple[str | tuple[str, BaseConverter], ...] = ()
        # The domain pattern the map matches (subdomain or host, "" for none):
        # static text is a router key; with variables, a step that reads them.
        self._domain = ""
        self._domain_step: _Step | None = None
        self._domain_parts: tuple[str | tuple[str, BaseConverter], ...] = ()
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
        if self.subdomain is None:
            self.subdomain = urls.default_subdomain
        kind = "host" if urls.host_matching else "subdomain"
        pattern = (self.host if urls.host_matching else self.subdomain) or ""
        domain = _parse_domain(self.rule, kind, pattern, self._names) if pattern else ()
        converters = {
            item.name: item.resolve(self.rule, urls)
            for segment in (*self._segments, domain)
            for item in segment
            if isinstance(item, _Variable)
        }
        domain_names = tuple(item.name for item in domain if isinstance(item, _Variable))
        if domain_names:
            self._domain_step = _Step(self.rule, [domain], converters)
            # A match's values are the domain's, then the path's.
            self._names = domain_names + self._names
            self._required |= frozenset(domain_names) - frozenset(self.defaults or ())
            self.arguments = self._known = self._known | frozenset(domain_names)
        # Static: the (lowercased) text, the key of its router. With variables, as written.
        self._domain = pattern if domain_names else "".join(i for i in domain if isinstance(i, str))
        self._domain_parts = _build_parts(domain, converters)
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
        items: list[str | _Variable] = []
        for segment in self._segments:
            items.append("/")
            items.extend(quote(i, safe=_PATH_SAFE) if isinstance(i, str) else i for i in segment)
        self._steps = tuple(steps)
        self._build_parts = _build_parts(items, converters)
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
        try:
            url = _fill(self._build_parts, values, defaults)
        except ValueError:
            return None
        if append_unknown and not self._known.issuperset(values):
            query = _encode_query((k, v) for k, v in values.items() if k not in self._known)
            if query:
                url += "?" + query
        return url

    def _build_domain(self, values: Mapping[str, Any]) -> str | None:
        """The subdomain or host for ``values`` ("" for none), after :meth:`_build` took them."""
        if self._domain_step is None:
            return self._domain
        try:
            return _fill(self._domain_parts, values, self.defaults or _NO_DEFAULTS)
        except ValueError:
            return None

    def _why_not(self, values: Mapping[str, Any]) -> str:
        """Why :meth:`_build` refuses ``values``, said so that the caller can fix it."""
        missing = sorted(self._required - values.keys())
        if missing:
            return f"Did you forget to specify values {missing}?"
        defaults = self.defaults or _NO_DEFAULTS
        clash = {k: v for k, v in defaults.items() if k in values and values[k] != v}
        if clash:
            return f"Rule {self.rule!r} has defaults {clash}; leave those values out."
        for part in (*self._domain_parts, *self._build_parts):
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

    def variable_converters(self) -> Iterator[tuple[str, str]]:
        """``(name, converter name)`` for each variable of the path, in order."""
        for segment in self._segments:
            for item in segment:
                if isinstance(item, _Variable):
                    yield item.name, item.converter

    def __str__(self) -> str:
        """The rule string, as Werkzeug's (``flask routes``-style listings print it)."""
        return self.rule

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
