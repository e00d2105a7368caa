"""The API spec served at ``OPENAPI_URL``: built once, kept as bytes per ``root_path``.

The route is added when the app freezes its setup (its first request), unless
``OPENAPI_URL`` is ``None`` or one of the app's own rules has that path: a user
route wins. The document is built on the first request for it, in a thread
(a large app takes a moment), then kept. Its ``servers`` entry is the request's
``root_path``, so an app mounted under ``/api`` (in Starlette, FastAPI, another
microasgi app, or behind a proxy) documents URLs that work; the encoded
document is kept for a few ``root_path`` values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from .bridge import run_io
from .globals import request

if TYPE_CHECKING:
    from .app import MicroASGI
    from .wrappers.response import Response

#: The endpoint of the spec's route.
ENDPOINT = "_microasgi_openapi"

#: How many ``root_path`` values keep their encoded document.
_KEPT = 16


def add_openapi_route(app: MicroASGI) -> None:
    """Serve ``app.openapi()`` at ``OPENAPI_URL``, unless it is ``None`` or taken."""
    url = app.config["OPENAPI_URL"]
    if not url or any(rule.rule == url for rule in app.url_map.iter_rules()):
        return
    document: dict[str, Any] = {}
    encoded: dict[str, bytes] = {}

    async def openapi_json() -> Response:
        root_path = request.root_path
        data = encoded.get(root_path)
        if data is None:
            if not document:
                document.update(await run_io(app.openapi))
            data = msgspec.json.encode(_with_servers(document, root_path))
            if len(encoded) < _KEPT:
                encoded[root_path] = data
        return app.response_class(data, mimetype="application/json")

    app.add_url_rule(url, ENDPOINT, openapi_json, include_in_schema=False)


def _with_servers(document: dict[str, Any], root_path: str) -> dict[str, Any]:
    head = {"openapi": document["openapi"], "info": document["info"]}
    return {**head, "servers": [{"url": root_path or "/"}], **document}
