"""Long-running fuzz target: the robustness property of tests/fuzz/harness.py, for minutes.

    .venv/bin/python -m tests.fuzz.run_fuzz --minutes 5 [--report fuzz-report.json]

Runs batches of hypothesis examples against the fuzz app (tests/apps/robust_fuzz_app.py)
on one event loop, as a server would, until the time is up. Rather than stopping
at the first failure, every violation is recorded under a signature (the logged
exception's type and innermost framework frame, or the kind of violation), and the
smallest example of each is printed at the end. Exit status 1 if anything was found.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import anyio.from_thread
from hypothesis import HealthCheck, Phase, given, settings

from tests.apps.robust_fuzz_app import make_app
from tests.fuzz.harness import (
    LOGGERS,
    Exchange,
    error_log,
    exchanges,
    health_exchange,
    run_exchange,
    session_cookies,
    violations,
)


def signature(problems: list[str], records: list[Any]) -> str:
    """A short key grouping violations with the same cause."""
    for record in records:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if "/microasgi/" in f.filename] or frames
            where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
            last = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
            return f"{type(exc).__name__} at {where} (raised at {last})"
    first = problems[0].splitlines()[0]
    return re.sub(r"\d+", "N", first)[:120]


class Findings:
    def __init__(self) -> None:
        self.by_signature: dict[str, dict[str, Any]] = {}
        self.examples = 0

    def add(self, exchange: Exchange, problems: list[str], records: list[Any]) -> None:
        key = signature(problems, records)
        text = exchange.describe()
        entry = self.by_signature.get(key)
        if entry is None:
            self.by_signature[key] = {"count": 1, "example": text, "problems": problems}
            print(f"\n*** NEW: {key}\n{text[:1500]}\n{problems[0][:1500]}", flush=True)
        else:
            entry["count"] += 1
            if len(text) < len(entry["example"]):
                entry["example"], entry["problems"] = text, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--batch", type=int, default=500, help="hypothesis examples per batch")
    parser.add_argument("--report", type=Path, default=None, help="write findings as JSON")
    args = parser.parse_args()

    findings = Findings()
    deadline = time.monotonic() + args.minutes * 60
    # Objects finalized with an error (an unclosed file's ResourceWarning, a coroutine
    # never awaited): collected at the end of each batch, reported as findings.
    unraisable: list[str] = []
    warnings.simplefilter("always", ResourceWarning)
    sys.unraisablehook = lambda u: unraisable.append(
        f"{u.err_msg or 'unraisable'}: {u.exc_type.__name__}: {u.exc_value} ({u.object!r:.100})"
    )
    with (
        tempfile.TemporaryDirectory() as static,
        anyio.from_thread.start_blocking_portal() as portal,
    ):
        app = make_app(Path(static))
        cookies = session_cookies(app)

        async def one(exchange: Exchange) -> None:
            with error_log(*LOGGERS) as log:
                wire, raised = await run_exchange(app, exchange)
                problems = violations(wire, raised, log)
                records = list(log.records)
            with error_log(*LOGGERS) as log:
                health, health_raised = await run_exchange(app, health_exchange(), timeout=10)
            if (
                health_raised is not None
                or not health.messages
                or (health.messages[0].get("status") != 200)
            ):
                problems.append(
                    f"the next request failed: {health.messages[:1]!r} {health_raised!r}"
                )
            findings.examples += 1
            if problems:
                findings.add(exchange, problems, records)

        @settings(
            max_examples=args.batch,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(exchanges(cookies))
        def batch(exchange: Exchange) -> None:
            if time.monotonic() < deadline:
                portal.call(one, exchange)

        batches = 0
        while time.monotonic() < deadline:
            batch()
            batches += 1
            gc.collect()
            for text in unraisable:  # grouped by signature(): the text, digits masked
                example = Exchange({"batch": batches}, [])  # not attributable to one example
                findings.add(example, [text], [])
            unraisable.clear()
            print(
                f"[{time.strftime('%H:%M:%S')}] batch {batches}: {findings.examples} examples, "
                f"{len(findings.by_signature)} distinct findings",
                flush=True,
            )

    print(f"\n=== {findings.examples} examples, {len(findings.by_signature)} distinct findings")
    for key, entry in sorted(findings.by_signature.items(), key=lambda kv: -kv[1]["count"]):
        print(f"\n--- {key}  (x{entry['count']})\n{entry['example'][:2000]}")
        print("\n".join(p[:2500] for p in entry["problems"]))
    if args.report is not None:
        args.report.write_text(
            json.dumps({"examples": findings.examples, "findings": findings.by_signature}, indent=1)
        )
    return 1 if findings.by_signature else 0


if __name__ == "__main__":
    sys.exit(main())
