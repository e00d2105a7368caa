"""Results: machine details, the markdown tables and the bar chart."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

from .apps import PEER_BY_NAME, TARGET_BY_NAME
from .scenarios import BRIDGE_LIMIT, SCENARIO_BY_NAME

TIMES = "\u00d7"  # the multiplication sign of "0.85x"

PACKAGES = [
    "microasgi",
    "starlette",
    "fastapi",
    "pydantic",
    "msgspec",
    "quart",
    "litestar",
    "blacksheep",
    "falcon",
    "flask",
    "werkzeug",
    "a2wsgi",
    "jinja2",
    "anyio",
    "uvicorn",
    "granian",
    "gunicorn",
    "uvloop",
    "httptools",
    "websockets",
    "matplotlib",
    "tqdm",
]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _wrk_version() -> str:
    try:
        completed = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    text = (completed.stdout + completed.stderr).strip().splitlines()
    return text[0].split(" Copyright")[0] if text else "unknown"


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["wrk"] = _wrk_version()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory": _memory(),
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
        "packages": versions,
    }


# -- formatting ---------------------------------------------------------------


def rate(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100_000:
        return f"{value / 1000:,.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}"


def ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "—"
    return f"{value / base:.2f}{TIMES}"


def paired_ratio(values: Sequence[float], base: Sequence[float]) -> str:
    """The median of the per-round ratios ``values[i] / base[i]``.

    Both were measured in the same round, moments apart: the ratio cancels most
    of the drift of the machine's load from one round to the next.
    """
    ratios = [v / b for v, b in zip(values, base, strict=False) if b]
    return f"{statistics.median(ratios):.2f}{TIMES}" if ratios else "—"


def spread(values: Sequence[float]) -> str:
    """(max - min) / median of the rounds, as a percentage."""
    if len(values) < 2:
        return "—"
    return f"{(max(values) - min(values)) / statistics.median(values) * 100:.0f}%"


def _median(samples: Sequence[float]) -> float | None:
    return statistics.median(samples) if samples else None


class _Notes:
    """Numbered footnotes."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def mark(self, text: str) -> str:
        if text not in self.items:
            self.items.append(text)
        return f" [{self.items.index(text) + 1}]"

    def lines(self) -> list[str]:
        return [f"[{i + 1}] {text}  " for i, text in enumerate(self.items)]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _cell(
    scenario: str,
    app: str,
    value: str,
    failures: dict[str, dict[str, str]],
    supported: bool,
    notes: _Notes,
    note: str | None = None,
) -> str:
    if app in failures.get(scenario, {}):
        return "FAIL" + notes.mark(f"{app}, {scenario}: {failures[scenario][app]}")
    if not supported:
        return "n/a"
    return value + (notes.mark(f"{app}, {scenario}: {note}") if note and value != "—" else "")


def inprocess_markdown(data: dict[str, Any], config: dict[str, Any]) -> list[str]:
    samples: dict[str, dict[str, list[float]]] = data["samples"]
    failures: dict[str, dict[str, str]] = data["failures"]
    apps = [p for p in config["peers"] if p not in data["unavailable"]]
    scenarios = [s for s in config["scenarios"] if s in samples or s in failures]
    notes = _Notes()
    out = [
        "## In-process",
        "",
        f"Each app's ASGI callable driven directly on {config['loop']}; requests/s "
        "(websocket: echoed messages/s), median of "
        f"{config['rounds']} interleaved rounds of {config['seconds']:g} s each. "
        "Every response checked.",
        "",
    ]
    for name, reason in data["unavailable"].items():
        out.append(f"- **{name}** skipped: {reason}")
    if data["unavailable"]:
        out.append("")

    def supported(scenario: str, app: str) -> bool:
        return PEER_BY_NAME[app].supports(scenario)

    def note(scenario: str, app: str) -> str | None:
        return PEER_BY_NAME[app].notes.get(scenario)

    def runs(scenario: str, app: str) -> list[float]:
        return samples.get(scenario, {}).get(app, [])

    formats: list[tuple[str, str | None, Callable[[str, str], str]]] = [
        ("requests/s (median of the rounds)", None, lambda s, a: rate(_median(runs(s, a)))),
        (
            "ratio to raw ASGI (median of per-round ratios)",
            "raw",
            lambda s, a: paired_ratio(runs(s, a), runs(s, "raw")),
        ),
        (
            "ratio to Starlette (median of per-round ratios)",
            "starlette",
            lambda s, a: paired_ratio(runs(s, a), runs(s, "starlette")),
        ),
        ("spread of the rounds ((max - min) / median)", None, lambda s, a: spread(runs(s, a))),
    ]
    for title, baseline, fmt in formats:
        rows = []
        for scenario in scenarios:
            if baseline and not runs(scenario, baseline):
                continue  # no baseline to divide by (a scenario it does not run)
            row = [SCENARIO_BY_NAME[scenario].title]
            for app in apps:
                value = fmt(scenario, app) if runs(scenario, app) else "—"
                row.append(
                    _cell(
                        scenario,
                        app,
                        value,
                        failures,
                        supported(scenario, app),
                        notes,
                        note(scenario, app) if baseline is None else None,
                    )
                )
            rows.append(row)
        if rows:
            out += [f"### {title}", "", *_table(["scenario", *apps], rows), ""]
    bridge = runs("sync", BRIDGE_LIMIT)
    if bridge:
        out += [
            f"Bridge limit: a bare `anyio.to_thread.run_sync(noop)` round trip runs "
            f"{rate(_median(bridge))}/s here; microasgi's sync view reaches "
            f"{paired_ratio(runs('sync', 'microasgi'), bridge)} of that.",
            "",
        ]
    out += notes.lines()
    return out


def network_markdown(data: dict[str, Any], config: dict[str, Any]) -> list[str]:
    samples: dict[str, dict[str, list[dict[str, Any]]]] = data["samples"]
    failures: dict[str, dict[str, str]] = data["failures"]
    targets = [
        t
        for t in config["targets"]
        if any(t in per for per in samples.values()) or any(t in f for f in failures.values())
    ]
    scenarios = [s for s in config["scenarios"] if s in samples or s in failures]
    notes = _Notes()
    out = [
        "## Over the network",
        "",
        f"`wrk -t1 -c{config['connections']} -d{config['wrk_seconds']:g}s --latency` against each "
        "server on 127.0.0.1 (websocket: one `websockets` client connection, one message in "
        f"flight); median of {config['network_rounds']} interleaved rounds after a "
        f"{config['warmup']:g} s warm-up. `raw`, `starlette`... run under `uvicorn --loop uvloop "
        "--http httptools --workers 1 --no-access-log`; `·granian` under `granian --interface asgi "
        "--loop uvloop --workers 1`; Flask under `gunicorn -w 1` (`-k sync`, or `-k gthread "
        "--threads 8`) or as ASGI behind a WSGI bridge under uvicorn.",
        "",
    ]
    for name, reason in data["unavailable"].items():
        out.append(f"- **{name}** unavailable: {reason.splitlines()[-1] if reason else ''}")
    if data["unavailable"]:
        out.append("")

    def med(scenario: str, target: str, key: str) -> float | None:
        values = [
            s[key] for s in samples.get(scenario, {}).get(target, []) if s.get(key) is not None
        ]
        return statistics.median(values) if values else None

    def errors(scenario: str, target: str) -> int | None:
        runs = samples.get(scenario, {}).get(target, [])
        return sum(s["errors"] for s in runs) if runs else None

    def supported(scenario: str, target: str) -> bool:
        return TARGET_BY_NAME[target].supports(scenario)

    def note(scenario: str, target: str) -> str | None:
        return TARGET_BY_NAME[target].note(scenario)

    def rates(scenario: str, target: str) -> list[float]:
        return [s["rps"] for s in samples.get(scenario, {}).get(target, [])]

    tables: list[tuple[str, str | None, Callable[[str, str], str]]] = [
        ("requests/s (median of the rounds)", None, lambda s, t: rate(med(s, t, "rps"))),
        (
            "ratio to raw ASGI under uvicorn (median of per-round ratios)",
            "raw",
            lambda s, t: paired_ratio(rates(s, t), rates(s, "raw")),
        ),
        (
            "ratio to Starlette (median of per-round ratios)",
            "starlette",
            lambda s, t: paired_ratio(rates(s, t), rates(s, "starlette")),
        ),
        ("spread of the rounds ((max - min) / median)", None, lambda s, t: spread(rates(s, t))),
        (
            "p99 latency (ms, median of the rounds)",
            None,
            lambda s, t: "—" if med(s, t, "p99_ms") is None else f"{med(s, t, 'p99_ms'):.1f}",
        ),
        (
            "errors (all rounds: socket errors + non-2xx)",
            None,
            lambda s, t: "—" if errors(s, t) is None else str(errors(s, t)),
        ),
    ]
    for title, baseline, fmt in tables:
        rows = []
        for scenario in scenarios:
            if baseline and not rates(scenario, baseline):
                continue
            if title.startswith("p99") and SCENARIO_BY_NAME[scenario].kind == "websocket":
                continue  # one message in flight: no latency distribution
            row = [SCENARIO_BY_NAME[scenario].title]
            for target in targets:
                row.append(
                    _cell(
                        scenario,
                        target,
                        fmt(scenario, target),
                        failures,
                        supported(scenario, target),
                        notes,
                        note(scenario, target) if title.startswith("requests/s") else None,
                    )
                )
            rows.append(row)
        out += [f"### {title}", "", *_table(["scenario", *targets], rows), ""]
    out += notes.lines()
    return out


def router_markdown(data: dict[str, Any], config: dict[str, Any]) -> list[str]:
    samples: dict[str, dict[str, list[float]]] = data["samples"]
    matchers = config["matchers"]
    out = [
        "## Router micro-benchmark",
        "",
        "Matches/s of the matcher alone (microasgi `Map.match`, Werkzeug "
        "`MapAdapter.match`, Starlette's `Router` loop over `route.matches(scope)`), "
        f"median of {config['rounds']} interleaved rounds of {config['router_seconds']:g} s.",
        "",
    ]
    rows = []
    from .router import CASES

    for case, _, path in CASES:
        if case not in samples:
            continue
        m = {name: _median(samples[case].get(name, [])) for name in matchers}
        row = [SCENARIO_BY_NAME[case].title + f" `{path}`"]
        row += [rate(m[name]) for name in matchers]
        if "microasgi" in m:
            row += [
                ratio(m["microasgi"], m.get(other)) for other in matchers if other != "microasgi"
            ]
        rows.append(row)
    header = ["path", *matchers]
    header += [f"microasgi ÷ {other}" for other in matchers if other != "microasgi"]
    out += [*_table(header, rows), ""]
    for case, per in data["failures"].items():
        for name, reason in per.items():
            out.append(f"- {name}, {case}: FAILED {reason}")
    return out


def rss_markdown(data: dict[str, Any]) -> list[str]:
    out = [
        "## Idle memory",
        "",
        "VmRSS of a `uvicorn --workers 1` process serving the app, after 20 requests and 1 s idle "
        "(median over the rounds).",
        "",
    ]
    rows = []
    for name, info in data.items():
        if "rss_kib" in info:
            rows.append([f"{name} `{info['app']}`", f"{info['rss_kib'] / 1024:.1f}"])
        else:
            rows.append([f"{name} `{info['app']}`", f"error: {info['error']}"])
    out += [*_table(["app", "RSS (MiB)"], rows), ""]
    ours = data.get("microasgi (minimal)", {}).get("rss_kib")
    theirs = data.get("starlette (minimal)", {}).get("rss_kib")
    if ours and theirs:
        out += [
            f"microasgi's minimal worker uses {(ours - theirs) / 1024:+.1f} MiB compared with a "
            f"bare Starlette app ({ours / theirs:.2f}{TIMES}).",
            "",
        ]
    return out


def machine_markdown(
    info: dict[str, Any], config: dict[str, Any], results: dict[str, Any]
) -> list[str]:
    out = [
        "## Machine",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
        f"{info['memory']} RAM, Linux {info['kernel']}",
        f"- {info['python']}, event loop: {config['loop']}",
        f"- load average (1, 5, 15 min) at start {results.get('load_start')}, "
        f"at end {results.get('load_end')} — a shared machine: others' work runs alongside",
        f"- run: `{config['command']}`, {results.get('duration_s', 0) / 60:.1f} min "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in results.get('timings_s', {}).items())})",
        "",
        "| package | version |",
        "|---|---|",
    ]
    out += [f"| {name} | {version} |" for name, version in info["packages"].items()]
    return [*out, ""]


def markdown(results: dict[str, Any]) -> str:
    config = results["config"]
    out = [f"# microasgi benchmarks: {config['pass']} pass, {results['started']}", ""]
    if config["pass"] == "typed":
        from . import typed  # it imports this module

        out += [*typed.markdown(results), ""]
    if "inprocess" in results:
        out += [*inprocess_markdown(results["inprocess"], config), ""]
    if "network" in results:
        out += [*network_markdown(results["network"], config), ""]
    if "router" in results:
        out += [*router_markdown(results["router"], config), ""]
    if "rss" in results:
        out += [*rss_markdown(results["rss"]), ""]
    out += machine_markdown(results["machine"], config, results)
    return "\n".join(out).rstrip() + "\n"


# -- chart ----------------------------------------------------------------------


def chart(results: dict[str, Any], path: str) -> bool:
    """A bar chart per scenario (in-process, network, router); False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    panels: list[tuple[str, list[tuple[str, float]]]] = []
    config = results["config"]
    if "inprocess" in results:
        samples = results["inprocess"]["samples"]
        for scenario in config["scenarios"]:
            bars = [
                (app, statistics.median(samples[scenario][app]))
                for app in [*config["peers"], BRIDGE_LIMIT]
                if samples.get(scenario, {}).get(app)
            ]
            if bars:
                unit = SCENARIO_BY_NAME[scenario].unit
                panels.append((f"in-process: {SCENARIO_BY_NAME[scenario].title} ({unit})", bars))
    if "network" in results:
        samples = results["network"]["samples"]
        for scenario in config["scenarios"]:
            bars = [
                (t, statistics.median([s["rps"] for s in samples[scenario][t]]))
                for t in config["targets"]
                if samples.get(scenario, {}).get(t)
            ]
            if bars:
                unit = SCENARIO_BY_NAME[scenario].unit
                panels.append((f"network: {SCENARIO_BY_NAME[scenario].title} ({unit})", bars))
    if "router" in results:
        samples = results["router"]["samples"]
        for case, per in samples.items():
            bars = [(m, statistics.median(per[m])) for m in config["matchers"] if per.get(m)]
            panels.append((f"router: {SCENARIO_BY_NAME[case].title} (matches/s)", bars))
    if not panels:
        return False
    columns = 3
    rows = (len(panels) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(6.2 * columns, 3.1 * rows), squeeze=False)
    for axis in axes.flat[len(panels) :]:
        axis.axis("off")
    for axis, (title, bars) in zip(axes.flat, panels, strict=False):
        names = [name for name, _ in bars][::-1]
        values = [value for _, value in bars][::-1]
        colors = [
            "#d62728"
            if name.startswith("microasgi")
            else "#7f7f7f"
            if name.startswith("raw") or name == BRIDGE_LIMIT
            else "#1f77b4"
            for name in names
        ]
        axis.barh(names, values, color=colors)
        top = max(values) if values else 1
        for y, value in enumerate(values):
            axis.text(value + top * 0.01, y, rate(value), va="center", fontsize=7)
        axis.set_xlim(0, top * 1.18)
        axis.set_title(title, fontsize=9)
        axis.tick_params(axis="both", labelsize=7)
        axis.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: rate(x)))
    figure.suptitle(
        f"microasgi benchmarks ({config['pass']} pass, {results['started']}); "
        f"{results['machine']['cpu']}, {results['machine']['cores']} cores; higher is better",
        fontsize=11,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return True
