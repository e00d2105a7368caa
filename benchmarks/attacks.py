"""Memory under hostile clients: a worker's resident memory during two attacks, side by side.

Not part of the test suite (it takes a few minutes). Run from the repository root::

    .venv/bin/python -m benchmarks.attacks                   # both attacks, every app
    .venv/bin/python -m benchmarks.attacks --attack websocket --clients 60

Each app of ``benchmarks/attack_app.py`` runs under ``uvicorn --loop uvloop
--http httptools`` (one process): microasgi with ``GC_TUNING`` on, microasgi
with it off, and Starlette. Raw sockets, 8 at a time, then:

- ``websocket``: open a websocket, send one 15 MiB text frame, and close the
  connection abruptly (a TCP reset), 120 times;
- ``upload``: POST a declared 6 MiB body to the mounted WSGI app, send all but
  1,000 bytes of it, and reset the connection, 200 times.

The worker's ``VmRSS`` is sampled every 50 ms; the report gives it before, at its
peak, and two seconds after the last client, per app, as a markdown table.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    ("microasgi", "benchmarks.attack_app:app", {"MICROASGI_ATTACK_GC_TUNING": "1"}),
    ("microasgi, GC_TUNING off", "benchmarks.attack_app:app", {"MICROASGI_ATTACK_GC_TUNING": "0"}),
    ("starlette", "benchmarks.attack_app:starlette", {}),
]
ATTACKS = {"websocket": (15 * 2**20, 120), "upload": (6 * 2**20, 200)}


def rss_mib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("no VmRSS")


def _reset(sock: socket.socket) -> None:
    # SO_LINGER 0: close() sends a reset, as a client that crashed or was cut off.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def websocket_client(port: int, size: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            sock.close()
            return
        head += chunk
    # One masked text frame; a zero mask leaves the payload as it is.
    frame = bytes([0x81, 0xFF]) + struct.pack(">Q", size) + b"\0\0\0\0"
    sock.sendall(frame + b"a" * size)
    time.sleep(0.05)
    _reset(sock)


def upload_client(port: int, size: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /legacy/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % size)
    sock.sendall(b"u" * (size - 1000))
    time.sleep(0.05)
    _reset(sock)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(app: str, env: dict[str, str], attack: str, clients: int) -> tuple[int, int, int]:
    """``(before, peak, after)`` resident MiB of a fresh server under ``attack``."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--log-level", "error", "--loop", "uvloop", "--http", "httptools"],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONWARNINGS": "ignore"},
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ws", timeout=1)
            except OSError as exc:
                if isinstance(exc, ConnectionRefusedError) or "refused" in str(exc):
                    time.sleep(0.1)
                    continue
            break
        time.sleep(0.5)
        before = peak = rss_mib(server.pid)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_mib(server.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        size, _ = ATTACKS[attack]
        client = websocket_client if attack == "websocket" else upload_client
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: client(port, size), range(clients)))
        time.sleep(2)
        done.set()
        sampler.join()
        return before, peak, rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attack", choices=[*ATTACKS, "all"], default="all")
    parser.add_argument("--clients", type=int, help="instead of 120 (websocket) / 200 (upload)")
    args = parser.parse_args()
    if not Path("/proc/self/status").exists():
        print("needs /proc (Linux) to read a process's resident memory", file=sys.stderr)
        return 2
    print("| attack | app | RSS before | peak | 2 s after |")
    print("| --- | --- | --- | --- | --- |")
    for attack in ATTACKS if args.attack == "all" else [args.attack]:
        clients = args.clients or ATTACKS[attack][1]
        for name, app, env in APPS:
            before, peak, after = run(app, env, attack, clients)
            label = f"{attack} ({clients} clients)"
            print(f"| {label} | {name} | {before} MiB | {peak} MiB | {after} MiB |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
