"""``python -m tests.compat [--only NAME ...] [--report-only]``: see :mod:`tests.compat`."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import sys

from . import harness, report
from .extensions import EXTENSIONS

RESULTS = harness.SCRATCH / "results.json"


def main(argv: list[str] | None = None) -> int:
    """Run the suites asked for, keep their results, and rewrite docs/compatibility.md."""
    parser = argparse.ArgumentParser(prog="python -m tests.compat", description=__doc__)
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this extension (repeatable)"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite docs/compatibility.md from the last results, running nothing",
    )
    args = parser.parse_args(argv)
    known = {extension.name.lower(): extension for extension in EXTENSIONS}
    wanted = [name.lower() for name in args.only or known]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        parser.error(f"unknown extension(s) {', '.join(unknown)}; known: {', '.join(known)}")

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.report_only:
        for name in wanted:
            results[known[name].name] = _run(known[name])
            RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True))
    ordered = {e.name: results[e.name] for e in EXTENSIONS if e.name in results}
    report.write(ordered)
    harness.log(f"wrote {report.PAGE.relative_to(harness.ROOT)}")
    return 0


def _run(extension: harness.Extension) -> dict[str, object]:
    sdist = harness.fetch(extension)
    source = harness.unpack(extension, sdist)
    python = harness.venv(extension, sdist)
    installed = harness.versions(python)
    runs = {
        flavour: harness.run_suite(extension, python, source, microasgi=flavour == "microasgi")
        for flavour in ("flask", "microasgi")
    }
    return {
        "name": extension.name,
        "version": extension.version,
        "note": extension.note,
        "date": datetime.date.today().isoformat(),
        "versions": {
            name: installed.get(name.lower(), "?")
            for name in ("flask", "werkzeug", extension.name, "microasgi")
        },
        **{flavour: dataclasses.asdict(run) for flavour, run in runs.items()},
    }


if __name__ == "__main__":
    sys.exit(main())
