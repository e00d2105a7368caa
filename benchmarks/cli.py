"""``python -m benchmarks``: run the benchmark passes (see ``benchmarks/README.md``)."""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from . import inprocess, network, report, router, typed
from .apps import PEERS, TARGETS, Peer, Target
from .progress import Progress
from .scenarios import SCENARIOS, TYPED_SCENARIOS, Scenario

RESULTS = pathlib.Path(__file__).parent / "results"
MODES = ("inprocess", "router", "network", "rss")
BASELINES = ("raw", "starlette")


@dataclass
class Pass:
    """How much of everything a pass runs."""

    rounds: int
    seconds: float
    router_seconds: float
    wrk_seconds: float
    warmup: float
    network_rounds: int
    network_targets: list[str] | None
    network_scenarios: list[str] | None
    rss_rounds: int
    rss_full: bool
    connections: int = 64
    modes: tuple[str, ...] = field(default=MODES)


QUICK = Pass(
    rounds=3,
    seconds=0.15,
    router_seconds=0.1,
    wrk_seconds=3,
    warmup=1,
    network_rounds=2,
    network_targets=["raw", "raw·granian", "floor", "starlette", "microasgi", "microasgi·granian"],
    network_scenarios=["plaintext", "json"],
    rss_rounds=1,
    rss_full=False,
)
# The network mode leaves out the routing scenarios but one, to fit ~25 minutes. On a noisy
# machine more short rounds beat fewer long ones: 5 x 2 s per (server, scenario).
FULL = Pass(
    rounds=5,
    seconds=0.3,
    router_seconds=0.2,
    wrk_seconds=2,
    warmup=1,
    network_rounds=5,
    network_targets=None,
    network_scenarios=[
        "plaintext",
        "json",
        "path-param",
        "post-json",
        "sync",
        "fortunes",
        "static-1mb",
        "github-param",
        "websocket",
    ],
    rss_rounds=3,
    rss_full=True,
)
# The typed-routes set (benchmarks/typed.py): in-process only, more and shorter rounds, as
# the costs it reports are differences of two measurements (taken back to back: paired).
TYPED = Pass(
    rounds=15,
    seconds=0.2,
    router_seconds=0,
    wrk_seconds=0,
    warmup=0,
    network_rounds=0,
    network_targets=None,
    network_scenarios=None,
    rss_rounds=0,
    rss_full=False,
    modes=("inprocess",),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Throughput of microasgi and its peers: in-process, over the network, "
        "the router alone, and idle memory.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_true", help="the short pass (default, ~2-3 min)")
    which.add_argument("--full", action="store_true", help="everything (~25 min)")
    which.add_argument(
        "--selfcheck",
        action="store_true",
        help="one checked request per (app, in-process scenario), then exit",
    )
    parser.add_argument(
        "--only",
        help="comma-separated peers (e.g. microasgi,fastapi); raw and starlette always run "
        "as the baselines of the ratios",
    )
    parser.add_argument(
        "--set",
        choices=("main", "typed"),
        default="main",
        help="the scenario set: main (default), or typed (typed routes against their untyped "
        "twins in microasgi, Litestar and FastAPI, in-process; and the spec of 1,000 routes)",
    )
    parser.add_argument("--mode", help=f"comma-separated subset of {','.join(MODES)}")
    parser.add_argument("--scenarios", help="comma-separated scenario names")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (in-process and router)")
    parser.add_argument("--seconds", type=float, help="seconds per in-process measurement")
    parser.add_argument("--network-rounds", type=int, help="interleaved rounds over the network")
    parser.add_argument("--wrk-seconds", type=float, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, help="wrk connections (default 64)")
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        help="results folder (default: a new one in benchmarks/results/)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--render",
        type=pathlib.Path,
        metavar="DIR",
        help="only rewrite DIR/results.md and DIR/chart.png from DIR/results.json",
    )
    return parser


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def _matches(name: str, wanted: list[str]) -> bool:
    return any(name == w or name.startswith((w + "+", w + "·")) for w in wanted)


def select(
    only: list[str] | None, scenario_names: list[str] | None, scenario_set: str = "main"
) -> tuple[list[Peer], list[Target], list[Scenario]]:
    known = {p.name for p in PEERS} | {t.name for t in TARGETS} | {"flask"}
    for name in only or []:
        if not _matches(name, sorted(known)) and name not in known:
            raise SystemExit(f"unknown peer {name!r}; known: {', '.join(sorted(known))}")
    pool = TYPED_SCENARIOS if scenario_set == "typed" else SCENARIOS
    scenarios = pool
    if scenario_names and scenario_set == "typed":  # a cost needs both routes of a pair
        names = [n.removeprefix("un").removeprefix("typed-") for n in scenario_names]
        scenario_names = [f"{kind}-{n}" for n in names for kind in ("typed", "untyped")]
    if scenario_names:
        unknown = set(scenario_names) - {s.name for s in pool}
        if unknown:
            raise SystemExit(
                f"unknown scenarios {sorted(unknown)}; known: {[s.name for s in pool]}"
            )
        scenarios = [s for s in pool if s.name in scenario_names]
    if scenario_set == "typed":
        peers = [p for p in PEERS if p.typed and (not only or _matches(p.name, only))]
        return peers, [], scenarios
    if not only:
        return PEERS, TARGETS, scenarios
    wanted = [*BASELINES, *only]
    peers = [p for p in PEERS if _matches(p.name, wanted)]
    targets = [t for t in TARGETS if _matches(t.name, wanted) or t.peer in {p.name for p in peers}]
    return peers, targets, scenarios


def _selfcheck(peers: list[Peer], scenarios: list[Scenario]) -> int:
    started = time.monotonic()
    rows = inprocess.run_async(inprocess.selfcheck(peers, scenarios))
    failed = [row for row in rows if row[2]]
    width = max(len(app) for _, app, _ in rows)
    for scenario, app, problem in rows:
        print(f"{'FAIL' if problem else 'ok  '}  {scenario:<14} {app:<{width}}  {problem}")
    print(
        f"selfcheck: {len(rows) - len(failed)} passed, {len(failed)} failed "
        f"({time.monotonic() - started:.1f}s)"
    )
    return 1 if failed else 0


def write_report(results: dict[str, Any], out: pathlib.Path) -> str:
    """Write ``results.md`` and ``chart.png`` into ``out``; return the markdown."""
    text = report.markdown(results)
    if report.chart(results, str(out / "chart.png")):
        text += "\n![chart](chart.png)\n"
    (out / "results.md").write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.render:
        saved = json.loads((args.render / "results.json").read_text())
        print(write_report(saved, args.render))
        return 0
    peers, targets, scenarios = select(_names(args.only), _names(args.scenarios), args.set)
    if args.selfcheck:
        return _selfcheck(peers, scenarios)
    preset = TYPED if args.set == "typed" else FULL if args.full else QUICK
    modes = _names(args.mode) or list(preset.modes)
    for mode in modes:
        if mode not in MODES:
            raise SystemExit(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
        if mode not in preset.modes:
            raise SystemExit(f"the {args.set} set runs only {', '.join(preset.modes)}")
    rounds = args.rounds or preset.rounds
    seconds = args.seconds or preset.seconds
    network_rounds = args.network_rounds or preset.network_rounds
    wrk_seconds = args.wrk_seconds or preset.wrk_seconds
    connections = args.connections or preset.connections
    net_targets = targets
    net_scenarios = scenarios
    if preset.network_targets is not None and not args.only:
        net_targets = [t for t in targets if t.name in preset.network_targets]
    if preset.network_scenarios is not None and not args.scenarios:
        net_scenarios = [s for s in scenarios if s.name in preset.network_scenarios]
    routing = [s for s in scenarios if s.app != "main"]
    rss_apps = dict(network.RSS_APPS)
    if preset.rss_full:
        rss_apps.update(network.RSS_FULL_APPS)

    started = datetime.datetime.now()
    out = args.out or RESULTS / started.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "pass": "typed" if args.set == "typed" else "full" if args.full else "quick",
        "command": "python -m benchmarks " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "modes": modes,
        "loop": inprocess.loop_name(),
        "peers": [p.name for p in peers],
        "targets": [t.name for t in net_targets],
        "scenarios": [s.name for s in scenarios],
        "rounds": rounds,
        "seconds": seconds,
        "router_seconds": preset.router_seconds,
        "matchers": router.MATCHERS,
        "network_rounds": network_rounds,
        "wrk_seconds": wrk_seconds,
        "warmup": preset.warmup,
        "connections": connections,
        "rss_rounds": preset.rss_rounds,
    }
    results: dict[str, Any] = {
        "started": started.strftime("%Y-%m-%d %H:%M"),
        "config": config,
        "machine": report.machine(),
        "load_start": report.load_average(),
    }
    total = 0
    if "inprocess" in modes:
        total += rounds * sum(len(names) for _, names in inprocess.plan(peers, scenarios))
    if "router" in modes and routing:
        total += router.steps(rounds)
    if "network" in modes:
        total += network.steps(net_targets, net_scenarios, network_rounds)
    if "rss" in modes:
        total += preset.rss_rounds * len(rss_apps)
    spec = args.set == "typed" and any(p.name == "microasgi" for p in peers)
    total += 1 if spec else 0
    progress = Progress(total, enabled=not args.no_progress)
    clock = time.monotonic()
    timings: dict[str, float] = results.setdefault("timings_s", {})

    def lap(mode: str, since: float) -> float:
        now = time.monotonic()
        timings[mode] = round(now - since, 1)
        return now

    try:
        mark = clock
        if "inprocess" in modes:
            measured = inprocess.run_async(
                inprocess.run(
                    peers, scenarios, rounds, seconds, progress, paired=args.set == "typed"
                )
            )
            results["inprocess"] = measured.to_json()
            mark = lap("inprocess", mark)
        if "router" in modes and routing:
            results["router"] = router.run(rounds, preset.router_seconds, progress).to_json()
            mark = lap("router", mark)
        if "network" in modes:
            net = network.run(
                net_targets,
                net_scenarios,
                network_rounds,
                wrk_seconds,
                preset.warmup,
                connections,
                out,
                progress,
            )
            results["network"] = net.to_json()
            config["scenarios_network"] = [s.name for s in net_scenarios if s.network]
            mark = lap("network", mark)
        if "rss" in modes:
            results["rss"] = network.measure_rss(rss_apps, preset.rss_rounds, out, progress)
            mark = lap("rss", mark)
        if spec:
            progress.step(f"app.openapi() of {typed.SPEC_ROUTES} typed routes")
            seconds_each = typed.spec_build_seconds()
            results["spec"] = {"routes": typed.SPEC_ROUTES, "seconds": seconds_each}
            mark = lap("spec", mark)
    finally:
        progress.close()
    results["duration_s"] = round(time.monotonic() - clock, 1)
    results["load_end"] = report.load_average()

    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    text = write_report(results, out)
    charted = (out / "chart.png").exists()
    for lua in out.glob("wrk-*.lua"):
        lua.unlink()
    print(text)
    print(f"results: {out}/results.md, results.json" + (", chart.png" if charted else ""))
    print(f"took {results['duration_s'] / 60:.1f} min")
    if shutil.which("wrk") is None and "network" in modes:
        print("note: wrk is missing (apt-get install -y wrk); the network mode did not run")
    return 0
