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

Rules on a subdomain or a host (``subdomain=``, ``host=``) are kept apart:
each domain has a router of its own (:class:`~.matcher._Router`), static
domains in a dict, domains with variables (``<user>``) read by one step each.
:meth:`Map.find` reads the default domain's router only, as before, so an app
without such rules pays nothing for them; :meth:`Map.find_on_domain` picks the
router for a request's subdomain or host first.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from werkzeug import routing
from werkzeug.datastructures import MultiDict

from ..exceptions import HTTPException, MethodNotAllowed, NotFound, RequestRedirect
from .converters import DEFAULT_CONVERTERS, NO_MATCH, BaseConverter
from .matcher import _Found, _Miss, _Router, _Step, _walk
from .rules import _PATH_SAFE, Rule, _encode_query

__all__ = ["BuildError", "Map", "MapAdapter", "Rule"]


class BuildError(routing.BuildError):
    """No rule of ``endpoint`` can build a URL from ``values`` (and ``method``).

    Werkzeug's ``BuildError`` (what Flask code catches), whose message says how
    to fix it: a close endpoint name, the values that are missing, or the
    methods the endpoint accepts.
    """

    def __init__(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        method: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        super().__init__(endpoint, dict(values), method)
        self.suggestion = suggestion
        message = f"Could not build url for endpoint {endpoint!r}"
        if method is not None:
            message += f" ({method!r})"
        if self.values:
            message += f" with values {sorted(self.values)!r}"
        self._message = message + ("." if suggestion is None else f". {suggestion}")

    def __str__(self) -> str:
        return self._message


def _redirect_target(path: str) -> str | None:
    # A server decoding raw bytes with surrogateescape gets those bytes back;
    # other lone surrogates cannot be in a URL at all (None: answered 404).
    try:
        return quote(path, safe=_PATH_SAFE, errors="surrogateescape")
    except UnicodeEncodeError:
        return None


def _missed(path: str, miss: _Miss) -> HTTPException:
    """The error for a path no rule matched: a slash redirect, a 405 or a 404."""
    if miss.redirect and not path.endswith("/"):
        target = _redirect_target(path + "/")
        return RequestRedirect(target) if target is not None else NotFound()
    if miss.allowed:
        return MethodNotAllowed(sorted(miss.allowed))
    return NotFound()


def _build_rank(rule: Rule) -> tuple[int, int]:
    # Werkzeug's order: rules using more values first, so "/post/<id>" wins over
    # "/post/" when an id is given instead of becoming "/post/?id=...".
    return (-len(rule._known), -len(rule.defaults or ()))


class Map:
    """The URL rules of an application: :meth:`add`, :meth:`match`, :meth:`build`.

    Werkzeug's arguments, those a Flask app uses: ``rules`` to add;
    ``strict_slashes``, the default of rules that do not set their own;
    ``converters``, added to a copy of ``DEFAULT_CONVERTERS`` (register custom
    ones here or in :attr:`converters` before the rules that use them);
    ``default_subdomain``, the subdomain of rules that give none; and
    ``host_matching``, to match rules on the request's whole host (their
    ``host=``) instead of a subdomain.

    :meth:`match`, :meth:`find` and :meth:`build` work on paths, on the default
    domain; :meth:`find_on_domain` matches on a subdomain or host too, and
    :meth:`bind` gives Werkzeug's :class:`MapAdapter`, which matches and builds
    whole URLs.
    """

    def __init__(
        self,
        rules: Iterable[Rule] | None = None,
        *,
        default_subdomain: str = "",
        strict_slashes: bool = True,
        converters: Mapping[str, type[BaseConverter]] | None = None,
        host_matching: bool = False,
    ) -> None:
        self.default_subdomain = default_subdomain
        self.strict_slashes = strict_slashes
        self.host_matching = host_matching
        self.converters: dict[str, type[BaseConverter]] = dict(DEFAULT_CONVERTERS)
        if converters:
            self.converters.update(converters)
        self._rules: list[Rule] = []
        self._by_endpoint: dict[str, list[Rule]] = {}
        self._stale = True
        # The router of the default domain, whose structures find() reads directly.
        default = _Router()
        self._static, self._roots, self._tails = default.static, default.roots, default.tails
        # Every domain's router: static domains by name, then those with variables.
        self._routers: dict[str, _Router] = {}
        self._domain_patterns: tuple[tuple[_Step, _Router], ...] = ()
        self._has_domains = False
        self._build_order: dict[str, tuple[Rule, ...]] = {}
        for rule in rules or ():
            self.add(rule)

    @property
    def _default_domain(self) -> str:
        # Rules without host= under host matching, else the default subdomain's.
        return "" if self.host_matching else self.default_subdomain

    def add(self, rule: Rule) -> None:
        """Register ``rule``; raise ValueError for an unknown converter or bad arguments."""
        if rule._map is not None:
            raise ValueError(f"{rule!r} is already in a map; create a new Rule instead.")
        rule._bind(self)
        self._rules.append(rule)
        self._by_endpoint.setdefault(rule.endpoint, []).append(rule)
        if rule._domain != self._default_domain:
            self._has_domains = True
        self._stale = True

    @property
    def has_domains(self) -> bool:
        """Whether some rule is on a subdomain or host of its own (not the default).

        Only then can a URL for one rule need another host than the request's.
        """
        return self._has_domains

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
        routers: dict[str, _Router] = {}
        patterns: dict[Hashable, tuple[_Step, _Router]] = {}
        for rule in self._rules:
            step = rule._domain_step
            if step is None:
                router = routers.get(rule._domain)
                if router is None:
                    router = routers[rule._domain] = _Router()
            else:
                entry = patterns.get(step.key)
                if entry is None:
                    entry = patterns[step.key] = (step, _Router())
                router = entry[1]
            router.rules.append(rule)
        for router in (*routers.values(), *(router for _, router in patterns.values())):
            router.compile()
        default = routers.get(self._default_domain) or _Router()  # empty: nothing to compile
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
                    and other._domain == rule._domain
                )
        self._static, self._roots, self._tails = default.static, default.roots, default.tails
        self._routers = routers
        # Domains with variables in priority order, as path steps: more static text first.
        self._domain_patterns = tuple(sorted(patterns.values(), key=lambda item: item[0].order))
        self._has_domains = bool(patterns) or any(key != self._default_domain for key in routers)
        self._build_order = order
        self._stale = False

    def match(
        self, path: str, method: str, websocket: bool = False, domain: str | None = None
    ) -> tuple[Rule, dict[str, Any]]:
        """The rule for ``path`` (percent-decoded) and ``method``, and its values.

        Values are the converted variables merged with the rule's defaults, in
        a new dict the caller may change.
        Raises ``NotFound``, ``MethodNotAllowed`` listing the methods the path
        accepts, or ``RequestRedirect`` to ``path + "/"`` for a strict-slash
        rule, and to the canonical URL when an earlier rule of the endpoint
        provides these values as defaults.
        With ``domain`` (a subdomain, or the host under ``host_matching``), as
        :meth:`find_on_domain`; else among the rules of the default domain.
        """
        found: Any = (
            self.find(path, method, websocket)
            if domain is None
            else self.find_on_domain(domain, path, method, websocket)
        )
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
                return _missed(path, miss)
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

    def find_on_domain(
        self, domain: str, path: str, method: str, websocket: bool = False
    ) -> tuple[Rule, dict[str, Any]] | HTTPException:
        """:meth:`find` among the rules of ``domain``: a subdomain, or a host under
        ``host_matching`` (lowercase, with its port unless the scheme's default).

        Rules of that exact domain come first, then those whose domain pattern
        matches it (``<user>``, ``<user>.example.com``), more static text first.
        The domain's variables are among the values. As in Werkzeug, under
        ``host_matching`` a rule without ``host=`` matches no host (but ``""``).
        """
        if self._stale:
            self._refresh()
        if websocket:
            method = "GET"
        router = self._routers.get(domain)
        if router is not None:  # first, as find() does: a static rule of the domain
            by_method = router.static[websocket].get(path)
            if by_method is not None:
                rule = by_method.get(method)
                if rule is not None and not rule._canonical:
                    return rule, (dict(rule.defaults) if rule.defaults else {})
        miss = _Miss()
        if router is not None and (found := router.search(path, method, websocket, miss)):
            return self._matched(found, method)
        for step, router in self._domain_patterns:
            raw = step.read(domain)
            if raw is not None and (found := router.search(path, method, websocket, miss, raw)):
                return self._matched(found, method)
        return _missed(path, miss)

    def _matched(self, found: _Found, method: str) -> tuple[Rule, dict[str, Any]] | HTTPException:
        """The values of a rule a walk found (as :meth:`find` makes them), or its redirect."""
        rule, raw = found
        names = rule._names
        count = len(raw)
        # Most rules on a domain with a variable have two values (<user>, /<int:id>);
        # zip() with its keyword would cost more than the rest of the match.
        if count == 2:
            values = {names[0]: raw[0], names[1]: raw[1]}
        elif count == 1:
            values = {names[0]: raw[0]}
        else:
            values = dict(zip(names, raw, strict=False)) if raw else {}
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

    def allowed_methods(self, path: str, domain: str | None = None) -> set[str]:
        """Methods of every HTTP rule matching ``path``: the ``Allow`` of automatic OPTIONS.

        Among the rules of ``domain`` as :meth:`find_on_domain` tries them, or
        of the default domain.
        """
        if self._stale:
            self._refresh()
        miss = _Miss()
        if not path.startswith("/"):
            return set()
        parts = path[1:].split("/")
        if domain is None:
            _walk(self._roots[False], parts, 0, (), "", miss)
            return set(miss.allowed)
        routers: list[tuple[_Router | None, tuple[Any, ...] | None]] = [
            (self._routers.get(domain), ())
        ]
        routers += [(router, step.read(domain)) for step, router in self._domain_patterns]
        for router, raw in routers:
            if router is not None and raw is not None:
                _walk(router.roots[False], parts, 0, raw, "", miss)
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

    def build_with_domain(
        self,
        endpoint: str,
        values: Mapping[str, Any] | None = None,
        method: str | None = None,
        append_unknown: bool = True,
        host: str | None = None,
    ) -> tuple[str, str, bool]:
        """:meth:`build`, with the rule's domain: ``(domain, path, websocket)``.

        ``domain`` is the rule's subdomain, or its host under ``host_matching``
        (``""`` for a rule without one). Under ``host_matching`` a rule whose
        host is ``host`` (the current one) is preferred, as Werkzeug does.
        """
        if self._stale:
            self._refresh()
        given = {k: v for k, v in values.items() if v is not None} if values else {}
        first: tuple[str, str, bool] | None = None
        for rule in self._build_order.get(endpoint, ()):
            if method is None or method in rule.methods:
                path = rule._build(given, append_unknown)
                domain = None if path is None else rule._build_domain(given)
                if path is None or domain is None:
                    continue
                if not self.host_matching or host is None or domain in ("", host):
                    return domain, path, rule.websocket
                if first is None:
                    first = domain, path, rule.websocket
        if first is not None:
            return first
        raise self._build_error(endpoint, given, method)

    def bind(
        self,
        server_name: str,
        script_name: str | None = None,
        subdomain: str | None = None,
        url_scheme: str = "http",
        default_method: str = "GET",
        path_info: str | None = None,
        query_args: Mapping[str, Any] | str | None = None,
    ) -> MapAdapter:
        """A :class:`MapAdapter` for URLs on ``server_name``, as Werkzeug's ``Map.bind``.

        ``subdomain`` is the current one (default: :attr:`default_subdomain`);
        it cannot be given under ``host_matching``, where ``server_name`` is the
        current host. ``script_name`` is the prefix of every URL (default
        ``"/"``); ``path_info`` and ``default_method`` are what
        :meth:`MapAdapter.match` matches when not told.
        """
        server_name = server_name.lower()
        if self.host_matching:
            if subdomain is not None:
                raise RuntimeError("host matching enabled and a subdomain was provided")
        elif subdomain is None:
            subdomain = self.default_subdomain
        return MapAdapter(
            self,
            server_name,
            script_name or "/",
            subdomain,
            url_scheme,
            path_info or "/",
            default_method,
            query_args,
        )

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


def strip_default_port(server_name: str, scheme: str) -> str:
    """``server_name`` without ``:80`` for http and ws, ``:443`` for https and wss.

    As a request's host (``example.com:443`` over https is ``example.com``).
    """
    default = ":443" if scheme in ("https", "wss") else ":80"
    return server_name.removesuffix(default)


def subdomain_of(host: str, server_name: str) -> str | None:
    """The part of ``host`` before ``server_name``: ``"api"`` for ``api.example.com``
    under ``example.com``, ``""`` for ``example.com`` itself, None when ``host`` is
    not under it. Both lowercase, with the same port (or none).
    """
    if host == server_name:
        return ""
    if host.endswith("." + server_name):
        return host[: -len(server_name) - 1].strip(".")
    return None


class MapAdapter:
    """A :class:`Map` bound to a server name, as Werkzeug's: matches and builds whole URLs.

    From :meth:`Map.bind` (``app.url_map.bind("example.com")``) or, for a
    request, ``app.create_url_adapter(request)``. ``subdomain`` is the
    subdomain the URLs are on; under the map's ``host_matching`` it is None,
    and ``server_name`` is the whole host.
    """

    def __init__(
        self,
        map: Map,
        server_name: str,
        script_name: str,
        subdomain: str | None,
        url_scheme: str,
        path_info: str,
        default_method: str,
        query_args: Mapping[str, Any] | str | None = None,
    ) -> None:
        self.map = map
        self.server_name = server_name
        self.script_name = script_name if script_name.endswith("/") else script_name + "/"
        self.subdomain = subdomain
        self.url_scheme = url_scheme
        self.path_info = path_info
        self.default_method = default_method
        self.query_args = query_args
        self.websocket = url_scheme in ("ws", "wss")

    @property
    def _domain(self) -> str:
        # What rules match on: the host under host matching, else the subdomain.
        return self.server_name if self.map.host_matching else self.subdomain or ""

    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: Mapping[str, Any] | str | None = None,
        websocket: bool | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """``(endpoint, values)`` for ``path_info`` (default: the bound one) and ``method``
        (default: ``default_method``); ``(rule, values)`` with ``return_rule``.

        Raises ``NotFound``, ``MethodNotAllowed``, or ``RequestRedirect`` whose
        ``new_url`` is a whole URL, with ``query_args`` (default: the bound ones).
        """
        path = "/" + (self.path_info if path_info is None else path_info).lstrip("/")
        method = (method or self.default_method).upper()
        websocket = self.websocket if websocket is None else websocket
        found: Any = self.map.find_on_domain(self._domain, path, method, websocket)
        if found.__class__ is tuple:
            rule, values = found
            return (rule if return_rule else rule.endpoint), values
        if isinstance(found, RequestRedirect):
            scheme = self.url_scheme or "http"
            script = quote(self.script_name.rstrip("/"))
            url = f"{scheme}://{self.get_host(None)}{script}{found.new_url}"
            query = self.query_args if query_args is None else query_args
            if query and not isinstance(query, str):
                query = _encode_query(query.items())
            found = RequestRedirect(f"{url}?{query}" if query else url)
        try:
            raise found
        finally:
            found = None  # no reference cycle through this frame (see Map.match)

    def test(self, path_info: str | None = None, method: str | None = None) -> bool:
        """Whether a rule matches (a redirect counts as a match)."""
        try:
            self.match(path_info, method)
        except RequestRedirect:
            return True
        except HTTPException:
            return False
        return True

    def allowed_methods(self, path_info: str | None = None) -> list[str]:
        """The methods of the HTTP rules matching ``path_info`` (default: the bound one)."""
        path = "/" + (self.path_info if path_info is None else path_info).lstrip("/")
        return sorted(self.map.allowed_methods(path, self._domain))

    def get_host(self, domain_part: str | None) -> str:
        """The host for a rule's domain: its host under host matching, else its
        subdomain joined to ``server_name`` (None: the current one)."""
        if self.map.host_matching:
            return domain_part or self.server_name
        subdomain = self.subdomain if domain_part is None else domain_part
        return f"{subdomain}.{self.server_name}" if subdomain else self.server_name

    def build(
        self,
        endpoint: str,
        values: Mapping[str, Any] | None = None,
        method: str | None = None,
        force_external: bool = False,
        append_unknown: bool = True,
        url_scheme: str | None = None,
    ) -> str:
        """The URL of ``endpoint`` for ``values``, as Werkzeug's ``MapAdapter.build``.

        A path under ``script_name`` when the rule is on the current subdomain
        or host, else (or with ``force_external``) ``scheme://host/path``; the
        scheme is ``url_scheme`` or the bound one (``//host/path`` when empty).
        Websocket rules are always whole ``ws://`` or ``wss://`` URLs. Without
        ``method``, rules for ``default_method`` are preferred. Unknown values
        become the query string unless ``append_unknown`` is false; raises
        :class:`BuildError` when no rule suits.
        """
        if isinstance(values, MultiDict):  # a list where a key repeats, as Werkzeug
            values = {k: v[0] if len(v) == 1 else v for k, v in values.to_dict(flat=False).items()}
        current = self.server_name if self.map.host_matching else None
        found = None
        if method is None:
            with contextlib.suppress(BuildError):
                found = self.map.build_with_domain(
                    endpoint, values, self.default_method, append_unknown, current
                )
        if found is None:
            found = self.map.build_with_domain(endpoint, values, method, append_unknown, current)
        domain, path, websocket = found
        return self._join(domain, path, force_external or websocket, url_scheme, websocket)

    def _url_for(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        method: str | None,
        external: bool,
        url_scheme: str | None,
    ) -> str:
        # What app.url_for builds: as build, but a websocket rule's URL is only
        # whole (ws:// or wss://) when asked for, as for an HTTP rule.
        current = self.server_name if self.map.host_matching else None
        domain, path, websocket = self.map.build_with_domain(
            endpoint, values, method, True, current
        )
        return self._join(domain, path, external, url_scheme, websocket)

    def _join(
        self, domain: str, path: str, external: bool, url_scheme: str | None, websocket: bool
    ) -> str:
        script = quote(self.script_name.rstrip("/"))
        on_current = (
            domain in ("", self.server_name) if self.map.host_matching else domain == self.subdomain
        )
        if on_current and not external:
            return script + path
        scheme = self.url_scheme if url_scheme is None else url_scheme
        if scheme:
            secure = scheme in ("https", "wss")
            scheme = (
                ("wss:" if secure else "ws:") if websocket else ("https:" if secure else "http:")
            )
        return f"{scheme}//{self.get_host(domain)}{script}{path}"
