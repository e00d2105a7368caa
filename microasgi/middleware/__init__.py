"""ASGI middleware that ships with microasgi: :class:`~.proxy_fix.ProxyFix`."""

from __future__ import annotations

from .proxy_fix import ProxyFix

__all__ = ["ProxyFix"]
