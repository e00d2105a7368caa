"""URL routing: Flask's rule syntax, matching through a segment tree, URL building.

::

    urls = Map()
    urls.add(Rule("/users/<int:user_id>", endpoint="users.show"))
    urls.match("/users/42", "GET")            # (<Rule ...>, {"user_id": 42})
    urls.build("users.show", {"user_id": 42})  # "/users/42"

Pure: no I/O and no context locals. A failed match raises the HTTP errors of
:mod:`microasgi.exceptions`: ``NotFound``, ``MethodNotAllowed`` (with the
methods that would have worked) or ``RequestRedirect`` (``/x`` for a rule
``/x/``); ``find`` returns them instead, which is what the app calls (a 404
costs no raise).

Matching cost does not grow with the number of rules. Rules without variables
sit in a dict ``path -> {method: rule}``, so most requests cost two lookups.
Every rule is also a path through a tree of segments; each node holds a dict of
static children, then its dynamic children in priority order: variables alone
in a segment, segments mixing text and variables (one regex each), and last the
converters that span segments, such as ``path`` (one regex over the rest of the
path). A request walks down the tree and backtracks when a converter refuses a
value, so it pays for the depth of its path, never for a scan of the rules.
The commonest parametric shape, static segments then one variable
(``/users/<int:id>``), is answered from a dict of those static prefixes when the
walk would give the same answer (see ``_index_tails``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from ..exceptions import HTTPException, MethodNotAllowed, NotFound, RequestRedirect
from .converters import DEFAULT_CONVERTERS, NO_MATCH, BaseConverter

__all__ = ["BuildError", "Map", "Rule"]

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

_Fullmatch = Callable[[str], "re.Match[str] | None"]


class BuildError(LookupError):
    """No rule of ``endpoint`` can build a URL from ``values`` (and ``method``).

    The message says how to fix it: a close endpoint name, the values that are
    missing, or the methods the endpoint accepts.
    """

    def __init__(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        method: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.values = dict(values)
        self.method = method
        self.suggestion = suggestion
        message = f"Could not build url for endpoint {endpoint!r}"
        if method is not None:
            message += f" ({method!r})"
        if self.values:
            message += f" with values {sorted(self.values)!r}"
        message += "." if suggestion is None else f". {suggestion}"
        super().__init__(message)


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


class _Step:
    """How a rule passes one dynamic point of the tree; rules with equal keys share it."""

    __slots__ = ("converters", "groups", "key", "order", "pattern", "spans")

    def __init__(
        self, rule: str, segments: Iterable[_Segment], converters: Mapping[str, BaseConverter]
    ) -> None:
        items: list[str | _Variable] = []
        for index, segment in enumerate(segments):
            if index:
                items.append("/")
            items.extend(segment)
        regex: list[str] = []
        key: list[Hashable] = []
        used: list[BaseConverter] = []
        static_chars = 0
        for item in items:
            if isinstance(item, str):
                regex.append(re.escape(item))
                key.append(item)
                static_chars += len(item)
            else:
                converter = converters[item.name]
                regex.append(f"(?P<v{len(used)}>{converter.regex})")
                key.append((type(converter), item.signature))
                used.append(converter)
        self.spans = not all(converter.part_isolating for converter in used)
        self.key: Hashable = (self.spans, *key)
        # Priority among siblings: more static text first, then lighter converters.
        self.order = (-static_chars, tuple(converter.weight for converter in used))
        self.converters = tuple(used)
        self.groups: tuple[str, ...] | None = tuple(f"v{i}" for i in range(len(used)))
        # A regex's fullmatch; for a lone variable, its converter's segment reader.
        self.pattern: Callable[[str], Any]
        try:
            if len(items) == 1 and not self.spans:
                # A lone variable: its value is the whole segment, no group to read.
                self.groups = None
                self.pattern = used[0]._segment_reader()
            else:
                self.pattern = _compile("".join(regex))
        except re.error as exc:
            raise ValueError(f"URL rule {rule!r} has a converter with a bad regex: {exc}") from exc


def _compile(regex: str) -> _Fullmatch:
    return re.compile(regex, re.DOTALL).fullmatch


_Reader = Callable[[str], Any]
_Edge = tuple["_Reader", "tuple[str, ...] | None", "tuple[BaseConverter, ...]", "_Node"]
_SpanEdge = tuple["_Fullmatch", "tuple[str, ...]", "tuple[BaseConverter, ...]", "_Node"]


class _Node:
    """A point in the segment tree: its children and the rules that end here."""

    __slots__ = (
        "branches",
        "children",
        "dynamic",
        "exact",
        "loose",
        "loose_methods",
        "methods",
        "spanning",
        "static",
    )

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.dynamic: tuple[_Edge, ...] = ()
        self.spanning: tuple[_SpanEdge, ...] = ()
        self.children: dict[Hashable, tuple[_Step, _Node]] = {}
        # First rule per method ending here; `loose` only those without strict slashes.
        self.exact: dict[str, Rule] = {}
        self.loose: dict[str, Rule] = {}
        self.methods: set[str] = set()
        self.loose_methods: set[str] = set()
        self.branches = False  # anything to try once the static child fails?

    def insert(self, rule: Rule) -> None:
        node = self
        for step in rule._steps:
            if isinstance(step, str):
                child = node.static.get(step)
                if child is None:
                    child = node.static[step] = _Node()
            else:
                entry = node.children.get(step.key)
                if entry is None:
                    entry = node.children[step.key] = (step, _Node())
                child = entry[1]
            node = child
        for method in rule.methods:
            node.exact.setdefault(method, rule)
            if not rule.strict_slashes:
                node.loose.setdefault(method, rule)
        node.methods |= rule.methods
        if not rule.strict_slashes:
            node.loose_methods |= rule.methods

    def finalize(self) -> None:
        ranked = sorted(self.children.values(), key=lambda entry: entry[0].order)
        self.dynamic = tuple(
            (step.pattern, step.groups, step.converters, child)
            for step, child in ranked
            if not step.spans
        )
        self.spanning = tuple(
            (step.pattern, step.groups, step.converters, child)
            for step, child in ranked
            if step.spans and step.pattern is not None and step.groups is not None
        )
        self.branches = bool(self.dynamic or self.spanning or self.loose)
        for child in self.static.values():
            child.finalize()
        for _, child in ranked:
            child.finalize()


class _Miss:
    """What a walk saw that did not match: methods of rules on the path, slash redirects.

    Nothing is allocated until a rule on the path misses (most walks find one).
    """

    allowed: frozenset[str] = frozenset()
    redirect = False


_Found = tuple["Rule", tuple[Any, ...]]


class _Tail(NamedTuple):
    """A node reached by static segments whose first dynamic child is a lone variable."""

    static: dict[str, _Node]  # its static children: they come first
    read: Callable[[str], Any]  # that variable's reader: value or NO_MATCH
    exact: dict[str, Rule]  # the rules ending right after it, by method


def _index_tails(node: _Node, path: str, index: dict[str, _Tail]) -> None:
    """Index, by their path, the nodes reached from ``node`` by static segments only.

    Only those whose first dynamic child is a variable alone in its segment
    (``/users/<int:id>``): for a path ending one segment below such a node, the
    walk goes down the static segments first, tries the node's static children,
    then that variable. So when no static child has the last segment's name and
    the variable takes it with a rule for the method, that rule is the walk's
    answer, found with one lookup. Anything else is left to the walk.
    """
    if node.dynamic and node.dynamic[0][1] is None:
        read, _, _, child = node.dynamic[0]
        index[path] = _Tail(node.static, read, child.exact)
    for name, child in node.static.items():
        _index_tails(child, f"{path}/{name}", index)


def _walk(
    node: _Node, parts: list[str], i: int, values: tuple[Any, ...], method: str, miss: _Miss
) -> _Found | None:
    """The first rule for ``method`` along ``parts[i:]``, with its converted values.

    A walk that finds nothing has tried every branch: what would have matched
    with another method or an added slash is recorded in ``miss`` on the way, so
    a 404 or 405 costs one walk.
    """
    last = len(parts)
    # Where a node offers no alternative, a failure below it is final: loop, don't recurse.
    while i < last and not node.branches:
        child = node.static.get(parts[i])
        if child is None:
            return None
        node = child
        i += 1
    if i == last:
        rule = node.exact.get(method)
        if rule is not None:
            return rule, values
        slash = node.static.get("")
        if slash is not None and (rule := slash.loose.get(method)) is not None:
            return rule, values
        if node.methods:
            miss.allowed = miss.allowed | node.methods
        if slash is not None:
            if slash.loose_methods:
                miss.allowed = miss.allowed | slash.loose_methods
            if method in slash.exact:
                miss.redirect = True
        return None
    part = parts[i]
    child = node.static.get(part)
    if child is not None:
        found = _walk(child, parts, i + 1, values, method, miss)
        if found is not None:
            return found
    # ValueError (ValidationError is one) from to_python means "not this rule".
    for pattern, groups, converters, child in node.dynamic:
        if groups is None:  # a variable alone in its segment: pattern reads its value
            value = pattern(part)
            if value is NO_MATCH:
                continue
            if i + 1 == last and (rule := child.exact.get(method)) is not None:
                return rule, (*values, value)  # the common end (/users/42): no call
            found = _walk(child, parts, i + 1, (*values, value), method, miss)
        else:
            matched = pattern(part)
            converted = None if matched is None else _convert(matched, groups, converters)
            if converted is None:
                continue
            found = _walk(child, parts, i + 1, values + converted, method, miss)
        if found is not None:
            return found
    if node.spanning:
        found = _walk_spanning(node, parts, i, values, method, miss)
        if found is not None:
            return found
    if i == last - 1 and not part:  # a trailing slash the rules here do not have
        if (rule := node.loose.get(method)) is not None:
            return rule, values
        if node.loose_methods:
            miss.allowed = miss.allowed | node.loose_methods
    return None


def _convert(
    matched: re.Match[str], groups: tuple[str, ...], converters: tuple[BaseConverter, ...]
) -> tuple[Any, ...] | None:
    try:
        return tuple(c.to_python(matched[g]) for c, g in zip(converters, groups, strict=False))
    except ValueError:
        return None


def _walk_spanning(
    node: _Node, parts: list[str], i: int, values: tuple[Any, ...], method: str, miss: _Miss
) -> _Found | None:
    """Try the children of ``node`` whose converters (``path``) take the rest of the path."""
    last = len(parts) - 1
    rest = "/".join(parts[i:])
    # A trailing slash is first left to the slash rules of the node below, then consumed.
    attempts = [(rest, last + 1)]
    if i < last and not parts[last]:
        attempts.insert(0, (rest[:-1], last))
    for pattern, groups, converters, child in node.spanning:
        for text, j in attempts:
            matched = pattern(text)
            converted = None if matched is None else _convert(matched, groups, converters)
            if converted is None:
                continue
            found = _walk(child, parts, j, values + converted, method, miss)
            if found is not None:
                return found
    return None


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


def _redirect_target(path: str) -> str | None:
    # A server decoding raw bytes with surrogateescape gets those bytes back;
    # other lone surrogates cannot be in a URL at all (None: answered 404).
    try:
        return quote(path, safe=_PATH_SAFE, errors="surrogateescape")
    except UnicodeEncodeError:
        return None


def _build_rank(rule: Rule) -> tuple[int, int]:
    # Werkzeug's order: rules using more values first, so "/post/<id>" wins over
    # "/post/" when an id is given instead of becoming "/post/?id=...".
    return (-len(rule._known), -len(rule.defaults or ()))


class Map:
    """The URL rules of an application: :meth:`add`, :meth:`match`, :meth:`build`.

    ``strict_slashes`` is the default of rules that do not set their own.
    ``converters`` (a copy of ``DEFAULT_CONVERTERS``) takes custom converters
    before the rules that use them are added.
    """

    def __init__(self, strict_slashes: bool = True) -> None:
        self.strict_slashes = strict_slashes
        self.converters: dict[str, type[BaseConverter]] = dict(DEFAULT_CONVERTERS)
        self._rules: list[Rule] = []
        self._by_endpoint: dict[str, list[Rule]] = {}
        self._stale = True
        # Indexed by the websocket flag: [0] HTTP, [1] websocket.
        self._static: tuple[dict[str, dict[str, Rule]], ...] = ({}, {})
        self._roots = (_Node(), _Node())
        self._tails: tuple[dict[str, _Tail], ...] = ({}, {})
        self._build_order: dict[str, tuple[Rule, ...]] = {}

    def add(self, rule: Rule) -> None:
        """Register ``rule``; raise ValueError for an unknown converter or bad arguments."""
        if rule._map is not None:
            raise ValueError(f"{rule!r} is already in a map; create a new Rule instead.")
        rule._bind(self)
        self._rules.append(rule)
        self._by_endpoint.setdefault(rule.endpoint, []).append(rule)
        self._stale = True

    def iter_rules(self, endpoint: str | None = None) -> Iterator[Rule]:
        """All rules, or those of ``endpoint``, in registration order."""
        rules = self._rules if endpoint is None else self._by_endpoint.get(endpoint, [])
        return iter(list(rules))

    def is_endpoint_expecting(self, endpoint: str, *arguments: str) -> bool:
        """Whether a rule of ``endpoint`` takes all ``arguments`` (as URL values or defaults).

        Werkzeug's method, used by Flask's URL processors::

            if app.url_map.is_endpoint_expecting(endpoint, "lang_code"): ...
        """
        return any(
            rule._known.issuperset(arguments) for rule in self._by_endpoint.get(endpoint, ())
        )

    def _refresh(self) -> None:
        static: tuple[dict[str, dict[str, Rule]], ...] = ({}, {})
        roots = (_Node(), _Node())
        for rule in self._rules:
            roots[rule.websocket].insert(rule)
            if not rule.arguments:
                by_method = static[rule.websocket].setdefault(rule.rule, {})
                for method in rule.methods:
                    by_method.setdefault(method, rule)
        for root in roots:
            root.finalize()
        tails: tuple[dict[str, _Tail], ...] = ({}, {})
        for websocket, root in enumerate(roots):
            _index_tails(root, "", tails[websocket])
        order: dict[str, tuple[Rule, ...]] = {}
        for endpoint, rules in self._by_endpoint.items():
            ranked = order[endpoint] = tuple(sorted(rules, key=_build_rank))
            for index, rule in enumerate(ranked):
                rule._canonical = tuple(
                    other
                    for other in ranked[:index]
                    if other.defaults
                    and other.websocket == rule.websocket
                    and other._known == rule._known
                )
        self._static, self._roots, self._tails, self._build_order = static, roots, tails, order
        self._stale = False

    def match(self, path: str, method: str, websocket: bool = False) -> tuple[Rule, dict[str, Any]]:
        """The rule for ``path`` (percent-decoded) and ``method``, and its values.

        Values are the converted variables merged with the rule's defaults, in
        a new dict the caller may change.
        Raises ``NotFound``, ``MethodNotAllowed`` listing the methods the path
        accepts, or ``RequestRedirect`` to ``path + "/"`` for a strict-slash
        rule, and to the canonical URL when an earlier rule of the endpoint
        provides these values as defaults.
        """
        found: Any = self.find(path, method, websocket)
        if found.__class__ is tuple:
            return found
        try:
            raise found
        finally:
            # Else this frame would hold the error and its traceback this frame:
            # a reference cycle per 404, left to the garbage collector.
            found = None

    def find(
        self, path: str, method: str, websocket: bool = False
    ) -> tuple[Rule, dict[str, Any]] | HTTPException:
        """:meth:`match`, returning the error instead of raising it.

        A 404 then costs no exception raised and caught, nor a traceback kept.
        """
        if self._stale:
            self._refresh()
        if websocket:
            method = "GET"
        by_method = self._static[websocket].get(path)
        if by_method is not None:
            rule = by_method.get(method)
            if rule is not None and not rule._canonical:
                return rule, (dict(rule.defaults) if rule.defaults else {})
        if not path.startswith("/"):
            return NotFound()
        found: _Found | None = None
        head, _, last = path.rpartition("/")
        tail = self._tails[websocket].get(head)
        if tail is not None and last and last not in tail.static:
            # What the walk would find first (see _index_tails), without the walk.
            value = tail.read(last)
            if value is not NO_MATCH and (rule := tail.exact.get(method)) is not None:
                found = rule, (value,)
        if found is None:
            miss = _Miss()
            found = _walk(self._roots[websocket], path[1:].split("/"), 0, (), method, miss)
            if found is None:
                if miss.redirect and not path.endswith("/"):
                    target = _redirect_target(path + "/")
                    return RequestRedirect(target) if target is not None else NotFound()
                if miss.allowed:
                    return MethodNotAllowed(sorted(miss.allowed))
                return NotFound()
        rule, raw = found
        if len(raw) == 1:
            values = {rule._names[0]: raw[0]}
        else:  # zip(strict=True) would cost more than the rest of a match
            values = dict(zip(rule._names, raw, strict=False)) if raw else {}
        if rule.defaults:
            values.update(rule.defaults)
        if rule._canonical:
            redirect = self._canonical_redirect(rule, values, method)
            if redirect is not None:
                return redirect
        return rule, values

    def _canonical_redirect(
        self, rule: Rule, values: dict[str, Any], method: str
    ) -> RequestRedirect | None:
        """Werkzeug's ``redirect_defaults``: ``/users/page/1`` -> ``/users/`` (page=1 default)."""
        for other in rule._canonical:
            if method in other.methods:
                url = other._build(values, append_unknown=False)
                if url is not None:
                    return RequestRedirect(url)
        return None

    def allowed_methods(self, path: str) -> set[str]:
        """Methods of every HTTP rule matching ``path``: the ``Allow`` of automatic OPTIONS."""
        if self._stale:
            self._refresh()
        miss = _Miss()
        if path.startswith("/"):
            _walk(self._roots[False], path[1:].split("/"), 0, (), "", miss)
        return set(miss.allowed)

    def build(
        self,
        endpoint: str,
        values: Mapping[str, Any] | None = None,
        method: str | None = None,
        append_unknown: bool = True,
    ) -> str:
        """The path of ``endpoint`` for ``values``, percent-quoted.

        Values the rule does not use become the query string (lists repeat the
        key, None is left out) unless ``append_unknown`` is false. Raises
        :class:`BuildError` when no rule of the endpoint suits the values.
        """
        if self._stale:
            self._refresh()
        given = {k: v for k, v in values.items() if v is not None} if values else {}
        for rule in self._build_order.get(endpoint, ()):
            if method is None or method in rule.methods:
                url = rule._build(given, append_unknown)
                if url is not None:
                    return url
        raise self._build_error(endpoint, given, method)

    def _build_error(self, endpoint: str, values: dict[str, Any], method: str | None) -> BuildError:
        rules = self._build_order.get(endpoint)
        if not rules:
            close = difflib.get_close_matches(endpoint, list(self._build_order), n=1)
            hint = f"Did you mean {close[0]!r} instead?" if close else "No rule has this endpoint."
            return BuildError(endpoint, values, method, hint)
        usable = [rule for rule in rules if method is None or method in rule.methods]
        if not usable:
            accepted = sorted(set().union(*(rule.methods for rule in rules)))
            hint = f"The endpoint accepts only the methods {accepted}."
            return BuildError(endpoint, values, method, hint)
        closest = min(usable, key=lambda rule: len(rule._required - values.keys()))
        return BuildError(endpoint, values, method, closest._why_not(values))
