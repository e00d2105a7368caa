"""The examples in a real browser: headless chromium, driven by Selenium.

One browser for the whole test session; each app under a real uvicorn on a
free 127.0.0.1 port, started once for this module. Every wait is explicit
(WebDriverWait), never a sleep.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

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
