"""The API docs pages: Swagger UI at ``DOCS_URL`` and ReDoc at ``REDOC_URL``.

Both render the app's OpenAPI document (``OPENAPI_URL``) and work offline:
their scripts and styles come from the pinned ``openapi-ui-bundles`` package
and are served by the app itself, as files (``send_file``: ``ETag``, ``304``,
``pathsend``), under a URL that names the package's version, so they are
cached for a year as ``immutable``. Every URL in a page is relative to the
page, so the pages work unchanged when the app is mounted under a prefix or
served behind a proxy at one. A Content-Security-Policy limits each page to
its own origin: no web font, image or script from elsewhere (ReDoc's footer
logo, which it would fetch from a CDN, is blocked by it).

The pages are ordinary routes, added when the app serves its first request
and only where no route or mounted app already answers the URL: a user's own
``/docs`` wins, and other requests pay nothing for them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import posixpath
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import openapi_ui_bundles
from openapi_ui_bundles.__about__ import __version__

from .exceptions import NotFound
from .files import FileResponse, send_file
from .wrappers.response import Response

if TYPE_CHECKING:
    from .app import MicroASGI

__all__ = ["ASSETS_VERSION", "add_docs_pages"]

#: The version of ``openapi-ui-bundles`` whose files the pages load; part of the
#: assets' URLs, so a new version is never mixed with a cached old one.
ASSETS_VERSION: str = __version__

# A year, the longest lifetime RFC 9111 caches are asked to honour.
_IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class _Page:
    """One docs page: its config key, its assets (URL name to folder), its HTML."""

    endpoint: str
    config_key: str
    folder: str
    assets: tuple[str, ...]
    head: str  # what the page's <head> adds, with {assets} for the assets' URL
    body: str  # the page's <body>, likewise
    script: str  # the inline script, with {spec} for the spec's URL (a JSON string)


_SWAGGER = _Page(
    endpoint="_microasgi_docs",
    config_key="DOCS_URL",
    folder=str(openapi_ui_bundles.swagger_ui.static_path),
    assets=("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"),
    head=(
        '<link rel="stylesheet" href="{assets}/swagger-ui.css">\n'
        '<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">'
    ),
    body='<div id="swagger-ui"></div>\n<script src="{assets}/swagger-ui-bundle.js"></script>',
    # BaseLayout: no top bar, whose box would load any spec URL typed into it.
    # validatorUrl null: no badge image from the public validator's site.
    script=(
        "window.ui = SwaggerUIBundle({{url: new URL({spec}, document.baseURI).href,"
        ' dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,'
        ' presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"}});'
    ),
)

_REDOC = _Page(
    endpoint="_microasgi_redoc",
    config_key="REDOC_URL",
    folder=str(openapi_ui_bundles.redoc.static_path),
    assets=("redoc.standalone.js",),
    # No icon: the browser would ask for /favicon.ico, which the app may not have.
    head='<link rel="icon" href="data:,">\n<style>body {{ margin: 0; padding: 0; }}</style>',
    body='<div id="redoc"></div>\n<script src="{assets}/redoc.standalone.js"></script>',
    script=(
        "Redoc.init(new URL({spec}, document.baseURI).href, {{}},"
        ' document.getElementById("redoc"));'
    ),
)

PAGES = (_SWAGGER, _REDOC)

_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{head}
</head>
<body>
{body}
<script>{script}</script>
</body>
</html>
"""


def add_docs_pages(app: MicroASGI) -> None:
    """Add the docs pages the config asks for as routes of ``app`` (before it serves).

    A page is added when its URL (``DOCS_URL``, ``REDOC_URL``) is not ``None``,
    the app serves its spec (``OPENAPI_URL`` is not ``None``), and no route or
    mounted app answers a ``GET`` of the page's URL already.
    """
    spec_url = app.config.get("OPENAPI_URL", "/openapi.json")
    if spec_url is None:
        return
    for page in PAGES:
        url = app.config.get(page.config_key)
        if url is None or _taken(app, url):
            continue
        directory = url if url.endswith("/") else posixpath.dirname(url)
        assets_url = f"{url.rstrip('/')}/assets/{ASSETS_VERSION}"
        html_bytes, csp = _render(
            page,
            title=f"{app.config.get('API_TITLE') or app.name} - API docs",
            assets=posixpath.relpath(assets_url, directory),
            spec=posixpath.relpath(spec_url, directory),
        )
        app.add_url_rule(url, endpoint=page.endpoint, view_func=_page_view(html_bytes, csp))
        app.add_url_rule(
            f"{assets_url}/<filename>",
            endpoint=f"{page.endpoint}_assets",
            view_func=_asset_view(page),
        )


def _taken(app: MicroASGI, url: str) -> bool:
    """Whether a route (for any method, or by a redirect) or a mounted app has ``url``."""
    return not isinstance(app.url_map.find(url, "GET"), NotFound) or (
        app._find_mount(url) is not None
    )


def _render(page: _Page, title: str, assets: str, spec: str) -> tuple[bytes, str]:
    """The page's HTML and its Content-Security-Policy (which names its inline script)."""
    # JSON in a <script>: "<" escaped, so no "</script>" can end it early.
    script = page.script.format(spec=json.dumps(spec).replace("<", "\\u003c"))
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    quoted = html.escape(assets)
    text = _HTML.format(
        title=html.escape(title),
        head=page.head.format(assets=quoted),
        body=page.body.format(assets=quoted),
        script=script,
    )
    csp = (
        f"default-src 'none'; script-src 'self' 'sha256-{digest}'; worker-src 'self' blob:;"
        " style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:;"
        " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )
    return text.encode(), csp


def _page_view(body: bytes, csp: str) -> Callable[[], Awaitable[Response]]:
    async def docs_page() -> Response:
        # no-cache: the page is small and names the assets' version; always revalidated.
        headers = {"Content-Security-Policy": csp, "Cache-Control": "no-cache"}
        return Response(body, headers=headers, mimetype="text/html")

    return docs_page


def _asset_view(page: _Page) -> Callable[[str], Awaitable[FileResponse]]:
    paths = {name: os.path.join(page.folder, name) for name in page.assets}

    async def docs_asset(filename: str) -> FileResponse:
        path = paths.get(filename)
        if path is None:
            raise NotFound()
        response = send_file(path, max_age=31536000)
        response.headers["Cache-Control"] = _IMMUTABLE
        return response

    return docs_asset
