"""Requests made up as Werkzeug does (``EnvironBuilder``), and their ASGI scopes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import Headers

from ..ctx import EnvironBuilder, made_up_request, scope_from_environ
from ..typing import Scope

if TYPE_CHECKING:
    from ..app import MicroASGI

Environ = dict[str, Any]

__all__ = ["Environ", "EnvironBuilder", "build_scope", "builder_kwargs", "scope_from_environ"]


def builder_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    query_string = kwargs.get("query_string")
    if isinstance(query_string, bytes):  # Werkzeug takes a str or a mapping
        kwargs["query_string"] = query_string.decode("latin-1")
    if kwargs.get("headers"):
        # Werkzeug measures the body for Content-Length; a test that gives one
        # (a wrong one, to see the 400) has it sent as given.
        length = Headers(kwargs["headers"]).get("Content-Length")
        if length is not None:
            kwargs["environ_overrides"] = {
                "CONTENT_LENGTH": length,
                **(kwargs.get("environ_overrides") or {}),
            }
    return kwargs


def build_scope(app: MicroASGI, path: str = "/", *args: Any, **kwargs: Any) -> tuple[Scope, bytes]:
    """An ASGI scope and body for a made-up request; :class:`EnvironBuilder`'s arguments."""
    return made_up_request(app, path, *args, **builder_kwargs(kwargs))
