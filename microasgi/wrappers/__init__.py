"""The request and response objects: Werkzeug's sansio ``Request`` and ``Response`` over ASGI.

:class:`Request` (:mod:`.request`) preloads the body and reads Werkzeug's
properties from the ASGI scope; :class:`Response` (:mod:`.response`) sends its
own ASGI messages. Flask's ``flask.wrappers`` names them the same.
"""

from __future__ import annotations

from .request import Request
from .response import Response

__all__ = ["Request", "Response"]
