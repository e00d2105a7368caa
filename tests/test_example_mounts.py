"""The wsgi_mount and embed examples."""

from __future__ import annotations

import httpx

from examples.embed.app import STARTED, api
from examples.wsgi_mount.app import app as mounted


def test_flask_behind_legacy_next_to_native_routes() -> None:
    client = mounted.test_client()
    assert client.get("/api/health").json == {"status": "ok", "served_by": "microasgi"}
    assert client.get("/legacy/").text == "legacy home; orders are at /legacy/orders"
    assert client.get("/legacy/orders").json == {"orders": ["tea", "cake"]}
    created = client.post("/legacy/orders", data={"item": "scone"})
    assert (created.status_code, created.json) == (201, {"created": "scone"})
    assert client.get("/legacy/missing").status_code == 404
    assert 'href="/legacy/"' in client.get("/").text


async def test_microasgi_inside_fastapi() -> None:
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/api/items/5")).json() == {"item_id": 5}
        first = await client.get("/site/")
        assert first.text == '<p>Visit 1. <a href="/site/about">About</a></p>'
        assert "Path=/" in first.headers["set-cookie"]
        assert (await client.get("/site/")).text.startswith("<p>Visit 2.")
        moved = await client.get("/site/old-about")
        assert moved.headers["location"] == "/site/about"
        about = await client.get("/site/about")
        assert about.text == "<p>This page is http://testserver/site/about</p>"
    assert STARTED == ["site started"]
