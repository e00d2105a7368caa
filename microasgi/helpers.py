"""Flask's ``helpers`` module path, for code that imports from it.

Each helper lives in the module of its concept (``url_for`` and
``make_response`` in :mod:`.ctx`, ``flash`` in :mod:`.flashing`, ``send_file``
in :mod:`.files`, ...); this module gathers them under Flask's names, and
holds the two that read the environment.
"""

from __future__ import annotations

import os

from werkzeug.sansio.response import Response as BaseResponse

from .ctx import make_response, stream_with_context, url_for
from .exceptions import abort
from .files import send_file, send_from_directory
from .flashing import flash, get_flashed_messages
from .globals import _cv_app as _cv_app
from .globals import _cv_request as _cv_request
from .globals import current_app, request, request_ctx, session
from .sansio.scaffold import get_root_path
from .signals import message_flashed
from .templating import get_template_attribute
from .wrappers.response import redirect

__all__ = [
    "BaseResponse",
    "abort",
    "current_app",
    "flash",
    "get_debug_flag",
    "get_flashed_messages",
    "get_load_dotenv",
    "get_root_path",
    "get_template_attribute",
    "make_response",
    "message_flashed",
    "redirect",
    "request",
    "request_ctx",
    "send_file",
    "send_from_directory",
    "session",
    "stream_with_context",
    "url_for",
]

_FALSE = frozenset({"0", "false", "no"})


def _env(name: str) -> str | None:
    # Ours first; Flask's name still works, so a ported deployment keeps its settings.
    value = os.environ.get(f"MICROASGI_{name}")
    return value if value is not None else os.environ.get(f"FLASK_{name}")


def get_debug_flag() -> bool:
    """Whether the environment asks for debug mode: ``MICROASGI_DEBUG`` (or Flask's
    ``FLASK_DEBUG``) set to anything but ``0``, ``false`` or ``no``."""
    value = _env("DEBUG")
    return bool(value and value.lower() not in _FALSE)


def get_load_dotenv(default: bool = True) -> bool:
    """Whether to load ``.env`` and ``.flaskenv`` files: ``default``, unless
    ``MICROASGI_SKIP_DOTENV`` (or Flask's ``FLASK_SKIP_DOTENV``) is set, when it is
    loaded only if that is ``0``, ``false`` or ``no``."""
    value = _env("SKIP_DOTENV")
    if not value:
        return default
    return value.lower() in _FALSE
