"""ProxyFix: believe ``X-Forwarded-*`` headers, but only from a known number of proxies.

microasgi takes the client address, scheme, host and mount prefix from the
ASGI scope the server built, and never reads ``X-Forwarded-*`` headers by
itself: any client can send them. Behind a reverse proxy the scope describes
the proxy's connection, not the client's, so wrap the app in :class:`ProxyFix`
and say how many proxies set each header::

    from microasgi.middleware import ProxyFix

    app.add_middleware(ProxyFix, x_for=1, x_proto=1, x_host=1)
    # or: app.asgi_app = ProxyFix(app.asgi_app, x_for=1, x_proto=1, x_host=1)

Each proxy appends what it saw to the right of a header's list, so the value
``n`` places from the right is the one your ``n``-th proxy wrote; everything
left of it came from the client and is ignored.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from ..typing import ASGIApp, Receive, Scope, Send
from ..wrappers.request import valid_host

__all__ = ["ORIG_SCOPE_KEY", "ProxyFix"]

ORIG_SCOPE_KEY = "microasgi.proxy_fix.orig"
"""The scope key under which :class:`ProxyFix` keeps the values it replaced."""

_HEADERS = {
    b"x-forwarded-for": "for",
    b"x-forwarded-proto": "proto",
    b"x-forwarded-host": "host",
    b"x-forwarded-port": "port",
    b"x-forwarded-prefix": "prefix",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ProxyFix:
    """ASGI middleware that applies ``X-Forwarded-*`` headers set by trusted proxies.

    Each argument is the number of proxies in front of the app that set or
    append that header (0 ignores it):

    - ``x_for``: ``X-Forwarded-For`` becomes ``scope["client"]`` (port 0),
      so ``request.remote_addr``;
    - ``x_proto``: ``X-Forwarded-Proto`` (``http``/``https``, and
      ``ws``/``wss`` on websockets) becomes ``scope["scheme"]``;
    - ``x_host``: ``X-Forwarded-Host`` becomes the ``Host`` header and
      ``scope["server"]`` (so ``TRUSTED_HOSTS`` checks the forwarded host);
    - ``x_port``: ``X-Forwarded-Port`` replaces the port in both;
    - ``x_prefix``: ``X-Forwarded-Prefix`` is put in front of
      ``scope["root_path"]`` (and of ``scope["path"]`` unless the proxy
      left the prefix in the path), so ``url_for`` and redirects include it.

    A header with fewer values than trusted hops, or with a malformed value,
    is ignored. The app gets a copy of the scope; the values replaced are
    kept in it under :data:`ORIG_SCOPE_KEY`. Lifespan passes through untouched.
    """

    def __init__(
        self,
        app: ASGIApp,
        x_for: int = 1,
        x_proto: int = 1,
        x_host: int = 0,
        x_port: int = 0,
        x_prefix: int = 0,
    ) -> None:
        trusted = {
            "for": x_for,
            "proto": x_proto,
            "host": x_host,
            "port": x_port,
            "prefix": x_prefix,
        }
        for key, value in trusted.items():
            # bool is an int subclass, but `x_host=True` hides how many proxies
            # are trusted, and that count is the whole point.
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"ProxyFix(x_{key}={value!r}): pass the number of proxies in front of"
                    " the app that set this header, an int >= 0 (0 ignores it)."
                )
        self.app = app
        self.x_for = x_for
        self.x_proto = x_proto
        self.x_host = x_host
        self.x_port = x_port
        self.x_prefix = x_prefix
        self._trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Call the wrapped app with the forwarded values applied (http and websocket)."""
        if scope["type"] in ("http", "websocket"):
            scope = self._fix(scope)
        await self.app(scope, receive, send)

    def _fix(self, scope: Scope) -> Scope:
        """A copy of an http or websocket ``scope`` with the trusted values applied."""
        values = self._forwarded_values(scope)
        fixed: dict[str, Any] = dict(scope)
        headers = list(scope.get("headers", ()))
        fixed[ORIG_SCOPE_KEY] = {
            "client": scope.get("client"),
            "scheme": scope.get("scheme"),
            "host": _header(headers, b"host"),
            "server": scope.get("server"),
            "root_path": scope.get("root_path", ""),
            "path": scope.get("path"),
        }
        websocket = scope["type"] == "websocket"

        client = values.get("for")
        if client and not _CONTROL.search(client):
            fixed["client"] = (client, 0)

        proto = (values.get("proto") or "").lower()
        if proto in ("http", "https"):
            fixed["scheme"] = proto.replace("http", "ws") if websocket else proto
        elif websocket and proto in ("ws", "wss"):
            fixed["scheme"] = proto
        # Anything else (a typo, "ftp", a forged "javascript") keeps the server's scheme.

        host = values.get("host")
        # Anything but host[:port] (a path, user info) would end up in built URLs.
        if host is not None and not (host.isascii() and valid_host(host.encode("ascii"))):
            host = None
        port = values.get("port")
        if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
            port = None
        if host is not None or port is not None:
            self._apply_host(fixed, headers, host, port)

        prefix = _clean_prefix(values.get("prefix"))
        if prefix is not None:
            _apply_prefix(fixed, prefix)
        return fixed

    def _forwarded_values(self, scope: Scope) -> dict[str, str]:
        """The trusted value of each configured header: ``n`` hops from the right."""
        lines: dict[str, list[str]] = {}
        for name, value in scope.get("headers", ()):
            key = _HEADERS.get(name)
            if key is not None and self._trusted[key]:
                lines.setdefault(key, []).append(value.decode("latin-1"))
        picked: dict[str, str] = {}
        for key, found in lines.items():
            # Repeated header lines are one comma-separated list (RFC 9110 5.3).
            items = [item.strip() for item in ",".join(found).split(",")]
            hops = self._trusted[key]
            if len(items) >= hops and items[-hops]:
                picked[key] = items[-hops]
        return picked

    @staticmethod
    def _apply_host(
        fixed: dict[str, Any], headers: list[Any], host: str | None, port: str | None
    ) -> None:
        if host is None:
            # Only the port is forwarded: keep the name the request was sent to.
            current = _header(headers, b"host")
            if current is not None:
                name = _split_host(current)[0]
            elif fixed.get("server"):
                name = str(fixed["server"][0])
            else:
                return
        else:
            name, host_port = _split_host(host)
            port = port or host_port
        default = 443 if fixed.get("scheme") in ("https", "wss") else 80
        number = int(port) if port else default
        # A default port is left out, as browsers send it, so url_for(_external=True)
        # builds https://example.com/, not https://example.com:443/.
        value = name if number == default else f"{name}:{number}"
        others = [(key, val) for key, val in headers if key != b"host"]
        fixed["headers"] = [(b"host", value.encode("latin-1")), *others]
        fixed["server"] = (name.strip("[]"), number)


def _header(headers: list[Any], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def _split_host(host: str) -> tuple[str, str | None]:
    """``"example.com:8443"`` -> ``("example.com", "8443")``; IPv6 brackets kept."""
    if host.endswith("]") or ":" not in host:
        return host, None
    name, _, port = host.rpartition(":")
    return name, port


def _clean_prefix(value: str | None) -> str | None:
    """A forwarded prefix as a ``root_path`` (``"/shop/"`` -> ``"/shop"``), or ``None``.

    ASGI paths are percent-decoded, so the prefix is too. Refused: anything
    not a plain absolute path. ``//host`` in particular would make every
    URL that url_for and redirects build point at another site.
    """
    if not value:
        return None
    prefix = unquote(value).rstrip("/")
    if not prefix.startswith("/") or prefix.startswith("//"):
        return None
    if _CONTROL.search(prefix) or any(char in prefix for char in "\\?#"):
        return None
    if any(segment in (".", "..") for segment in prefix.split("/")):
        return None
    return prefix


def _under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or beneath it (``/shopping`` is not under ``/shop``)."""
    return path == prefix or path.startswith(prefix + "/")


def _apply_prefix(fixed: dict[str, Any], prefix: str) -> None:
    """Put ``prefix`` in front of ``root_path``, keeping ``path`` whole (ASGI 2.5).

    ``path`` must include ``root_path``. A server may have sent it without
    the server's own ``root_path`` (as microasgi's request reads it: a path
    not under ``root_path`` is relative to it), so that is restored first.
    Then the proxy's prefix: a proxy that strips it (``/shop/cart`` reaches
    the app as ``/cart``) gets it added back; one that passes the path on
    unchanged already has it, and adding it again would double it.
    """
    root: str = fixed.get("root_path", "")
    path: str = fixed["path"]
    if root and not _under(path, root):
        path = root + path
    if not _under(path, prefix):
        path = prefix + path
    fixed["root_path"] = prefix + root
    fixed["path"] = path
