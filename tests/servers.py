"""Start an ASGI app under a real server (a subprocess on a free 127.0.0.1 port)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess; ``url`` is its base URL once :meth:`wait_ready` returns."""

    def __init__(self, args: Sequence[str], port: int, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._output = ""
        self.process = subprocess.Popen(
            list(args),
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self, path: str = "/", timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            try:
                httpx.get(self.url + path, timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer in {timeout}s:\n{self.output()}")

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output()  # drain and close the pipe
        return self.process.returncode

    def output(self) -> str:
        """Everything the server printed (once it has exited)."""
        stdout = self.process.stdout
        if self.process.poll() is not None and stdout is not None and not stdout.closed:
            with stdout:
                self._output += stdout.read()
        return self._output


def uvicorn(app: str, env: dict[str, str] | None = None) -> Server:
    """``uvicorn app`` on a free port (not yet waited for)."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    return Server([*args, "--log-level", "warning"], port, env)
