"""Router micro-benchmark: match the same paths against the same route tables with
microasgi's ``Map``, Werkzeug's ``Map`` and Starlette's router.

No app, no request: just the matcher, the way each framework calls it.

- microasgi: ``Map().add(Rule(...))``, then ``map.match(path, "GET")``; a miss
  raises ``NotFound``.
- Werkzeug: ``Map([Rule(...)]).bind("localhost")`` once, then
  ``adapter.match(path, method="GET")``; a miss raises ``NotFound``.
- Starlette: what ``Router.app`` does per request, without the ASGI call:
  ``route.matches(scope)`` over the routes in order until a full match, and on
  a miss, as its default ``redirect_slashes=True`` does, a second pass with the
  trailing slash toggled.

Every call's result (the route and its converted parameters) is checked against
:func:`benchmarks.routes_github.reference_match`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .progress import Progress
from .routes_github import (
    GITHUB_API,
    GITHUB_DEEP,
    GITHUB_LAST_PARAM,
    GITHUB_LAST_STATIC,
    GITHUB_MISS,
    RouteSpec,
    many_routes,
    reference_match,
    to_syntax,
)

Result = tuple[str, dict[str, Any]] | None
Matcher = Callable[[str], Result]

# (case name, table, path): the routing scenarios of the in-process runner.
CASES: list[tuple[str, str, str]] = [
    ("github-static", "github", GITHUB_LAST_STATIC),
    ("github-param", "github", GITHUB_LAST_PARAM),
    ("github-deep", "github", GITHUB_DEEP),
    ("github-404", "github", GITHUB_MISS),
    ("many-first", "many", "/route0/7"),
    ("many-last", "many", "/route499/7"),
]
MATCHERS = ["microasgi", "werkzeug", "starlette"]


def microasgi_matcher(routes: list[RouteSpec]) -> Matcher:
    from microasgi.exceptions import HTTPException
    from microasgi.routing import Map, Rule

    urls = Map()
    for route in routes:
        urls.add(
            Rule(to_syntax(route.path, "flask"), endpoint=str(route.index), methods=[route.method])
        )

    def match(path: str) -> Result:
        try:
            rule, values = urls.match(path, "GET")
        except HTTPException:
            return None
        return rule.endpoint, values

    return match


def werkzeug_matcher(routes: list[RouteSpec]) -> Matcher:
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import Map, Rule

    adapter = Map(
        [
            Rule(to_syntax(r.path, "flask"), endpoint=str(r.index), methods=[r.method])
            for r in routes
        ]
    ).bind("localhost")

    def match(path: str) -> Result:
        try:
            endpoint, values = adapter.match(path, method="GET")
        except HTTPException:
            return None
        return str(endpoint), dict(values)

    return match


def starlette_matcher(routes: list[RouteSpec]) -> Matcher:
    from starlette.routing import Match, Route

    async def endpoint(request: Any) -> None:  # never called
        return None

    table = [
        Route(to_syntax(r.path, "starlette"), endpoint, methods=[r.method], name=str(r.index))
        for r in routes
    ]
    full = Match.FULL
    none = Match.NONE

    def match(path: str) -> Result:
        scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        for route in table:
            found, child = route.matches(scope)
            if found is full:
                return route.name, child["path_params"]
        # (a PARTIAL match, another method, would be a 405: none in these cases)
        other = path[:-1] if path.endswith("/") else path + "/"
        redirect = {**scope, "path": other}
        for route in table:
            found, _ = route.matches(redirect)
            if found is not none:
                return None  # a redirect
        return None

    return match


BUILDERS: dict[str, Callable[[list[RouteSpec]], Matcher]] = {
    "microasgi": microasgi_matcher,
    "werkzeug": werkzeug_matcher,
    "starlette": starlette_matcher,
}


def _expected(routes: list[RouteSpec], path: str) -> Result:
    found = reference_match(routes, "GET", path)
    return None if found is None else (str(found[0].index), found[1])


def measure(match: Matcher, path: str, expected: Result, seconds: float) -> float:
    """Matches per second over ``seconds``; every result is checked."""
    perf = time.perf_counter
    count = 0
    start = perf()
    deadline = start + seconds
    while True:
        for _ in range(100):
            if match(path) != expected:
                raise AssertionError(f"{path}: {match(path)!r}, expected {expected!r}")
        count += 100
        now = perf()
        if now >= deadline:
            return count / (now - start)


@dataclass
class RouterResults:
    """``samples[case][matcher]``: matches per second of each round."""

    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    failures: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"samples": self.samples, "failures": self.failures}


def run(
    rounds: int, seconds: float, progress: Progress, matchers: list[str] | None = None
) -> RouterResults:
    names = matchers or MATCHERS
    tables = {"github": GITHUB_API, "many": many_routes(500)}
    built = {
        (name, table): BUILDERS[name](routes) for name in names for table, routes in tables.items()
    }
    results = RouterResults()
    for round_index in range(rounds):
        for case, table, path in CASES:
            expected = _expected(tables[table], path)
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                progress.step(f"router r{round_index + 1}/{rounds} {case} · {name}")
                if name in results.failures.get(case, {}):
                    continue
                gc.collect()
                try:
                    rate = measure(built[name, table], path, expected, seconds)
                except Exception as exc:
                    results.failures.setdefault(case, {})[name] = repr(exc)[:300]
                    continue
                results.samples.setdefault(case, {}).setdefault(name, []).append(rate)
    return results


def steps(rounds: int, matchers: list[str] | None = None) -> int:
    return rounds * len(CASES) * len(matchers or MATCHERS)
