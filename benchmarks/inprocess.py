"""In-process throughput: call each app's ASGI callable directly in a loop.

No server and no sockets: this measures the framework alone. Each request gets
a copy of a scope built once, a ``receive`` that hands over the request body
(then, like uvicorn, waits for the response to finish and says
``http.disconnect``), and a ``send`` that collects the response; every
response's status and body are checked (see :mod:`benchmarks.scenarios`).
Apps run their lifespan first. Each (scenario, app) pair runs for a fixed
time after a short warm-up; apps are interleaved round-robin (the order
rotates every round) over several rounds and the median is reported, so a
noisy neighbour on this shared machine skews every app alike. The loop is
uvloop's.

    python -m benchmarks.inprocess [--rounds 5] [--seconds 0.5]

is ``python -m benchmarks --mode inprocess`` (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .apps import Peer
from .progress import Progress
from .routes_github import GITHUB_API, many_routes
from .scenarios import BRIDGE_LIMIT, Scenario

Message = dict[str, Any]
Scope = dict[str, Any]
ASGI = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]
T = TypeVar("T")

_DISCONNECT: Message = {"type": "http.disconnect"}


class CheckFailed(AssertionError):
    """A response was not the expected one."""


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on a uvloop event loop (asyncio's if uvloop is missing)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)
    uvloop.install()  # pragma: no cover - Python 3.10
    return asyncio.run(main)


def loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def http_scope(scenario: Scenario) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": scenario.method,
        "scheme": "http",
        "path": scenario.path,
        "raw_path": scenario.path.encode(),
        "query_string": scenario.query.encode(),
        "root_path": "",
        "headers": scenario.headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }


def websocket_scope(scenario: Scenario) -> Scope:
    scope = http_scope(scenario)
    del scope["method"]  # not part of a websocket scope (Litestar routes on it)
    return {
        **scope,
        "type": "websocket",
        "scheme": "ws",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"connection", b"upgrade"),
            (b"upgrade", b"websocket"),
            (b"sec-websocket-version", b"13"),
            (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        ],
        "subprotocols": [],
    }


class _Exchange:
    """One HTTP request's ``receive`` and ``send``."""

    __slots__ = ("chunks", "complete", "request", "requested", "status", "waiter")

    def __init__(self, request: Message) -> None:
        self.request = request
        self.requested = False
        self.status = 0
        self.chunks: list[bytes] = []
        self.complete = False
        self.waiter: asyncio.Future[None] | None = None

    async def receive(self) -> Message:
        if not self.requested:
            self.requested = True
            return self.request
        if not self.complete:  # as uvicorn: wait until the response is sent
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return _DISCONNECT

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
        elif kind == "http.response.body":
            body = message.get("body", b"")
            if body:
                self.chunks.append(body)
            if not message.get("more_body", False):
                self.complete = True
                if self.waiter is not None and not self.waiter.done():
                    self.waiter.set_result(None)
        else:
            raise CheckFailed(f"unexpected message {kind!r}")


class _WebsocketExchange:
    """A websocket session sending numbered text messages until ``deadline`` (at least
    ``minimum`` of them)."""

    def __init__(self, deadline: float, minimum: int = 3) -> None:
        self.deadline = deadline
        self.minimum = minimum
        self.connected = False
        self.accepted = False
        self.closed = False
        self.sent = 0
        self.echoed = 0
        self.pending: deque[str] = deque()
        self.echo: asyncio.Future[None] | None = None

    async def receive(self) -> Message:
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        while self.pending and not self.closed:  # a client waits for the echo of the last one
            self.echo = asyncio.get_running_loop().create_future()
            await self.echo
        if self.closed or (self.sent >= self.minimum and time.perf_counter() >= self.deadline):
            return {"type": "websocket.disconnect", "code": 1000}
        self.sent += 1
        text = f"message {self.sent}"
        self.pending.append(text)
        return {"type": "websocket.receive", "text": text}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted = True
        elif kind == "websocket.send":
            if not self.pending:
                raise CheckFailed(f"unexpected websocket message {message!r}")
            expected = self.pending.popleft()
            if message.get("text") != expected:
                raise CheckFailed(f"echo {message!r}, expected text {expected!r}")
            self.echoed += 1
            if self.echo is not None and not self.echo.done():
                self.echo.set_result(None)
        elif kind == "websocket.close":
            self.closed = True
            if self.echo is not None and not self.echo.done():
                self.echo.set_result(None)
        else:
            raise CheckFailed(f"unexpected message {kind!r}")


class Lifespan:
    """Run an app's lifespan protocol around the measurements (if it speaks it)."""

    def __init__(self, app: ASGI) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.replies: list[str] = []
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.supported = True

    async def _receive(self) -> Message:
        return await self.inbox.get()

    async def _send(self, message: Message) -> None:
        self.replies.append(message["type"])
        self.changed.set()

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        try:
            await self.app({**scope, "state": self.state}, self._receive, self._send)
        except Exception:
            self.supported = False  # as uvicorn's --lifespan auto: not spoken here
        finally:
            self.changed.set()

    async def _wait_for(self, prefix: str) -> None:
        while self.task is not None and not self.task.done():
            if any(reply.startswith(prefix) for reply in self.replies):
                break
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 30)
        if f"{prefix}.failed" in self.replies:
            raise RuntimeError(f"lifespan {prefix} failed")

    async def __aenter__(self) -> Lifespan:
        self.task = asyncio.create_task(self._run())
        await self.inbox.put({"type": "lifespan.startup"})
        await self._wait_for("lifespan.startup")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.task is None or self.task.done():
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self._wait_for("lifespan.shutdown"), 10)
        except (asyncio.TimeoutError, RuntimeError):
            self.task.cancel()


async def _http_once(
    app: ASGI, scope: Scope, request: Message, state: dict[str, Any]
) -> tuple[int, bytes]:
    exchange = _Exchange(request)
    await app({**scope, "state": state.copy()}, exchange.receive, exchange.send)
    if not exchange.complete:
        raise CheckFailed("the app returned before finishing its response")
    return exchange.status, b"".join(exchange.chunks)


async def measure_http(
    app: ASGI, scenario: Scenario, state: dict[str, Any], seconds: float, warmup: float
) -> float:
    """Requests per second over ``seconds``; every response is checked."""
    base = http_scope(scenario)
    request: Message = {"type": "http.request", "body": scenario.body, "more_body": False}
    status, body = await _http_once(app, base, request, state)
    problem = scenario.check(status, body)
    if problem:
        raise CheckFailed(problem)

    async def loop(duration: float) -> tuple[int, float]:
        perf = time.perf_counter
        count = 0
        start = perf()
        deadline = start + duration
        while True:
            exchange = _Exchange(request)
            scope = base.copy()
            scope["state"] = state.copy()
            await app(scope, exchange.receive, exchange.send)
            count += 1
            if exchange.status != status or b"".join(exchange.chunks) != body:
                got = b"".join(exchange.chunks)[:80]
                raise CheckFailed(f"response {count}: {exchange.status} {got!r} differs")
            if not exchange.complete:
                raise CheckFailed("the app returned before finishing its response")
            now = perf()
            if now >= deadline:
                return count, now - start

    await loop(warmup)
    count, elapsed = await loop(seconds)
    return count / elapsed


async def _websocket_session(
    app: ASGI, scenario: Scenario, state: dict[str, Any], seconds: float
) -> tuple[int, float]:
    start = time.perf_counter()
    exchange = _WebsocketExchange(start + seconds)
    await app({**websocket_scope(scenario), "state": state.copy()}, exchange.receive, exchange.send)
    elapsed = time.perf_counter() - start
    if not exchange.accepted:
        raise CheckFailed("the websocket was not accepted")
    if exchange.pending:
        raise CheckFailed(f"{len(exchange.pending)} messages were not echoed")
    if exchange.echoed == 0:
        raise CheckFailed("no message was echoed")
    return exchange.echoed, elapsed


async def measure_websocket(
    app: ASGI, scenario: Scenario, state: dict[str, Any], seconds: float, warmup: float
) -> float:
    """Echoed messages per second over one connection; every echo is checked."""
    await _websocket_session(app, scenario, state, warmup)
    count, elapsed = await _websocket_session(app, scenario, state, seconds)
    return count / elapsed


def _noop() -> None:
    return None


async def measure_bridge(seconds: float, warmup: float) -> float:
    """``anyio.to_thread.run_sync`` round trips per second with a function doing nothing."""
    import anyio.to_thread

    async def loop(duration: float) -> tuple[int, float]:
        count = 0
        start = time.perf_counter()
        deadline = start + duration
        while True:
            await anyio.to_thread.run_sync(_noop)
            count += 1
            now = time.perf_counter()
            if now >= deadline:
                return count, now - start

    await loop(warmup)
    count, elapsed = await loop(seconds)
    return count / elapsed


@dataclass
class InprocessResults:
    """``samples[scenario][app]``: requests/s (messages/s) of each round."""

    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "failures": self.failures,
            "unavailable": self.unavailable,
        }


@dataclass
class _Loaded:
    apps: dict[tuple[str, str], ASGI] = field(default_factory=dict)
    states: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def _short_error(exc: BaseException) -> str:
    lines = traceback.format_exception_only(type(exc), exc)
    return lines[-1].strip()[:300]


async def _load(
    peers: list[Peer],
    scenarios: list[Scenario],
    results: InprocessResults,
    stack: contextlib.AsyncExitStack,
) -> _Loaded:
    loaded = _Loaded()
    tables = {"github": GITHUB_API, "many": many_routes(500)}
    kinds = {s.app for s in scenarios if s.kind != "bridge"}
    for peer in peers:
        for kind in sorted(kinds):
            if not any(s.app == kind and peer.supports(s.name) for s in scenarios):
                continue
            try:
                if kind == "main":
                    app = peer.load()
                elif kind == "typed":
                    app = peer.load_typed()
                else:
                    app = peer.load_routing(tables[kind])
                lifespan = await stack.enter_async_context(Lifespan(app))
            except Exception as exc:
                results.unavailable[peer.name] = f"{kind} app: {_short_error(exc)}"
                break
            loaded.apps[peer.name, kind] = app
            loaded.states[peer.name, kind] = lifespan.state
    return loaded


def plan(peers: list[Peer], scenarios: list[Scenario]) -> list[tuple[Scenario, list[str]]]:
    """Per scenario, the apps that run it (the bridge-limit row joins ``sync``)."""
    steps = []
    for scenario in scenarios:
        names = [peer.name for peer in peers if peer.supports(scenario.name)]
        if scenario.name == "sync":
            names.append(BRIDGE_LIMIT)
        if names:
            steps.append((scenario, names))
    return steps


async def run(
    peers: list[Peer],
    scenarios: list[Scenario],
    rounds: int,
    seconds: float,
    progress: Progress,
    warmup: float | None = None,
    paired: bool = False,
) -> InprocessResults:
    """Measure every (scenario, app) pair ``rounds`` times, interleaved (see :func:`order`)."""
    results = InprocessResults()
    warmup = seconds / 5 if warmup is None else warmup
    async with contextlib.AsyncExitStack() as stack:
        loaded = await _load(peers, scenarios, results, stack)
        # Move every app's long-lived objects out of the collector's sight: the
        # gc.collect() before each run stays cheap, and no app pays for another's heap.
        gc.collect()
        gc.freeze()
        stack.callback(gc.unfreeze)
        for name, reason in results.unavailable.items():
            progress.write(f"in-process: {name} skipped: {reason}")
        steps = plan([p for p in peers if p.name not in results.unavailable], scenarios)
        for round_index in range(rounds):
            for scenario, name in order(steps, round_index, paired):
                progress.step(f"in-process r{round_index + 1}/{rounds} {scenario.name} · {name}")
                failed = results.failures.get(scenario.name, {})
                if name in failed:
                    continue
                gc.collect()
                try:
                    if name == BRIDGE_LIMIT:
                        rate = await measure_bridge(seconds, warmup)
                    else:
                        key = (name, scenario.app)
                        app, state = loaded.apps[key], loaded.states[key]
                        measure = (
                            measure_websocket if scenario.kind == "websocket" else measure_http
                        )
                        rate = await measure(app, scenario, state, seconds, warmup)
                except Exception as exc:
                    results.failures.setdefault(scenario.name, {})[name] = _short_error(exc)
                    progress.write(f"in-process: {scenario.name} · {name} FAILED: {exc!r}")
                    continue
                results.samples.setdefault(scenario.name, {}).setdefault(name, []).append(rate)
    return results


def order(
    steps: list[tuple[Scenario, list[str]]], round_index: int, paired: bool = False
) -> Iterator[tuple[Scenario, str]]:
    """One round's (scenario, app) measurements: per scenario, every app, in an order that
    rotates each round. ``paired``: the steps are pairs of scenarios (a typed one and its
    untyped twin) and each app runs both of a pair back to back, the two alternating
    which goes first, so a difference of the two is measured moments apart."""
    if not paired:
        for scenario, names in steps:
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                yield scenario, name
        return
    for (first, names), (second, _) in zip(steps[::2], steps[1::2], strict=True):
        shift = round_index % len(names)
        pair = (first, second) if round_index % 2 == 0 else (second, first)
        for name in names[shift:] + names[:shift]:
            for scenario in pair:
                yield scenario, name


async def selfcheck(peers: list[Peer], scenarios: list[Scenario]) -> list[tuple[str, str, str]]:
    """One checked request (websocket: a short session) per (scenario, app).

    Returns ``(scenario, app, problem)`` rows, ``problem`` empty when all is well.
    """
    results = InprocessResults()
    rows: list[tuple[str, str, str]] = []
    async with contextlib.AsyncExitStack() as stack:
        loaded = await _load(peers, scenarios, results, stack)
        for name, reason in results.unavailable.items():
            rows.append(("(load)", name, reason))
        for scenario, names in plan(
            [p for p in peers if p.name not in results.unavailable], scenarios
        ):
            for name in names:
                try:
                    if name == BRIDGE_LIMIT:
                        await measure_bridge(0.001, 0)
                    elif scenario.kind == "websocket":
                        key = (name, scenario.app)
                        await _websocket_session(
                            loaded.apps[key], scenario, loaded.states[key], 0.005
                        )
                    else:
                        key = (name, scenario.app)
                        base = http_scope(scenario)
                        request = {
                            "type": "http.request",
                            "body": scenario.body,
                            "more_body": False,
                        }
                        status, body = await _http_once(
                            loaded.apps[key], base, request, loaded.states[key]
                        )
                        problem = scenario.check(status, body)
                        if problem:
                            raise CheckFailed(problem)
                except Exception as exc:
                    rows.append((scenario.name, name, _short_error(exc)))
                else:
                    rows.append((scenario.name, name, ""))
    return rows


def main() -> None:
    """``python -m benchmarks.inprocess``: the in-process mode of ``python -m benchmarks``."""
    from .cli import main as cli_main

    cli_main(["--mode", "inprocess", *sys.argv[1:]])


if __name__ == "__main__":
    main()
