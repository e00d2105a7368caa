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
sit in a dict ``path -> {method: rule}``, so most requests cost two lookups;
the others walk the segment tree of :mod:`.matcher`. The commonest parametric
shape, static segments then one variable (``/users/<int:id>``), is answered
from a dict of those static prefixes when the walk would give the same answer
(see ``_index_tails``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from ..exceptions import HTTPException, MethodNotAllowed, NotFound, RequestRedirect
from .converters import DEFAULT_CONVERTERS, NO_MATCH, BaseConverter
from .matcher import _Found, _index_tails, _Miss, _Node, _Tail, _walk
from .rules import _PATH_SAFE, Rule

__all__ = ["BuildError", "Map", "Rule"]


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
