"""The app's logger, as Flask's ``logging`` module sets it up.

``app.logger`` is the logger named after the app. If nothing would show its
messages (no handler at its level on it or its parents), :data:`default_handler`
is added; remove it to configure logging yourself::

    from microasgi.logging import default_handler

    app.logger.removeHandler(default_handler)

Importing microasgi configures no logging: only the app's own logger gets
a handler, and only when it is first used.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, TextIO, cast

from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from .sansio.app import App

__all__ = [
    "LocalProxy",
    "create_logger",
    "default_handler",
    "has_level_handler",
    "wsgi_errors_stream",
]


def _error_stream() -> TextIO:
    return sys.stderr


#: Where :data:`default_handler` writes: the process's standard error, looked up on
#: each write (so redirecting ``sys.stderr``, as test runners do, is followed).
#: Flask's writes to the request's ``wsgi.errors`` during a request; ASGI has no
#: per-request error stream, so here it is always standard error. Refer to it from
#: logging configuration as
#: ``ext://microasgi.logging.wsgi_errors_stream``.
wsgi_errors_stream: TextIO = cast("TextIO", LocalProxy(_error_stream))


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether a handler on ``logger``, or on a parent it propagates to, would emit a
    message at the logger's effective level."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


#: The handler :func:`create_logger` adds: :data:`wsgi_errors_stream`, formatted as
#: ``[%(asctime)s] %(levelname)s in %(module)s: %(message)s``.
default_handler: logging.Handler = logging.StreamHandler(wsgi_errors_stream)
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def create_logger(app: App) -> logging.Logger:
    """The logger named after ``app`` (``app.name``), set up as Flask sets it up.

    In debug mode a logger with no level of its own gets ``DEBUG``; a logger
    whose messages nothing would show gets :data:`default_handler`.
    """
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
