"""The segment tree that matches a path to a rule, without scanning the rules.

Every rule is a path through a tree of segments; each node holds a dict of
static children, then its dynamic children in priority order: variables alone
in a segment, segments mixing text and variables (one regex each), and last the
converters that span segments, such as ``path`` (one regex over the rest of the
path). A request walks down the tree and backtracks when a converter refuses a
value, so it pays for the depth of its path, never for a scan of the rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from .converters import NO_MATCH, BaseConverter

if TYPE_CHECKING:
    from .rules import Rule, _Segment, _Variable

_Fullmatch = Callable[[str], "re.Match[str] | None"]


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

    def read(self, text: str) -> tuple[Any, ...] | None:
        """The converted values of the variables in ``text``, or None if it does not match."""
        if self.groups is None:
            value = self.pattern(text)
            return None if value is NO_MATCH else (value,)
        matched = self.pattern(text)
        return None if matched is None else _convert(matched, self.groups, self.converters)


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


class _Router:
    """The rules of one domain (a subdomain or a host): matched by path alone.

    The static dict, segment trees and tail index of :class:`~.map.Map`, indexed
    by the websocket flag: ``[0]`` HTTP, ``[1]`` websocket.
    """

    __slots__ = ("roots", "rules", "static", "tails")

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.static: tuple[dict[str, dict[str, Rule]], ...] = ({}, {})
        self.roots = (_Node(), _Node())
        self.tails: tuple[dict[str, _Tail], ...] = ({}, {})

    def compile(self) -> None:
        """Index :attr:`rules`, in their order (the first rule for a method wins)."""
        for rule in self.rules:
            self.roots[rule.websocket].insert(rule)
            if all(isinstance(step, str) for step in rule._steps):  # no variables
                by_method = self.static[rule.websocket].setdefault(rule.rule, {})
                for method in rule.methods:
                    by_method.setdefault(method, rule)
        for websocket, root in enumerate(self.roots):
            root.finalize()
            _index_tails(root, "", self.tails[websocket])

    def search(
        self, path: str, method: str, websocket: bool, miss: _Miss, values: tuple[Any, ...] = ()
    ) -> _Found | None:
        """The rule for ``path`` and its values (after ``values``, the domain's), or None.

        What :meth:`.map.Map.find` does inline for the default domain; misses
        are recorded in ``miss``.
        """
        by_method = self.static[websocket].get(path)
        if by_method is not None and (rule := by_method.get(method)) is not None:
            return rule, values
        if not path.startswith("/"):
            return None
        head, _, last = path.rpartition("/")
        tail = self.tails[websocket].get(head)
        if tail is not None and last and last not in tail.static:
            value = tail.read(last)
            if value is not NO_MATCH and (rule := tail.exact.get(method)) is not None:
                return rule, (*values, value)
        return _walk(self.roots[websocket], path[1:].split("/"), 0, values, method, miss)
