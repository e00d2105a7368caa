"""Context isolation under concurrent load, against a real uvicorn on 127.0.0.1.

``tests/apps/isolation.py`` echoes each request's unique id as its views see it
through ``request.args``, ``request.headers``, ``g`` and ``session``, in async
and sync views, sync and async streamed generators, session writes and reads,
and a Flask app mounted through ``WSGIApp``. Here thousands of requests from
many simulated users (one ``httpx.AsyncClient``, so one cookie jar, each) are
fired with bounded concurrency, and every answer must be a 200 that belongs to
its own request: all echoed ids are its id, and the session holds the value its
own user stored last.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest

from .apps.isolation import CHUNKS
from .servers import Server, uvicorn

USERS = 150  # simulated users, each with its own client and cookie jar
REQUESTS_PER_USER = 20  # 3000 requests in all
IN_FLIGHT = 100  # at most this many requests at once
DEADLINE = 50.0  # seconds for the whole load; `make test` must stay well under a minute
TIMEOUT = httpx.Timeout(15.0)

KINDS = ("async", "sync", "stream-async", "stream-sync", "session-set", "session-get", "wsgi")
PATHS = {
    "async": ("GET", "/async"),
    "sync": ("GET", "/sync"),
    "stream-async": ("GET", "/stream/async"),
    "stream-sync": ("GET", "/stream/sync"),
    "session-set": ("POST", "/session/set"),
    "session-get": ("GET", "/session/get"),
    "wsgi": ("GET", "/wsgi/echo"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    server = uvicorn("tests.apps.isolation:app")
    try:
        server.wait_ready("/async")
        yield server
    finally:
        server.stop()
    # --log-level warning: anything the server logged (an exception in a view,
    # a protocol error) is a failure even if the client saw nothing wrong.
    output = server.output()
    assert "Traceback" not in output and "ERROR" not in output, output[-4000:]


@dataclass
class User:
    """One simulated user: its client (cookie jar) and what its session should hold."""

    number: int
    client: httpx.AsyncClient
    session_value: str | None = None
    stored: int = 0
    failures: list[str] = field(default_factory=list)


def _decode(kind: str, response: httpx.Response) -> list[dict[str, Any]]:
    """Every ``seen`` record in the answer (streams send one JSON object per chunk)."""
    if kind.startswith("stream-"):
        lines = response.text.splitlines()
        if len(lines) != CHUNKS:
            raise AssertionError(f"{len(lines)} chunks instead of {CHUNKS}: {response.text!r}")
        bodies = [json.loads(line) for line in lines]
    else:
        bodies = [response.json()]
    records: list[dict[str, Any]] = []
    for body in bodies:
        if body.get("kind") != kind:
            raise AssertionError(f"answer from the wrong view: {body!r}")
        records.extend(body["seen"])
    return records


async def _one(user: User, kind: str, step: int) -> None:
    rid = f"u{user.number}-s{step}-{uuid.uuid4().hex}"
    method, path = PATHS[kind]
    params = {"id": rid}
    before = user.session_value
    if kind == "session-set":
        user.stored += 1
        params["value"] = f"user{user.number}-value{user.stored}"
    try:
        response = await user.client.request(
            method, path, params=params, headers={"X-Request-Id": rid}
        )
        if response.status_code != 200:
            raise AssertionError(f"status {response.status_code}: {response.text[:200]!r}")
        records = _decode(kind, response)
    except (httpx.HTTPError, AssertionError, ValueError, KeyError) as exc:
        user.failures.append(f"{kind} {rid}: {type(exc).__name__}: {exc}")
        return
    if kind == "session-set":
        user.session_value = params["value"]
    mismatches: list[str] = []
    for index, record in enumerate(records):
        expected: dict[str, Any] = {"args": rid, "header": rid, "g": rid, "g_was_empty": True}
        if kind == "wsgi":
            expected["script_name"] = "/wsgi"
        elif kind == "session-set":
            # the first read is before the view stores the new value
            expected["user"] = before if index == 0 else user.session_value
        else:
            expected["user"] = user.session_value
        if record != expected:
            mismatches.append(f"read {index} saw {record!r}, not {expected!r}")
    if mismatches:
        user.failures.append(f"{kind} {rid}: " + "; ".join(mismatches))


async def _simulate(user: User, limiter: anyio.CapacityLimiter, seed: int) -> None:
    rng = random.Random(seed)
    # Everyone stores a value first, then a random mix (stores included).
    kinds = ["session-set", *(rng.choice(KINDS) for _ in range(REQUESTS_PER_USER - 1))]
    for step, kind in enumerate(kinds):
        async with limiter:
            await _one(user, kind, step)


@pytest.mark.parametrize("kind", KINDS)
async def test_each_view_echoes_its_own_request(server: Server, kind: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as client:
        user = User(0, client)
        with anyio.fail_after(20):
            await _one(user, "session-set", 0)
            await _one(user, kind, 1)
    assert user.failures == []


async def test_thousands_of_concurrent_requests_stay_isolated(server: Server) -> None:
    limiter = anyio.CapacityLimiter(IN_FLIGHT)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    users = [
        User(n, httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT, limits=limits))
        for n in range(USERS)
    ]
    try:
        with anyio.fail_after(DEADLINE):
            async with anyio.create_task_group() as tg:
                for user in users:
                    tg.start_soon(_simulate, user, limiter, user.number)
    finally:
        for user in users:
            await user.client.aclose()
    failures = [failure for user in users for failure in user.failures]
    sent = USERS * REQUESTS_PER_USER
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:20])
    # Each user's cookie jar holds its own session, distinct from everyone else's.
    cookies = {user.client.cookies.get("session") for user in users}
    assert len(cookies) == USERS and None not in cookies
