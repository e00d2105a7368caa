"""Soak test: a long ``wrk`` run against one uvicorn, watching its memory and file descriptors.

Not part of the test suite (it takes minutes). Run from the repository root::

    .venv/bin/python -m benchmarks.soak                    # 1,000,000 requests
    .venv/bin/python -m benchmarks.soak --requests 200000
    .venv/bin/python -m benchmarks.soak --duration 600     # ten minutes instead

``uvicorn benchmarks.soak_app:app --loop uvloop --http httptools
--no-access-log`` (one process) is loaded by ``wrk`` with a Lua script that
cycles through four endpoints (plaintext, JSON, a sync view, a session view
that reads and re-signs the cookie it is sent) and, every ``--close-every``
requests, asks for ``Connection: close`` so connections are also opened and
closed throughout. Each wrk thread stops itself after its share of
``--requests`` answers (a handful more may arrive: wrk finishes the socket
events it has already read) or wrk runs for ``--duration`` seconds; the
script counts every answer that is not a 2xx.

Every second the server's RSS (``VmRSS`` in ``/proc/<pid>/status``) and open
file descriptors (``/proc/<pid>/fd``) are sampled, with the number of answers
so far (the Lua script writes its count every 1,000 answers). The report
gives the RSS at start, after warm-up (the first sample once
``--warmup`` of the requests, or of the duration, is done) and at the end,
the growth after warm-up, and the fd range. The targets: no errors, RSS
growth after warm-up under 5%, a flat fd count (within the connections wrk
holds). The last lines are a markdown summary for docs/benchmarks.md; with
``--json PATH`` the samples are written too.

Exit status: 0 if every target was met, 1 if not, 2 if it could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
APP = "benchmarks.soak_app:app"
ENDPOINTS = ("/plaintext", "/json", "/sync?n=1", "/session")
RSS_GROWTH_LIMIT = 5.0  # percent, after warm-up
PROGRESS_EVERY = 1_000  # answers between two progress writes of each wrk thread

LUA = r"""
-- Written by benchmarks/soak.py. Arguments: quota per thread (0: none), the
-- session cookie, close every N requests (0: never), the progress directory.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  quota = tonumber(args[1])
  close_every = tonumber(args[3])
  progress = args[4] .. "/" .. id
  requests = {
    wrk.format("GET", "/plaintext"),
    wrk.format("GET", "/json"),
    wrk.format("GET", "/sync?n=1"),
    wrk.format("GET", "/session", {Cookie = args[2]}),
  }
  closing = wrk.format("GET", "/json", {Connection = "close"})
  sent = 0
  answered = 0
  non2xx = 0
  statuses = {}
end

function request()
  sent = sent + 1
  if close_every > 0 and sent % close_every == 0 then
    return closing
  end
  return requests[sent % #requests + 1]
end

local function report_progress()
  local f = io.open(progress, "w")
  if f then
    f:write(answered)
    f:close()
  end
end

function response(status, headers, body)
  answered = answered + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
  end
  if answered % PROGRESS_EVERY == 0 then
    report_progress()
  end
  if quota > 0 and answered >= quota then
    report_progress()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local non2xx, statuses = 0, {}
  for _, thread in ipairs(threads) do
    non2xx = non2xx + thread:get("non2xx")
    for status, count in pairs(thread:get("statuses")) do
      statuses[status] = (statuses[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(statuses) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'SOAK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, '
      .. '"statuses": {%s}, "connect": %d, "read": %d, "write": %d, "status": %d, '
      .. '"timeout": %d, "latency_mean_us": %.1f, "latency_p99_us": %d, '
      .. '"latency_max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, non2xx, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(99.0), latency.max))
end
""".replace("PROGRESS_EVERY", str(PROGRESS_EVERY))


@dataclass
class Sample:
    """One reading of the server process, ``seconds`` after the load started."""

    seconds: float
    answered: int
    rss_kib: int
    fds: int


@dataclass
class Result:
    """What one soak run measured."""

    target_requests: int | None
    target_seconds: float | None
    connections: int
    threads: int
    close_every: int
    warmup: float
    wrk: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0
    rss_start_kib: int = 0
    rss_idle_after_kib: int = 0
    fds_start: int = 0
    fds_idle_after: int = 0

    @property
    def socket_errors(self) -> int:
        return sum(int(self.wrk[key]) for key in ("connect", "read", "write", "timeout"))

    @property
    def warm_sample(self) -> Sample:
        """The first sample past the warm-up (by requests answered, or by time)."""
        if self.target_requests:
            threshold = self.warmup * self.target_requests
            for sample in self.samples:
                if sample.answered >= threshold:
                    return sample
        else:
            elapsed = self.samples[-1].seconds
            for sample in self.samples:
                if sample.seconds >= self.warmup * elapsed:
                    return sample
        return self.samples[-1]

    @property
    def end_sample(self) -> Sample:
        return self.samples[-1]

    @property
    def growth_percent(self) -> float:
        warm = self.warm_sample.rss_kib
        return 100.0 * (self.end_sample.rss_kib - warm) / warm

    @property
    def fd_range(self) -> tuple[int, int]:
        """The fewest and most open fds while under load."""
        fds = [sample.fds for sample in self.samples[1:]] or [self.fds_start]
        return min(fds), max(fds)

    @property
    def fd_flat(self) -> bool:
        """Under load, no more fds than at start plus wrk's connections; idle again after."""
        return (
            self.fd_range[1] <= self.fds_start + self.connections + 2
            and self.fds_idle_after <= self.fds_start + 2
        )

    @property
    def passed(self) -> bool:
        return (
            self.wrk["non2xx"] == 0
            and self.socket_errors == 0
            and self.growth_percent < RSS_GROWTH_LIMIT
            and self.fd_flat
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def answered_so_far(progress: pathlib.Path) -> int:
    total = 0
    for path in progress.iterdir():
        with contextlib.suppress(OSError, ValueError):  # being rewritten by wrk right now
            total += int(path.read_text() or 0)
    return total


def start_server(port: int) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        APP,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_ready(url: str, process: subprocess.Popen[str], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{process.communicate()[0]}")
        try:
            with urllib.request.urlopen(url + "/plaintext", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {timeout}s")


def check_endpoints(url: str) -> str:
    """One request to each endpoint (each must be a 200); returns the session cookie."""
    cookie = ""
    for path in ENDPOINTS:
        with urllib.request.urlopen(url + path, timeout=5) as response:
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
            response.read()
            if path == "/session":
                cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    if not cookie.startswith("session="):
        raise RuntimeError("the session endpoint set no cookie")
    return cookie


def drive(
    load: subprocess.Popen[bytes],
    server: subprocess.Popen[str],
    progress: pathlib.Path,
    result: Result,
    print_every: float,
) -> float:
    """Sample the server every second while wrk runs; returns the seconds of load.

    In ``--requests`` mode the wrk threads stop themselves once they have their
    share of answers, but wrk's main thread sleeps out ``-d``: it is sent
    SIGINT (which makes it report and exit) as soon as every answer is in.
    """
    pid = server.pid
    started = time.monotonic()
    result.samples.append(Sample(0.0, 0, result.rss_start_kib, result.fds_start))
    next_sample = started + 1.0
    last_print = started
    target = result.target_requests
    while load.poll() is None:
        if server.poll() is not None:
            raise RuntimeError(f"the server died under load:\n{stop(server)}")
        time.sleep(0.1)
        answered = answered_so_far(progress)
        done = target is not None and answered >= target
        now = time.monotonic()
        if now < next_sample and not done:
            continue
        next_sample += 1.0
        if load.poll() is not None:  # wrk is done (--duration): its connections are gone
            break
        sample = Sample(round(now - started, 2), answered, rss_kib(pid), open_fds(pid))
        result.samples.append(sample)
        if now - last_print >= print_every or done:
            last_print = now
            print(
                f"  {sample.seconds:7.0f}s  {sample.answered:>10,} answers  "
                f"RSS {sample.rss_kib / 1024:7.1f} MiB  fds {sample.fds}",
                flush=True,
            )
        if done:
            load.send_signal(signal.SIGINT)
            return now - started
    return time.monotonic() - started


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.communicate()[0] or ""


def run(args: argparse.Namespace) -> tuple[Result, str]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    result = Result(
        target_requests=None if args.duration else args.requests,
        target_seconds=args.duration,
        connections=args.connections,
        threads=args.threads,
        close_every=args.close_every,
        warmup=args.warmup,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port)
    server_output = ""
    try:
        wait_ready(url, server)
        cookie = check_endpoints(url)
        pid = server.pid
        result.rss_start_kib = rss_kib(pid)
        result.fds_start = open_fds(pid)
        with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
            script = pathlib.Path(tmp, "soak.lua")
            script.write_text(LUA)
            progress = pathlib.Path(tmp, "progress")
            progress.mkdir()
            if args.duration:
                quota, seconds = 0, args.duration
            else:
                quota = -(-args.requests // args.threads)  # ceiling: every thread its share
                seconds = 24 * 3600  # an upper bound; the threads stop themselves
            command = [
                wrk,
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{int(seconds)}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
                "--",
                str(quota),
                cookie,
                str(args.close_every),
                str(progress),
            ]
            print(" ".join(command[:9]), flush=True)
            load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            try:
                result.seconds = drive(load, server, progress, result, args.print_every)
                output = load.communicate()[0].decode(errors="replace")
            finally:
                if load.poll() is None:
                    load.kill()
                    load.wait()
        lines = [line for line in output.splitlines() if line.startswith("SOAK_RESULT ")]
        if load.returncode != 0 or not lines:
            raise RuntimeError(f"wrk failed ({load.returncode}):\n{output}")
        result.wrk = json.loads(lines[-1].removeprefix("SOAK_RESULT "))
        time.sleep(2.0)  # wrk's connections are closed: the idle server
        result.rss_idle_after_kib = rss_kib(pid)
        result.fds_idle_after = open_fds(pid)
    finally:
        server_output = stop(server)
    return result, server_output


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def report(result: Result, server_output: str) -> str:
    wrk = result.wrk
    seconds = result.seconds
    warm, end = result.warm_sample, result.end_sample
    low, high = result.fd_range
    peak = max(sample.rss_kib for sample in result.samples if sample.seconds >= warm.seconds)
    verdict = "met" if result.passed else "NOT met"
    if result.target_requests:
        load = f"{result.target_requests:,} requests"
        warm_label = f"{result.warmup:.0%} of the requests"
    else:
        load = f"{result.target_seconds:g} s"
        warm_label = f"{result.warmup:.0%} of the duration"
    extra = ""
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(wrk["statuses"].items()))
    if statuses:
        extra = f" ({statuses})"
    lines = [
        f"### Soak: {load} through uvicorn (uvloop, httptools), {result.connections} connections",
        "",
        f"`python -m benchmarks.soak` on {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}), "
        f"wrk -t{result.threads} -c{result.connections}; endpoints cycled: "
        + ", ".join(f"`{path}`" for path in ENDPOINTS)
        + (
            f"; every {result.close_every:,}th request asks for `Connection: close`"
            if result.close_every
            else ""
        )
        + ".",
        "",
        "| Measure | Value |",
        "| --- | --- |",
        f"| Requests served | {wrk['requests']:,} in {seconds:.1f} s "
        f"({wrk['requests'] / seconds:,.0f} req/s) |",
        f"| Non-2xx answers | {wrk['non2xx']}{extra} |",
        f"| Socket errors (connect/read/write/timeout) | {result.socket_errors} "
        f"({wrk['connect']}/{wrk['read']}/{wrk['write']}/{wrk['timeout']}) |",
        f"| Latency mean / p99 / max | {wrk['latency_mean_us'] / 1000:.2f} / "
        f"{wrk['latency_p99_us'] / 1000:.2f} / {wrk['latency_max_us'] / 1000:.1f} ms |",
        f"| RSS at start (idle, endpoints checked once) | {mib(result.rss_start_kib)} |",
        f"| RSS after warm-up ({warm_label}: at {warm.seconds:.0f} s, "
        f"~{warm.answered:,} answers) | {mib(warm.rss_kib)} |",
        f"| RSS at end (at {end.seconds:.0f} s, ~{end.answered:,} answers) | {mib(end.rss_kib)} |",
        f"| RSS growth after warm-up | {result.growth_percent:+.2f}% "
        f"(peak after warm-up {mib(peak)}) |",
        f"| RSS idle after the run | {mib(result.rss_idle_after_kib)} |",
        f"| Open fds: idle at start / min-max under load ({len(result.samples) - 1} "
        f"samples, 1/s) / idle after | {result.fds_start} / {low}-{high} / "
        f"{result.fds_idle_after} |",
        "",
        f"Targets (zero errors, RSS growth after warm-up < {RSS_GROWTH_LIMIT:g}%, "
        f"flat fd count): **{verdict}**.",
    ]
    logged = server_output.strip()
    if logged:
        lines += ["", "The server logged:", "", "```", logged[-3000:], "```"]
    return "\n".join(lines)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(f"soak: stopped by signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--requests", type=int, default=1_000_000, help="answers to wait for (default 1,000,000)"
    )
    parser.add_argument(
        "--duration", type=float, help="run for this many seconds instead of --requests"
    )
    parser.add_argument("--connections", type=int, default=64, help="wrk -c (default 64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk -t (default 1)")
    parser.add_argument(
        "--close-every",
        type=int,
        default=1000,
        help="every Nth request asks for Connection: close (0: never; default 1000)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=0.1,
        help="share of the run counted as warm-up (default 0.1)",
    )
    parser.add_argument(
        "--print-every", type=float, default=10.0, help="seconds between progress lines"
    )
    parser.add_argument("--json", type=pathlib.Path, help="also write the figures and samples")
    args = parser.parse_args(argv)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    if args.requests < 1 or (args.duration is not None and args.duration <= 0):
        parser.error("--requests and --duration must be positive")
    if not 0 < args.warmup < 1:
        parser.error("--warmup is a fraction between 0 and 1")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        result, server_output = run(args)
    except RuntimeError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    summary = report(result, server_output)
    print()
    print(summary)
    if args.json:
        figures = asdict(result)
        figures.update(
            growth_percent=result.growth_percent,
            warm_sample=asdict(result.warm_sample),
            socket_errors=result.socket_errors,
            passed=result.passed,
        )
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
