"""A progress bar naming the run in progress: tqdm when installed, else a plain line."""

from __future__ import annotations

import sys
import time
from typing import Any


class Progress:
    """``total`` steps; :meth:`step` starts the next one and says what it is."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.total = total
        self.done = 0
        self.enabled = enabled
        self.started = time.monotonic()
        self._bar: Any = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(
                    total=total,
                    unit="run",
                    dynamic_ncols=True,
                    bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]",
                )

    def step(self, description: str) -> None:
        """Mark the previous step done and show ``description`` as the current one."""
        if self.done:
            self._advance()
        self.done += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_description_str(description, refresh=True)
        else:
            elapsed = time.monotonic() - self.started
            sys.stderr.write(f"\r[{self.done}/{self.total} {elapsed:5.0f}s] {description[:90]:<90}")
            sys.stderr.flush()

    def _advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def write(self, message: str) -> None:
        """Print ``message`` above the bar."""
        if self._bar is not None:
            self._bar.write(message)
        else:
            sys.stderr.write("\n" + message + "\n")

    def close(self) -> None:
        if self.done:
            self._advance()
        if self._bar is not None:
            self._bar.close()
        elif self.enabled:
            sys.stderr.write("\n")
