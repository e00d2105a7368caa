"""microasgi: Flask's programming model, native on ASGI.

Everything a Flask app imports is importable from here; change
``from flask import ...`` to ``from microasgi import ...``.
"""

from __future__ import annotations

from . import views as views
from .app import Flask, MicroASGI
from .blueprints import Blueprint
from .config import Config
from .ctx import (
    after_this_request,
    copy_current_request_context,
    has_app_context,
    has_request_context,
    make_response,
    stream_with_context,
    url_for,
)
from .exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    RequestedRangeNotSatisfiable,
    RequestEntityTooLarge,
    TooManyRequests,
    Unauthorized,
    UnprocessableEntity,
    UnsupportedMediaType,
    abort,
)
from .files import send_file, send_from_directory
from .flashing import flash, get_flashed_messages
from .globals import current_app, g, request, session, websocket
from .json import jsonify
from .middleware.proxy_fix import ProxyFix
from .routing import BuildError
from .signals import (
    Namespace,
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    before_render_template,
    got_request_exception,
    message_flashed,
    request_finished,
    request_started,
    request_tearing_down,
    template_rendered,
)
from .templating import (
    get_template_attribute,
    render_template,
    render_template_string,
    stream_template,
    stream_template_string,
)
from .typed import Body, Cookie, File, Form, Header, Problem, Query
from .wrappers.request import Request
from .wrappers.response import Response, redirect
from .wsgi import WSGIApp

__version__ = "0.1.0"

__all__ = [
    "BadRequest",
    "Blueprint",
    "Body",
    "BuildError",
    "Config",
    "Conflict",
    "Cookie",
    "File",
    "Flask",
    "Forbidden",
    "Form",
    "Gone",
    "HTTPException",
    "Header",
    "InternalServerError",
    "MethodNotAllowed",
    "MicroASGI",
    "Namespace",
    "NotAcceptable",
    "NotFound",
    "Problem",
    "ProxyFix",
    "Query",
    "Request",
    "RequestEntityTooLarge",
    "RequestedRangeNotSatisfiable",
    "Response",
    "TooManyRequests",
    "Unauthorized",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "WSGIApp",
    "abort",
    "after_this_request",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "copy_current_request_context",
    "current_app",
    "flash",
    "g",
    "get_flashed_messages",
    "get_template_attribute",
    "got_request_exception",
    "has_app_context",
    "has_request_context",
    "jsonify",
    "make_response",
    "message_flashed",
    "redirect",
    "render_template",
    "render_template_string",
    "request",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "send_file",
    "send_from_directory",
    "session",
    "stream_template",
    "stream_template_string",
    "stream_with_context",
    "template_rendered",
    "url_for",
    "views",
    "websocket",
]
