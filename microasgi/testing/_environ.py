"""Requests made up as Werkzeug does (``EnvironBuilder``), and their ASGI scopes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import werkzeug.test
from werkzeug.datastructures import Headers

from ..typing import Scope

if TYPE_CHECKING:
    from ..app import MicroASGI

Environ = dict[str, Any]


class EnvironBuilder(werkzeug.test.EnvironBuilder):
    """Werkzeug's ``EnvironBuilder`` with the app's defaults, as Flask's.

    Without ``base_url``, the URL is built from ``SERVER_NAME`` (else
    ``localhost``, with ``subdomain`` in front), ``APPLICATION_ROOT`` and
    ``PREFERRED_URL_SCHEME`` (or ``url_scheme``); a ``path`` that is a whole
    URL gives its own scheme and host. ``json`` is encoded by ``app.json``.
    """

    def __init__(
        self,
        app: MicroASGI,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if base_url is not None and (subdomain or url_scheme):
            raise ValueError("Give either 'base_url', or 'subdomain' and 'url_scheme'.")
        if base_url is None:
            host = app.config["SERVER_NAME"] or "localhost"
            if subdomain:
                host = f"{subdomain}.{host}"
            url = urlsplit(path)
            scheme = url.scheme or url_scheme or app.config["PREFERRED_URL_SCHEME"]
            root = app.config["APPLICATION_ROOT"].lstrip("/")
            base_url = f"{scheme}://{url.netloc or host}/{root}"
            path = f"{url.path}?{url.query}" if url.query else url.path
        self.app = app
        super().__init__(path, base_url, *args, **kwargs)

    def json_dumps(self, obj: Any, **kwargs: Any) -> str:
        """Encode ``obj`` with the app's JSON provider."""
        return self.app.json.dumps(obj, **kwargs)


def _wsgi_text(environ: Environ, key: str) -> str:
    # PEP 3333 keeps the URL's bytes in a latin-1 str; ASGI's path is text.
    return str(environ.get(key, "")).encode("latin-1").decode("utf-8", "replace")


def scope_from_environ(environ: Environ) -> Scope:
    """The ASGI HTTP scope of a WSGI environ (its body stays in ``wsgi.input``)."""
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        headers.append((name.replace("_", "-").lower().encode(), str(value).encode("latin-1")))
    root_path = _wsgi_text(environ, "SCRIPT_NAME").rstrip("/")
    path = root_path + (_wsgi_text(environ, "PATH_INFO") or "/")
    raw_path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": environ.get("SERVER_PROTOCOL", "HTTP/1.1").partition("/")[2] or "1.1",
        "method": environ["REQUEST_METHOD"].upper(),
        "scheme": environ["wsgi.url_scheme"],
        "path": path,
        "raw_path": quote(raw_path or b"/", safe="/:@!$&'()*+,;=").encode("ascii"),
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": root_path,
        "headers": headers,
        "client": (
            environ.get("REMOTE_ADDR", "127.0.0.1"),
            int(environ.get("REMOTE_PORT", 50000)),
        ),
        "server": (environ["SERVER_NAME"], int(environ["SERVER_PORT"])),
        "extensions": {},
        "state": {},
    }


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
    builder = EnvironBuilder(app, path, *args, **builder_kwargs(kwargs))
    try:
        environ = builder.get_environ()
        body: bytes = environ["wsgi.input"].read()
    finally:
        builder.close()
    return scope_from_environ(environ), body
