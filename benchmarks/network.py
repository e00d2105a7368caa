"""Over the network: each app under a real server on 127.0.0.1, load from ``wrk``.

Every server is started once, up front, on its own free port (idle servers
cost no CPU), then the measurements are interleaved: for each round, for each
scenario, every server in turn (the order rotates every round). Before its
first measurement a (server, scenario) pair gets one checked request
(:meth:`Scenario.check`) and a warm-up ``wrk`` run. ``wrk -t1 -c<N>`` reports
requests/s, p99 latency and errors (socket errors and non-2xx/3xx answers)
through a Lua ``done`` hook; POST bodies come from the same Lua script.

Servers: ``uvicorn --loop uvloop --http httptools --workers 1
--no-access-log``, ``granian --interface asgi --loop uvloop --workers 1``,
``gunicorn -w 1 -k sync`` and ``-k gthread --threads 8`` (Flask, WSGI).

Websocket echo: one connection from the ``websockets`` client (compression
off) sends a message, waits for its echo, and repeats; messages/s.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .apps import PEER_BY_NAME, Target
from .progress import Progress
from .scenarios import Scenario

BIN = pathlib.Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tool(name: str) -> str:
    local = BIN / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def server_command(target: Target, app: str, port: int) -> list[str]:
    """The command serving ``target``'s ``app`` (``main`` or ``github``) on ``port``."""
    peer = PEER_BY_NAME[target.peer]
    factory = app == "github"
    if target.server.startswith("gunicorn"):
        spec = f"{peer.module}:app"  # the WSGI app itself
        worker = (
            ["-k", "sync"]
            if target.server == "gunicorn-sync"
            else ["-k", "gthread", "--threads", "8"]
        )
        return [
            _tool("gunicorn"),
            "-w",
            "1",
            *worker,
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--no-control-socket",
            spec,
        ]
    spec = f"{peer.module}:{'github_app' if factory else peer.attr}"
    if target.server == "granian":
        command = [
            _tool("granian"),
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    elif target.server == "uvicorn":
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    else:
        raise ValueError(f"unknown server {target.server!r}")
    return [*command, *(["--factory"] if factory else []), spec]


class Server:
    """A server subprocess, its output going to ``log``."""

    def __init__(self, target: Target, app: str, log_dir: pathlib.Path) -> None:
        self.target = target
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        name = f"{target.name}-{app}".replace("·", "-").replace("+", "-")
        self.log_path = log_dir / f"server-{name}.log"
        self.command = server_command(target, app, self.port)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def ready(self, path: str) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{' '.join(self.command)} exited ({self.process.returncode}):\n{self.output()}"
            )
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                response.read()
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def wait_ready(servers: list[tuple[Server, str]], timeout: float = 60.0) -> dict[int, str]:
    """Poll every server until it answers; ``{id(server): error}`` for those that failed."""
    errors: dict[int, str] = {}
    waiting = list(servers)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        still = []
        for server, path in waiting:
            try:
                if not server.ready(path):
                    still.append((server, path))
            except RuntimeError as exc:
                errors[id(server)] = str(exc)
        waiting = still
        if waiting:
            time.sleep(0.2)
    for server, _ in waiting:
        errors[id(server)] = f"did not answer in {timeout:.0f}s:\n{server.output()}"
    return errors


def fetch(url: str, scenario: Scenario) -> tuple[int, bytes]:
    """One request of ``scenario`` (urllib), for the check before measuring."""
    request = urllib.request.Request(
        url + scenario.path,
        data=scenario.body or None,
        method=scenario.method,
        headers={"Content-Type": "application/json"} if scenario.body else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


_DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"bytes\\": %d, \\"connect\\": %d, "
    .. "\\"read\\": %d, \\"write\\": %d, \\"status\\": %d, \\"timeout\\": %d, "
    .. "\\"p50_us\\": %d, \\"p99_us\\": %d, \\"mean_us\\": %d}\\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def lua_script(scenario: Scenario, directory: pathlib.Path) -> pathlib.Path:
    """A wrk script for ``scenario``: its method and body, and the JSON ``done`` hook."""
    lines = []
    if scenario.method != "GET":
        lines.append(f'wrk.method = "{scenario.method}"')
    if scenario.body:
        lines.append(f"wrk.body = [[{scenario.body.decode()}]]")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    path = directory / f"wrk-{scenario.name}.lua"
    path.write_text("\n".join(lines) + _DONE_HOOK)
    return path


def run_wrk(
    url: str, script: pathlib.Path, seconds: float, connections: int, timeout: float = 10.0
) -> dict[str, Any]:
    """``wrk -t1 -c<connections> -d<seconds> --latency``: the ``done`` hook's numbers."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={timeout:g}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + timeout + 30, check=False
    )
    for line in completed.stdout.splitlines():
        if line.startswith("WRKJSON "):
            raw = json.loads(line[len("WRKJSON ") :])
            errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
            duration = raw["duration_us"] / 1e6
            return {
                "rps": raw["requests"] / duration if duration else 0.0,
                "p50_ms": raw["p50_us"] / 1000,
                "p99_ms": raw["p99_us"] / 1000,
                "errors": errors,
                "error_detail": {
                    k: raw[k] for k in ("connect", "read", "write", "status", "timeout") if raw[k]
                },
                "requests": raw["requests"],
            }
    raise RuntimeError(f"wrk printed no result:\n{completed.stdout}\n{completed.stderr}")


async def _websocket_echo(url: str, seconds: float) -> tuple[int, float]:
    from websockets.asyncio.client import connect

    async with connect(url, compression=None, max_size=None) as ws:
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            message = f"message {count}"
            await ws.send(message)
            reply = await ws.recv()
            if reply != message:
                raise AssertionError(f"echo {reply!r}, expected {message!r}")
            count += 1
            now = time.perf_counter()
            if now >= deadline:
                return count, now - start


def websocket_rate(url: str, seconds: float) -> dict[str, Any]:
    """Echoed messages per second over one connection (one message in flight)."""
    from .inprocess import run_async

    count, elapsed = run_async(_websocket_echo(url, seconds))
    return {"rps": count / elapsed, "p50_ms": None, "p99_ms": None, "errors": 0, "requests": count}


@dataclass
class NetworkResults:
    """``samples[scenario][target]``: one dict per round (rps, p99_ms, errors...)."""

    samples: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "failures": self.failures,
            "unavailable": self.unavailable,
            "commands": self.commands,
        }

    def median(self, scenario: str, target: str, key: str = "rps") -> float | None:
        values = [
            s[key] for s in self.samples.get(scenario, {}).get(target, []) if s.get(key) is not None
        ]
        return statistics.median(values) if values else None


def plan(targets: list[Target], scenarios: list[Scenario]) -> list[tuple[Scenario, list[Target]]]:
    steps = []
    for scenario in scenarios:
        if not scenario.network:
            continue
        chosen = [t for t in targets if t.supports(scenario.name)]
        if chosen:
            steps.append((scenario, chosen))
    return steps


def steps(targets: list[Target], scenarios: list[Scenario], rounds: int) -> int:
    return rounds * sum(len(chosen) for _, chosen in plan(targets, scenarios))


def run(
    targets: list[Target],
    scenarios: list[Scenario],
    rounds: int,
    seconds: float,
    warmup: float,
    connections: int,
    out: pathlib.Path,
    progress: Progress,
) -> NetworkResults:
    results = NetworkResults()
    if shutil.which("wrk") is None:
        message = "wrk is not installed (apt-get install -y wrk): network mode skipped"
        progress.write(message)
        results.unavailable["*"] = message
        return results
    steps_ = plan(targets, scenarios)
    needed = {(t.name, s.app) for s, chosen in steps_ for t in chosen}
    servers: dict[tuple[str, str], Server] = {}
    try:
        for target in targets:
            for app in ("main", "github"):
                if (target.name, app) in needed:
                    servers[target.name, app] = server = Server(target, app, out)
                    results.commands[f"{target.name} ({app})"] = server.command
        probes = [
            (server, "/plaintext" if app == "main" else "/user/keys")
            for (_, app), server in servers.items()
        ]
        errors = wait_ready(probes)
        for (name, app), server in list(servers.items()):
            if id(server) in errors:
                results.unavailable[f"{name} ({app})"] = errors[id(server)][-600:]
                progress.write(
                    f"network: {name} ({app}) did not start: {errors[id(server)][-300:]}"
                )
                server.stop()
                del servers[name, app]
        scripts = {s.name: lua_script(s, out) for s, _ in steps_ if s.kind == "http"}
        warmed: set[tuple[str, str]] = set()
        for round_index in range(rounds):
            for scenario, chosen in steps_:
                shift = round_index % len(chosen)
                for target in chosen[shift:] + chosen[:shift]:
                    progress.step(
                        f"network r{round_index + 1}/{rounds} {scenario.name} · {target.name}"
                    )
                    found = servers.get((target.name, scenario.app))
                    failed = results.failures.setdefault(scenario.name, {})
                    if found is None or target.name in failed:
                        continue
                    try:
                        sample = _measure(
                            found, scenario, scripts, warmed, seconds, warmup, connections
                        )
                    except Exception as exc:
                        failed[target.name] = repr(exc)[:400]
                        progress.write(
                            f"network: {scenario.name} · {target.name} FAILED: {exc!r}"[:400]
                        )
                        continue
                    results.samples.setdefault(scenario.name, {}).setdefault(
                        target.name, []
                    ).append(sample)
    finally:
        for server in servers.values():
            server.stop()
    for scenario_name in list(results.failures):
        if not results.failures[scenario_name]:
            del results.failures[scenario_name]
    return results


def _measure(
    server: Server,
    scenario: Scenario,
    scripts: dict[str, pathlib.Path],
    warmed: set[tuple[str, str]],
    seconds: float,
    warmup: float,
    connections: int,
) -> dict[str, Any]:
    key = (server.target.name, scenario.name)
    if scenario.kind == "websocket":
        url = server.url.replace("http://", "ws://") + scenario.path
        if key not in warmed:
            websocket_rate(url, warmup)
            warmed.add(key)
        return websocket_rate(url, seconds)
    if key not in warmed:
        status, body = fetch(server.url, scenario)
        problem = scenario.check(status, body)
        if problem:
            raise AssertionError(problem)
        run_wrk(server.url + scenario.path, scripts[scenario.name], warmup, connections)
        warmed.add(key)
    return run_wrk(server.url + scenario.path, scripts[scenario.name], seconds, connections)


# -- idle memory ------------------------------------------------------------

RSS_APPS: dict[str, str] = {
    "microasgi (minimal)": "benchmarks.apps.minimal:microasgi_app",
    "starlette (minimal)": "benchmarks.apps.minimal:starlette_app",
}
RSS_FULL_APPS: dict[str, str] = {
    "raw": "benchmarks.apps.raw:app",
    "starlette (bench app)": "benchmarks.apps.starlette:app",
    "fastapi (bench app)": "benchmarks.apps.fastapi:app",
    "quart (bench app)": "benchmarks.apps.quart:app",
    "litestar (bench app)": "benchmarks.apps.litestar:app",
    "blacksheep (bench app)": "benchmarks.apps.blacksheep:app",
    "falcon (bench app)": "benchmarks.apps.falcon:app",
    "microasgi (bench app)": "benchmarks.apps.microasgi:app",
}


def _rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` and its children, in KiB."""
    total = 0
    pids = [pid]
    children = pathlib.Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        for line in pathlib.Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def measure_rss(
    apps: dict[str, str], rounds: int, out: pathlib.Path, progress: Progress, requests: int = 20
) -> dict[str, dict[str, Any]]:
    """Start each app under uvicorn, send ``requests`` GET /plaintext, wait, read VmRSS.

    Servers run one at a time; each app is started ``rounds`` times (interleaved)
    and the median is kept.
    """
    samples: dict[str, list[int]] = {}
    errors: dict[str, str] = {}
    for round_index in range(rounds):
        for name, spec in apps.items():
            progress.step(f"idle RSS r{round_index + 1}/{rounds} · {name}")
            if name in errors:
                continue
            port = free_port()
            command = [
                sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
                "--loop", "uvloop", "--http", "httptools", "--workers", "1",
                "--no-access-log", "--log-level", "warning", spec,
            ]  # fmt: skip
            slug = re.sub(r"\W+", "-", name).strip("-")
            log = (out / f"rss-{slug}-{round_index + 1}.log").open("wb")
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            try:
                url = f"http://127.0.0.1:{port}/plaintext"
                deadline = time.monotonic() + 30
                while True:
                    try:
                        with urllib.request.urlopen(url, timeout=2) as response:
                            response.read()
                        break
                    except OSError:
                        if process.poll() is not None or time.monotonic() > deadline:
                            raise RuntimeError(f"{spec} did not start") from None
                        time.sleep(0.1)
                for _ in range(requests - 1):
                    with urllib.request.urlopen(url, timeout=5) as response:
                        response.read()
                time.sleep(1.0)
                samples.setdefault(name, []).append(_rss_kib(process.pid))
            except Exception as exc:
                errors[name] = repr(exc)
            finally:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                log.close()
    result: dict[str, dict[str, Any]] = {}
    for name in apps:
        if name in samples:
            result[name] = {
                "rss_kib": statistics.median(samples[name]),
                "samples_kib": samples[name],
                "app": apps[name],
            }
        else:
            result[name] = {"error": errors.get(name, "not run"), "app": apps[name]}
    return result
