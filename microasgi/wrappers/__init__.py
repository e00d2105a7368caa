"""The request and response objects: Werkzeug's sansio ``Request`` and ``Response`` over ASGI.

:class:`Request` (:mod:`.request`) preloads the body and reads Werkzeug's
properties from the ASGI scope; :class:`Response` (:mod:`.response`) sends its
own ASGI messages. Flask's ``flask.wrappers`` names them the same.

``RequestBase`` and ``ResponseBase`` are, as in Flask, the Werkzeug classes
ours extend: here Werkzeug's *sansio* ones (Flask's are Werkzeug's WSGI
classes, which extend the same sansio bases).
"""

from __future__ import annotations

from werkzeug.sansio.request import Request as RequestBase
from werkzeug.sansio.response import Response as ResponseBase

from ..exceptions import BadRequest, HTTPException
from ..globals import current_app
from .request import Request
from .response import Response

__all__ = [
    "BadRequest",
    "HTTPException",
    "Request",
    "RequestBase",
    "Response",
    "ResponseBase",
    "current_app",
]
