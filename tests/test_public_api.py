"""The names importable from `microasgi` are the contract: adding or removing one is a decision."""

from __future__ import annotations

import microasgi

EXPECTED = {
    "Query", "Header", "Cookie", "Form", "File", "Body", "Problem",
    "BadRequest", "BuildError", "Config", "Conflict", "Flask", "Forbidden", "Gone",
    "HTTPException", "InternalServerError", "MethodNotAllowed", "MicroASGI", "NotAcceptable",
    "NotFound", "Request", "RequestEntityTooLarge", "RequestedRangeNotSatisfiable", "Response",
    "TooManyRequests", "Unauthorized", "UnprocessableEntity", "UnsupportedMediaType", "abort",
    "after_this_request", "copy_current_request_context", "current_app", "g",
    "has_app_context", "has_request_context", "jsonify", "make_response", "redirect",
    "request", "session", "stream_with_context", "url_for", "views", "websocket",
    "Blueprint", "flash", "get_flashed_messages", "get_template_attribute", "render_template",
    "render_template_string", "stream_template", "stream_template_string", "send_file",
    "send_from_directory", "WSGIApp", "ProxyFix",
    # Flask's signals, and blinker's Namespace for an extension's own.
    "Namespace", "appcontext_popped", "appcontext_pushed", "appcontext_tearing_down",
    "before_render_template", "got_request_exception", "message_flashed", "request_finished",
    "request_started", "request_tearing_down", "template_rendered",
}  # fmt: skip


def test_all_is_pinned() -> None:
    assert set(microasgi.__all__) == EXPECTED


def test_every_name_in_all_is_importable_and_documented() -> None:
    for name in microasgi.__all__:
        value = getattr(microasgi, name)
        if callable(value) and not name.startswith("_") and name not in {"g", "session"}:
            assert getattr(value, "__doc__", None), f"{name} has no docstring"


def test_flask_is_an_alias() -> None:
    assert microasgi.Flask is microasgi.MicroASGI
