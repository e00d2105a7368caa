"""CPU instructions per request, counted by valgrind's callgrind: a measure the load of a
shared machine does not move.

    python -m benchmarks.instructions                      # the typed set, 3 frameworks
    python -m benchmarks.instructions --tree /tmp/old --peers microasgi \\
        --scenarios plaintext,json,path-param              # another checkout, untyped

Each (peer, scenario) runs in two child processes under ``valgrind --tool=callgrind``,
one serving ``--base`` requests and one ``--base + --extra``; the difference of their
totals divided by ``--extra`` is the instructions of one request, with start-up and
import costs gone. The children put ``--tree`` first on ``sys.path`` and use that tree's
harness and apps, as :mod:`benchmarks.trees` does. For the typed scenarios the report
adds each framework's cost (typed - untyped) and microasgi's cost ÷ each other's.
Needs ``valgrind``; two children run at a time. Slow: ~20 s per child.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import pathlib
import re
import shutil
import subprocess
import sys

DEFAULT_PEERS = ("microasgi", "litestar", "fastapi")
_COLLECTED = re.compile(r"Collected : (\d+)")


def _child(tree: str, peer_name: str, name: str, count: int) -> None:
    """In the child: serve ``count`` requests of scenario ``name`` (the first checked)."""
    sys.path[0] = tree  # run as a script, sys.path[0] is this file's folder
    import asyncio

    from benchmarks import inprocess
    from benchmarks.apps import PEER_BY_NAME
    from benchmarks.scenarios import SCENARIO_BY_NAME

    scenario = SCENARIO_BY_NAME[name]
    peer = PEER_BY_NAME[peer_name]
    app = peer.load_typed() if scenario.app == "typed" else peer.load()
    base = inprocess.http_scope(scenario)
    request = {"type": "http.request", "body": scenario.body, "more_body": False}

    async def main() -> None:
        status, body = await inprocess._http_once(app, base, request, {})
        problem = scenario.check(status, body)
        if problem:
            raise SystemExit(f"{peer_name} {name}: {problem}")
        for _ in range(count - 1):
            exchange = inprocess._Exchange(request)
            scope = base.copy()
            scope["state"] = {}
            await app(scope, exchange.receive, exchange.send)

    asyncio.run(main())


def _total(tree: str, peer: str, name: str, count: int) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        tree,
        peer,
        name,
        str(count),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{peer} {name} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def count(tree: str, peer: str, name: str, base: int = 100, extra: int = 500) -> int:
    """Instructions per request of ``name`` on ``peer``, in ``tree``."""
    return (_total(tree, peer, name, base + extra) - _total(tree, peer, name, base)) // extra


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        _child(args[1], args[2], args[3], int(args[4]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    parser.add_argument("--tree", default=str(pathlib.Path(__file__).resolve().parent.parent))
    parser.add_argument("--peers", default=",".join(DEFAULT_PEERS))
    parser.add_argument("--scenarios", help="default: the typed set")
    parser.add_argument("--base", type=int, default=100)
    parser.add_argument("--extra", type=int, default=500)
    parsed = parser.parse_args(args)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is missing (apt-get install -y valgrind)")
    from .scenarios import TYPED_PAIRS

    peers = [p for p in parsed.peers.split(",") if p]
    if parsed.scenarios:
        names = [n for n in parsed.scenarios.split(",") if n]
    else:
        names = [s.name for pair in TYPED_PAIRS for s in pair]
    jobs = [(peer, name) for name in names for peer in peers]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {
            job: pool.submit(count, parsed.tree, *job, parsed.base, parsed.extra) for job in jobs
        }
        result = {job: future.result() for job, future in futures.items()}
    print(f"instructions per request (callgrind), tree `{parsed.tree}`\n")
    print("| scenario | " + " | ".join(peers) + " |")
    print("|---|" + "---:|" * len(peers))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{result[p, name]:,}" for p in peers) + " |")
    pairs = [(t.name, u.name) for t, u in TYPED_PAIRS if t.name in names and u.name in names]
    if pairs:
        print("\ncost (typed - untyped) per request; microasgi's ÷ each other's\n")
        others = [p for p in peers if p != "microasgi"]
        print("| scenario | " + " | ".join(peers) + "".join(f" | ÷ {o}" for o in others) + " |")
        print("|---|" + "---:|" * (len(peers) + len(others)))
        for typed, untyped in pairs:
            costs = {p: result[p, typed] - result[p, untyped] for p in peers}
            cells = [f"{costs[p]:+,}" for p in peers]
            if "microasgi" in costs:
                for other in others:
                    ours, theirs = costs["microasgi"], costs[other]
                    text = "ours ≤ 0" if ours <= 0 else "theirs ≤ 0" if theirs <= 0 else ""
                    cells.append(text or f"{ours / theirs:.2f}\u00d7")
            print(f"| {typed.removeprefix('typed-')} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
