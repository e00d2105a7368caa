"""The typed-routes set: what validating typed parameters costs, per framework.

``python -m benchmarks --set typed`` runs the in-process mode on the typed
scenarios of :mod:`benchmarks.scenarios` (:data:`~benchmarks.scenarios.TYPED_PAIRS`):
each request to a typed route beside the same request to the framework's
untyped twin (the same URL work done by hand), every framework interleaved in
every round. A framework's *cost* for a scenario is
``µs per request (typed) - µs per request (untyped)``, computed per round (both
measured moments apart) and reported as the median of the rounds. It also times
``app.openapi()`` on a 1,000-route typed microasgi app (:func:`spec_build_seconds`).

The bars of issue 15: microasgi's cost is at most 1.1x Litestar's and at most
0.5x FastAPI's on (b) and (c); the spec of 1,000 routes builds in under 2 s.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Annotated, Any

import msgspec

from .report import TIMES, _table
from .scenarios import SCENARIO_BY_NAME, TYPED_PAIRS

#: The frameworks compared, in the tables' order.
FRAMEWORKS = ("microasgi", "litestar", "fastapi")
#: Scenarios the cost bars apply to, and the bars: microasgi's cost / theirs at most.
BAR_SCENARIOS = ("typed-body", "typed-nested")
BARS = {"litestar": 1.1, "fastapi": 0.5}
SPEC_ROUTES = 1000
SPEC_BAR_SECONDS = 2.0


def _us(rates: list[float]) -> list[float]:
    return [1e6 / r for r in rates]


def costs(samples: dict[str, dict[str, list[float]]], typed: str, app: str) -> list[float]:
    """Per round: µs per typed request minus µs per request of its untyped twin."""
    untyped = "un" + typed
    t = _us(samples.get(typed, {}).get(app, []))
    u = _us(samples.get(untyped, {}).get(app, []))
    return [a - b for a, b in zip(t, u, strict=False)]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _spread_us(values: list[float]) -> str:
    """± half the interquartile range of the rounds (the range is one outlier's on a busy
    machine)."""
    if len(values) < 4:
        return ""
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f"±{(q3 - q1) / 2:.1f}"


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def verdict(ours: float | None, theirs: float | None, bar: float) -> tuple[str, bool]:
    """The ratio of two median costs as text, and whether ``ours <= bar * theirs``.

    A cost at or below zero (the typed route no slower than the untyped one) has no
    meaningful ratio: ours at or below zero meets any bar; theirs at or below zero
    with ours above it misses every bar.
    """
    if ours is None or theirs is None:
        return "—", False
    if ours <= 0:
        return "ours ≤ 0", True
    if theirs <= 0:
        return "theirs ≤ 0", False
    return f"{ours / theirs:.2f}{TIMES}", ours <= bar * theirs


def paired_us_ratio(samples: dict[str, dict[str, list[float]]], name: str, other: str) -> str:
    """microasgi's µs per request ÷ ``other``'s, the median of the per-round ratios."""
    ours = samples.get(name, {}).get("microasgi", [])
    theirs = samples.get(name, {}).get(other, [])
    ratios = [b / a for a, b in zip(ours, theirs, strict=False) if a]  # rps: inverse
    return f"{statistics.median(ratios):.2f}{TIMES}" if ratios else "—"


def markdown(results: dict[str, Any]) -> list[str]:
    """The typed-routes tables: µs per request, costs, ratios and bars."""
    data = results["inprocess"]
    config = results["config"]
    samples: dict[str, dict[str, list[float]]] = data["samples"]
    apps = [a for a in FRAMEWORKS if a in config["peers"] and a not in data["unavailable"]]
    out = [
        "## Typed routes: the cost of validation",
        "",
        f"µs per request (median of {config['rounds']} interleaved rounds of "
        f"{config['seconds']:g} s; ± half the interquartile range of the rounds), typed route "
        "and its untyped twin, measured back to back; cost = typed - untyped, computed per "
        "round, median. Every response checked.",
        "",
    ]
    pairs = [(t, u) for t, u in TYPED_PAIRS if t.name in samples and u.name in samples]
    rows = []
    for typed, untyped in pairs:
        row = [SCENARIO_BY_NAME[typed.name].title.removesuffix(", typed")]
        for app in apps:
            t = _us(samples.get(typed.name, {}).get(app, []))
            u = _us(samples.get(untyped.name, {}).get(app, []))
            c = costs(samples, typed.name, app)
            row += [
                f"{_fmt(_median(t))} {_spread_us(t)}".strip(),
                f"{_fmt(_median(u))} {_spread_us(u)}".strip(),
                f"**{_fmt(_median(c))}** {_spread_us(c)}".strip(),
            ]
        rows.append(row)
    header = ["scenario"]
    for app in apps:
        header += [f"{app} typed", f"{app} untyped", f"{app} cost"]
    out += [*_table(header, rows), ""]
    others = [a for a in apps if a != "microasgi"]
    if "microasgi" in apps and others:
        rows = []
        for typed, _ in pairs:
            row = [SCENARIO_BY_NAME[typed.name].title.removesuffix(", typed")]
            ours = _median(costs(samples, typed.name, "microasgi"))
            for other in others:
                text, met = verdict(ours, _median(costs(samples, typed.name, other)), BARS[other])
                if typed.name in BAR_SCENARIOS:
                    text += f" ({'meets' if met else 'MISSES'} ≤ {BARS[other]}{TIMES})"
                row.append(text)
            for other in others:
                row.append(paired_us_ratio(samples, typed.name, other))
            rows.append(row)
        header = ["scenario", *(f"cost ÷ {o}" for o in others)]
        header += [f"typed µs ÷ {o}" for o in others]
        out += [
            "microasgi's median cost ÷ each framework's (the bars apply to (b) and (c)), and "
            "microasgi's typed route's µs per request ÷ theirs (median of the per-round "
            "ratios):",
            "",
            *_table(header, rows),
            "",
        ]
    spec = results.get("spec")
    if spec:
        best = min(spec["seconds"])
        out += [
            f"`app.openapi()` of a {spec['routes']}-route typed microasgi app: "
            f"{best:.2f} s (best of {len(spec['seconds'])}; all: "
            f"{', '.join(f'{s:.2f}' for s in spec['seconds'])}) — "
            f"{'meets' if best < SPEC_BAR_SECONDS else 'MISSES'} the < {SPEC_BAR_SECONDS:g} s bar.",
            "",
        ]
    return out


# -- the spec of a large app ------------------------------------------------------------


def spec_app(resources: int) -> Any:
    """A typed microasgi app of ``4 * resources`` routes: per resource, its own two models
    (``ThingN``, ``ThingNIn``) and GET one, GET a page (two query parameters), POST, DELETE."""
    from microasgi import MicroASGI, Query

    app = MicroASGI(__name__, static_folder=None)
    page = Annotated[int, Query(), msgspec.Meta(ge=1, le=100)]
    for i in range(resources):
        fields: list[Any] = [
            ("name", Annotated[str, msgspec.Meta(min_length=1)]),
            ("price", float),
            ("quantity", int),
            ("tags", list[str]),
            ("note", str | None, None),
        ]
        thing_in = msgspec.defstruct(f"Thing{i}In", fields, kw_only=True)
        thing = msgspec.defstruct(f"Thing{i}", [("id", int)], bases=(thing_in,), kw_only=True)

        def get_one(thing_id: int) -> Any:
            """Get one."""

        def get_page(limit: Any = 20, offset: Any = 0) -> Any:
            """A page of them."""

        def create(body: Any) -> Any:
            """Create one."""

        def delete(thing_id: int) -> Any:
            """Delete one."""

        get_one.__annotations__ = {"thing_id": int, "return": thing}
        get_page.__annotations__ = {"limit": page, "offset": int, "return": list[thing]}
        create.__annotations__ = {"body": thing_in, "return": thing}
        delete.__annotations__ = {"thing_id": int}
        base = f"/things{i}"
        app.add_url_rule(f"{base}/<int:thing_id>", f"get{i}", get_one, methods=["GET"])
        app.add_url_rule(base, f"page{i}", get_page, methods=["GET"])
        app.add_url_rule(base, f"create{i}", create, methods=["POST"], status_code=201)
        app.add_url_rule(f"{base}/<int:thing_id>", f"delete{i}", delete, methods=["DELETE"])
    return app


def spec_build_seconds(routes: int = SPEC_ROUTES, rounds: int = 3) -> list[float]:
    """Seconds ``app.openapi()`` takes on a ``routes``-route typed app, each round a new app
    (so nothing is cached from the round before)."""
    times = []
    for _ in range(rounds):
        app = spec_app(routes // 4)
        gc.collect()
        start = time.perf_counter()
        doc = app.openapi()
        times.append(time.perf_counter() - start)
        operations = sum(len(item) for item in doc["paths"].values())
        if operations != routes:
            raise AssertionError(f"{operations} operations in the spec, expected {routes}")
    return times
