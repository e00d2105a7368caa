"""The API docs pages (microasgi/docs_pages.py): Swagger UI and ReDoc, served offline.

The pages in a real browser (they render, and ask nothing of another origin):
tests/test_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import openapi_ui_bundles
from starlette.applications import Starlette
from starlette.routing import Mount

from microasgi import MicroASGI
from microasgi.docs_pages import ASSETS_VERSION
from microasgi.testing import TestClient

ASSET_REF = re.compile(r'(?:href|src)="([^"]+)"')
SPEC_REF = re.compile(r'new URL\("([^"]*)", document\.baseURI\)')
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def make_app(**config: Any) -> MicroASGI:
    app = MicroASGI(__name__)
    app.config.update(config)

    @app.get("/pets/<int:pet_id>")
    async def get_pet(pet_id: int) -> dict[str, int]:
        return {"id": pet_id}

    if app.config.get("OPENAPI_URL", "/openapi.json") == "/openapi.json":

        @app.get("/openapi.json")
        async def spec() -> dict[str, Any]:
            return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}

    return app


def refs(page: str) -> tuple[list[str], str]:
    """The page's asset URLs and its spec URL, as written in it (relative)."""
    found = SPEC_REF.search(page)
    assert found is not None, page
    return [ref for ref in ASSET_REF.findall(page) if not ref.startswith("data:")], found[1]


def test_swagger_ui_page_points_at_its_assets_and_the_spec() -> None:
    client = make_app().test_client()
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assets, spec = refs(response.text)
    base = f"docs/assets/{ASSETS_VERSION}"
    assert assets == [
        f"{base}/swagger-ui.css",
        f"{base}/favicon-32x32.png",
        f"{base}/swagger-ui-bundle.js",
    ]
    assert spec == "openapi.json"
    assert "validatorUrl: null" in response.text  # no badge from the public validator


def test_redoc_page_points_at_its_assets_and_the_spec() -> None:
    client = make_app().test_client()
    response = client.get("/redoc")
    assert response.status_code == 200
    assets, spec = refs(response.text)
    assert assets == [f"redoc/assets/{ASSETS_VERSION}/redoc.standalone.js"]
    assert spec == "openapi.json"


def test_pages_allow_only_their_own_origin_and_their_own_inline_script() -> None:
    client = make_app().test_client()
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        policy = dict(
            part.strip().split(" ", 1)
            for part in response.headers["Content-Security-Policy"].split(";")
        )
        (script,) = INLINE_SCRIPT.findall(response.text)
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert policy["script-src"] == f"'self' 'sha256-{digest}'"
        assert policy["default-src"] == "'none'"
        for directive in ("img-src", "font-src", "style-src", "connect-src"):
            sources = policy[directive].split()
            assert "'self'" in sources
            assert not [s for s in sources if "." in s or s in ("*", "http:", "https:")]
        assert response.headers["Cache-Control"] == "no-cache"


def test_assets_come_from_the_package_with_long_lived_validated_caching() -> None:
    client = make_app().test_client()
    folder = openapi_ui_bundles.swagger_ui.static_path
    response = client.get(f"/docs/assets/{ASSETS_VERSION}/swagger-ui-bundle.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.data == (folder / "swagger-ui-bundle.js").read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = response.headers["ETag"]
    again = client.get(
        f"/docs/assets/{ASSETS_VERSION}/swagger-ui-bundle.js", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.data == b""
    css = client.get(f"/docs/assets/{ASSETS_VERSION}/swagger-ui.css")
    assert css.mimetype == "text/css"
    redoc = client.get(f"/redoc/assets/{ASSETS_VERSION}/redoc.standalone.js")
    assert redoc.status_code == 200
    assert redoc.data == (openapi_ui_bundles.redoc.static_path / "redoc.standalone.js").read_bytes()


def test_only_the_pages_own_assets_are_served() -> None:
    client = make_app().test_client()
    assets = f"/docs/assets/{ASSETS_VERSION}"
    # In the package's folder, but not used by the page.
    assert os.path.exists(openapi_ui_bundles.swagger_ui.static_path / "index.html")
    assert client.get(f"{assets}/index.html").status_code == 404
    assert client.get(f"{assets}/redoc.standalone.js").status_code == 404
    assert client.get(f"{assets}/..%2f__init__.py").status_code == 404
    assert client.get("/docs/assets/0.0.1/swagger-ui.css").status_code == 404


def test_none_turns_a_page_off() -> None:
    client = make_app(DOCS_URL=None).test_client()
    assert client.get("/docs").status_code == 404
    assert client.get(f"/docs/assets/{ASSETS_VERSION}/swagger-ui.css").status_code == 404
    assert client.get("/redoc").status_code == 200
    client = make_app(REDOC_URL=None).test_client()
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs").status_code == 200


def test_no_pages_without_a_spec_to_show() -> None:
    client = make_app(OPENAPI_URL=None).test_client()
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_a_user_route_or_mount_at_the_url_wins() -> None:
    app = make_app()

    @app.get("/docs")
    async def own_docs() -> str:
        return "my docs"

    @app.get("/<page>")
    async def any_page(page: str) -> str:
        return f"page {page}"

    client = app.test_client()
    assert client.get("/docs").text == "my docs"
    assert client.get("/redoc").text == "page redoc"

    app = make_app()
    app.mount("/docs", Starlette())  # 404 for everything, from Starlette
    app.config["REDOC_URL"] = "/reference/"
    client = app.test_client()
    assert client.get("/docs").text == "Not Found"
    assert client.get("/reference/").status_code == 200


def fetch_all(client: TestClient, page_url: str) -> None:
    """Load the page at ``page_url`` and every URL it refers to, resolved as a browser does."""
    page = client.get(page_url)
    assert page.status_code == 200, page_url
    assets, spec = refs(page.text)
    for ref in [*assets, spec]:
        url = urljoin(f"http://localhost{page_url}", ref)
        response = client.get(urlsplit(url).path)
        assert response.status_code == 200, (page_url, ref, url)


def test_urls_elsewhere_are_relative_to_the_page() -> None:
    app = make_app(DOCS_URL="/v1/reference/swagger/", REDOC_URL="/v1/redoc")
    client = app.test_client()
    page = client.get("/v1/reference/swagger/").text
    assets, spec = refs(page)
    assert spec == "../../../openapi.json"
    assert assets[0] == f"assets/{ASSETS_VERSION}/swagger-ui.css"
    fetch_all(client, "/v1/reference/swagger/")
    fetch_all(client, "/v1/redoc")


def test_pages_under_a_mount_prefix() -> None:
    parent = MicroASGI(__name__)
    parent.config.update(DOCS_URL=None, REDOC_URL=None)
    parent.mount("/api", make_app())
    client = parent.test_client()
    assert client.get("/docs").status_code == 404
    fetch_all(client, "/api/docs")
    fetch_all(client, "/api/redoc")


async def test_pages_under_a_starlette_mount() -> None:
    outer = Starlette(routes=[Mount("/api", app=make_app())])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for page_url in ("/api/docs", "/api/redoc"):
            page = await client.get(page_url)
            assert page.status_code == 200
            assets, spec = refs(page.text)
            for ref in [*assets, spec]:
                response = await client.get(urljoin(str(page.url), ref))
                assert response.status_code == 200, ref
