"""The garbage collector tuned for serving: fewer collections, and memory that comes back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from microasgi.memory import resident_memory

# A fresh interpreter each time: the tuning is process-wide and happens once.
_PROBE = """
import asyncio, gc, json, sys, threading, time, weakref
from microasgi import MicroASGI
from microasgi.lifespan import run_lifespan

app = MicroASGI("probe")
app.config.update(json.loads(sys.argv[1]))

async def main():
    async with run_lifespan(app):
        pass

asyncio.run(main())

class Holder:
    pass

# Reference cycles holding large buffers, as a server's connection objects may:
# few objects, so no young collection comes for them; only the memory watch.
from microasgi.memory import resident_memory
start = resident_memory() or 0
alive = []
peak = 0
for _ in range(30):
    holder = Holder()
    holder.itself = holder
    holder.data = b"x" * (20 * 1024 * 1024)
    alive.append(weakref.ref(holder))
    del holder
    time.sleep(0.05)
    peak = max(peak, (resident_memory() or 0) - start)
deadline = time.monotonic() + float(sys.argv[2])
while sum(ref() is not None for ref in alive) > 3 and time.monotonic() < deadline:
    time.sleep(0.05)
print(json.dumps({
    "collected": sum(ref() is None for ref in alive) >= 27,
    "peak_mib": peak // 2**20,
    "watching": any(t.name == "microasgi-memory" for t in threading.enumerate()),
}))
"""


def probe(settings: dict[str, object], wait: float) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(settings), str(wait)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_cycles_holding_large_buffers_are_collected_as_memory_grows() -> None:
    # 600 MiB of them are made; the watch keeps about a quarter at most.
    state = probe({"GC_TUNING": True}, wait=5)
    assert (state["collected"], state["watching"]) == (True, True)
    assert state["peak_mib"] < 250


def test_without_the_tuning_there_is_no_memory_watch() -> None:
    # (And the cycles stay until a collection comes by itself.)
    state = probe({"GC_TUNING": False}, wait=0.5)
    assert (state["collected"], state["watching"]) == (False, False)


def test_resident_memory_is_read_on_linux() -> None:
    if not sys.platform.startswith("linux"):
        assert resident_memory() is None
        return
    rss = resident_memory()
    assert rss is not None
    assert 10 * 1024 * 1024 < rss < 10 * 1024 * 1024 * 1024


_GC_PROBE = """
import asyncio, gc, json, sys
from microasgi import MicroASGI
from microasgi.lifespan import run_lifespan

settings = json.loads(sys.argv[1])
if settings.pop("threshold", None):
    gc.set_threshold(50_000, 10, 10)
app = MicroASGI("probe")
app.config.update(settings)

async def main():
    async with run_lifespan(app):
        pass

asyncio.run(main())
print(json.dumps({"frozen": gc.get_freeze_count(), "young": gc.get_threshold()[0]}))
"""


@pytest.mark.parametrize(
    ("settings", "owned", "frozen", "young"),
    [
        # The process is microasgi's only under `microasgi run` (MICROASGI_RUN=1).
        pytest.param({}, True, True, 10_000, id="microasgi-run"),
        pytest.param({}, False, False, 700, id="another-server"),
        pytest.param({"GC_TUNING": True}, False, True, 10_000, id="asked-for"),
        pytest.param({"GC_TUNING": False}, True, False, 700, id="turned-off"),
        pytest.param({"TESTING": True}, True, False, 700, id="testing"),
        pytest.param({"threshold": True}, True, True, 50_000, id="higher-threshold-kept"),
    ],
)
def test_serving_tunes_the_garbage_collector_once_where_microasgi_owns_the_process(
    settings: dict[str, Any], owned: bool, frozen: bool, young: int
) -> None:
    # A fresh interpreter: the tuning is process-wide and happens once.
    env = {k: v for k, v in os.environ.items() if k != "MICROASGI_RUN"}
    if owned:
        env["MICROASGI_RUN"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", _GC_PROBE, json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    state = json.loads(result.stdout)
    assert (state["frozen"] > 0) is frozen
    assert state["young"] == young
