"""Two checkouts of microasgi, the same in-process scenarios: did a change slow it down?

    python -m benchmarks.trees OLD NEW [--rounds 9] [--seconds 0.5]
                                       [--scenarios plaintext,json,path-param]

``OLD`` and ``NEW`` are source trees (``git worktree add /tmp/old <commit>``); the
typed scenarios (``typed-body``...) work too, between two trees that both have them. One
process cannot import two versions of a package, so each measurement is a child
process that puts its tree first on ``sys.path`` and runs that tree's own harness
(``benchmarks.inprocess.measure_http`` on ``benchmarks.apps.microasgi``, the best of
five short runs per scenario): the two trees alternate, the order rotating every
round, and the report gives per scenario the median requests/s of each tree, the
median of the per-round ratios NEW/OLD and the range of those ratios. Issue 15's bar:
untyped routes lose at most 2% against the commit before typed views.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
from typing import Any

DEFAULT_SCENARIOS = ("plaintext", "json", "path-param")


def _child(tree: str, names: list[str], seconds: float) -> None:
    """In the child: measure ``names`` on ``tree``'s microasgi, print JSON requests/s."""
    # Run as a script, sys.path[0] is this file's folder: the tree takes its place.
    sys.path[0] = tree
    import gc

    import microasgi

    where = pathlib.Path(microasgi.__file__).resolve()
    if not where.is_relative_to(pathlib.Path(tree).resolve()):
        raise SystemExit(f"microasgi came from {where}, not from {tree}")
    from benchmarks import inprocess
    from benchmarks.apps import PEER_BY_NAME
    from benchmarks.scenarios import SCENARIO_BY_NAME

    async def main() -> dict[str, float]:
        peer = PEER_BY_NAME["microasgi"]
        scenarios = [SCENARIO_BY_NAME[name] for name in names]
        kinds = {scenario.app for scenario in scenarios}
        apps = {kind: peer.load_typed() if kind == "typed" else peer.load() for kind in kinds}
        rates = {}
        for kind, app in apps.items():
            async with inprocess.Lifespan(app) as lifespan:
                gc.collect()
                gc.freeze()
                for scenario in scenarios:
                    if scenario.app == kind:
                        gc.collect()
                        # The best of 5 short runs: a busy neighbour only ever slows one down.
                        rates[scenario.name] = max(
                            [
                                await inprocess.measure_http(
                                    app, scenario, lifespan.state, seconds / 5, seconds / 10
                                )
                                for _ in range(5)
                            ]
                        )
        return {name: rates[name] for name in names}

    print(json.dumps(inprocess.run_async(main())))


def _measure(tree: str, names: list[str], seconds: float) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", tree, ",".join(names), str(seconds)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: the measurement failed:\n{done.stderr}")
    rates: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return rates


def compare(
    old: str, new: str, names: list[str], rounds: int, seconds: float, quiet: bool = False
) -> dict[str, Any]:
    """Interleaved rounds of both trees; ``{"samples": {tree: {scenario: [rps]}}}``."""
    samples: dict[str, dict[str, list[float]]] = {old: {}, new: {}}
    for index in range(rounds):
        order = [old, new] if index % 2 == 0 else [new, old]
        for tree in order:
            for name, rate in _measure(tree, names, seconds).items():
                samples[tree].setdefault(name, []).append(rate)
        if not quiet:
            print(f"round {index + 1}/{rounds} done", file=sys.stderr)
    return {"old": old, "new": new, "rounds": rounds, "seconds": seconds, "samples": samples}


def markdown(result: dict[str, Any]) -> list[str]:
    """The comparison as a markdown table."""
    old, new = result["old"], result["new"]
    samples = result["samples"]
    rows = [
        "| scenario | old req/s | new req/s | new ÷ old (median of per-round ratios) | "
        "ratio range | µs per request old → new |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in samples[old]:
        a, b = samples[old][name], samples[new][name]
        ratios = [y / x for x, y in zip(a, b, strict=False)]
        ma, mb = statistics.median(a), statistics.median(b)
        rows.append(
            f"| {name} | {ma / 1000:.1f}k | {mb / 1000:.1f}k | {statistics.median(ratios):.3f} | "
            f"{min(ratios):.3f}-{max(ratios):.3f} | {1e6 / ma:.2f} → {1e6 / mb:.2f} |"
        )
    return [
        f"old: `{old}`, new: `{new}`; {result['rounds']} interleaved rounds of "
        f"{result['seconds']:g} s per scenario (the best of 5 runs of a fifth of it), one "
        "process per tree and round.",
        "",
        *rows,
    ]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        _child(args[1], args[2].split(","), float(args[3]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.trees", description=__doc__)
    parser.add_argument("old", help="the source tree to compare against")
    parser.add_argument("new", help="the source tree under test")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS))
    parsed = parser.parse_args(args)
    names = [n for n in parsed.scenarios.split(",") if n]
    result = compare(parsed.old, parsed.new, names, parsed.rounds, parsed.seconds)
    print("\n".join(markdown(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
