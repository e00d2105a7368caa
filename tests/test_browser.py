"""The examples in a real browser: headless chromium, driven by Selenium.

One browser for the whole test session; each app under a real uvicorn on a
free 127.0.0.1 port, started once for this module. Every wait is explicit
(WebDriverWait), never a sleep.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from microasgi.docs_pages import ASSETS_VERSION

from .browser import (
    fill,
    missing_binary,
    screenshot,
    start_chromium,
    submit,
    wait,
    wait_for_text,
)
from .servers import Server, free_port, uvicorn


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    reason = missing_binary()
    if reason is not None:
        pytest.skip(reason)
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def driver(browser: WebDriver) -> Iterator[WebDriver]:
    """The session's browser, left with one window and no cookies by each test."""
    first = browser.current_window_handle
    yield browser
    for handle in browser.window_handles:
        if handle != first:
            browser.switch_to.window(handle)
            browser.close()
    browser.switch_to.window(first)
    browser.delete_all_cookies()


@pytest.fixture(scope="module")
def blog_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``examples.blog`` with its instance folder (and database) in a temporary folder."""
    env = {
        "BLOG_INSTANCE_PATH": str(tmp_path_factory.mktemp("blog-instance")),
        "MICROASGI_SECRET_KEY": secrets.token_hex(),
    }
    # The app reads MICROASGI_* settings from the environment: pass only ours.
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("MICROASGI_"):
                mp.delenv(name)
        # As the README says: `microasgi --app "examples.blog:create_app()" init-db`.
        cli = [sys.executable, "-m", "microasgi.cli", "--app", "examples.blog:create_app()"]
        init = subprocess.run(
            [*cli, "init-db"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert init.returncode == 0, init.stderr
        assert "Initialized the database." in init.stdout

        port = free_port()
        args = ["--factory", "examples.blog:create_app", "--host", "127.0.0.1", "--port", str(port)]
        server = Server(
            [sys.executable, "-m", "uvicorn", *args, "--log-level", "warning"], port, env
        )
    server.wait_ready()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chat_server() -> Iterator[Server]:
    server = uvicorn("examples.chat.app:app")
    server.wait_ready()
    yield server
    server.stop()


def test_blog_register_login_post_logout(
    driver: WebDriver, blog_server: Server, tmp_path: Path
) -> None:
    url = blog_server.url

    driver.get(f"{url}/auth/register")
    # The first page fetched the stylesheet, and the browser parsed it.
    css = driver.execute_script(
        "const [entry] = performance.getEntriesByName(arguments[0]);"
        " return entry && {status: entry.responseStatus, size: entry.decodedBodySize,"
        " sheets: document.styleSheets.length,"
        " rules: document.styleSheets[0].cssRules.length};",
        f"{url}/static/style.css",
    )
    assert css is not None, "style.css was never requested"
    assert css["status"] == 200
    assert css["size"] > 1000
    assert css["sheets"] == 1
    assert css["rules"] > 10
    fill(driver, {"username": "alice", "password": "correct horse"})
    submit(driver)
    wait_for_text(driver, ".flash", "Welcome, alice! You can log in now.")
    assert driver.current_url == f"{url}/auth/login"

    fill(driver, {"username": "alice", "password": "correct horse"})
    submit(driver)
    wait_for_text(driver, ".flash", "Logged in as alice.")
    assert driver.current_url == f"{url}/"
    assert driver.find_element(By.CSS_SELECTOR, "nav .user").text == "alice"

    driver.find_element(By.LINK_TEXT, "New").click()
    wait_for_text(driver, ".content > header h1", "New Post")
    fill(driver, {"title": "Hello from Chromium", "body": "Written by a real browser."})
    submit(driver)
    wait_for_text(driver, ".flash", 'Published "Hello from Chromium".')
    post = driver.find_element(By.CSS_SELECTOR, "article.post")
    assert post.find_element(By.TAG_NAME, "h1").text == "Hello from Chromium"
    assert "by alice on" in post.text
    assert "Written by a real browser." in post.text

    # The stylesheet applies: the flash box has its background colour.
    flash = driver.find_element(By.CSS_SELECTOR, ".flash")
    assert flash.value_of_css_property("background-color") == "rgba(202, 230, 246, 1)"

    screenshot(driver, tmp_path / "blog.png")

    driver.find_element(By.ID, "logout").click()
    wait_for_text(driver, ".flash", "Logged out.")
    assert driver.find_elements(By.LINK_TEXT, "Log In")
    assert not driver.find_elements(By.ID, "logout")


def test_chat_between_two_windows(driver: WebDriver, chat_server: Server, tmp_path: Path) -> None:
    url = chat_server.url

    driver.get(f"{url}/?name=alice")
    wait_for_text(driver, "#status", "connected as alice")
    alice = driver.current_window_handle

    driver.switch_to.new_window("window")
    driver.get(f"{url}/?name=bob")
    wait_for_text(driver, "#status", "connected as bob")
    bob = driver.current_window_handle

    driver.switch_to.window(alice)
    wait_for_text(driver, "#log", "bob joined")
    driver.find_element(By.ID, "message").send_keys("hello bob")
    driver.find_element(By.ID, "send").click()
    wait_for_text(driver, "#log", "alice: hello bob")
    # The input is emptied once sent.
    wait(driver).until(lambda d: d.find_element(By.ID, "message").get_attribute("value") == "")

    driver.switch_to.window(bob)
    wait_for_text(driver, "#log", "alice: hello bob")
    screenshot(driver, tmp_path / "chat.png")

    driver.close()  # bob leaves: alice's page says so
    driver.switch_to.window(alice)
    wait_for_text(driver, "#log", "bob left")


@pytest.fixture(scope="module")
def docs_server() -> Iterator[Server]:
    """The pets API with its docs pages: at the root, and mounted under /api in Starlette."""
    server = uvicorn("tests.apps.docs_pages:outer")
    server.wait_ready("/docs")
    yield server
    server.stop()


def network(driver: WebDriver) -> list[tuple[str, int | None, str | None]]:
    """``(url, status, blocked_reason)`` of each http(s) request since the last call.

    From Chrome's performance log: ``blocked_reason`` is set for a request the
    browser refused to send (``"csp"``: the page's Content-Security-Policy).
    """
    urls: dict[str, str] = {}
    status: dict[str, int] = {}
    blocked: dict[str, str] = {}
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]  # Chrome only
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        method = message["method"]
        if method == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif method == "Network.responseReceived":
            status[params["requestId"]] = params["response"]["status"]
        elif method == "Network.loadingFailed" and params.get("blockedReason"):
            blocked[params["requestId"]] = params["blockedReason"]
    return [
        (url, status.get(request_id), blocked.get(request_id))
        for request_id, url in urls.items()
        if urlsplit(url).scheme in ("http", "https", "ws", "wss")
    ]


def check_only_local(
    requests: list[tuple[str, int | None, str | None]], expected: set[str]
) -> list[str]:
    """Every URL in ``expected`` was loaded (200), and nothing went to another host.

    Returns the other-origin URLs the page's CSP stopped before they were sent.
    """
    loaded = {url: code for url, code, _ in requests if urlsplit(url).hostname == "127.0.0.1"}
    for url in expected:
        assert loaded.get(url) == 200, (url, loaded)
    elsewhere = [(url, reason) for url, _, reason in requests if url not in loaded]
    assert all(reason == "csp" for _, reason in elsewhere), elsewhere
    return [url for url, _ in elsewhere]


@pytest.mark.parametrize("prefix", ["", "/api"])
def test_swagger_ui_renders_offline(
    driver: WebDriver, docs_server: Server, prefix: str, tmp_path: Path
) -> None:
    network(driver)  # what earlier pages asked for
    base = f"{docs_server.url}{prefix}"
    driver.get(f"{base}/docs")
    operations = "#swagger-ui .opblock .opblock-summary-path"
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, operations)) == 2)
    paths = {e.text for e in driver.find_elements(By.CSS_SELECTOR, operations)}
    assert paths == {"/pets", "/pets/{pet_id}"}
    methods = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-method")]
    assert sorted(methods) == ["GET", "POST"]
    # The stylesheet applies: a GET block is Swagger UI's blue.
    get = driver.find_element(By.CSS_SELECTOR, ".opblock-get .opblock-summary-method")
    assert get.value_of_css_property("background-color") == "rgba(97, 175, 254, 1)"
    screenshot(driver, tmp_path / "swagger-ui.png")

    assets = f"{base}/docs/assets/{ASSETS_VERSION}"
    blocked = check_only_local(
        network(driver),
        {
            f"{base}/docs",
            f"{assets}/swagger-ui.css",
            f"{assets}/swagger-ui-bundle.js",
            f"{base}/openapi.json",
        },
    )
    assert blocked == []


@pytest.mark.parametrize("prefix", ["", "/api"])
def test_redoc_renders_offline(
    driver: WebDriver, docs_server: Server, prefix: str, tmp_path: Path
) -> None:
    network(driver)
    base = f"{docs_server.url}{prefix}"
    driver.get(f"{base}/redoc")
    headings = "[data-section-id^='operation/'] h2"
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, headings)) == 2)
    titles = {e.text for e in driver.find_elements(By.CSS_SELECTOR, headings)}
    assert titles == {"Get a pet.", "Add a pet."}
    screenshot(driver, tmp_path / "redoc.png")

    blocked = check_only_local(
        network(driver),
        {
            f"{base}/redoc",
            f"{base}/redoc/assets/{ASSETS_VERSION}/redoc.standalone.js",
            f"{base}/openapi.json",
        },
    )
    # ReDoc's footer logo, from its CDN: refused by the page's CSP, never sent.
    assert all(urlsplit(url).hostname == "cdn.redoc.ly" for url in blocked), blocked
