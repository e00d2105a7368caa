"""Drive Debian's chromium through its chromedriver with Selenium.

Both binaries are given by path, so Selenium Manager never runs (it would try
to download a browser and a driver).
"""

from __future__ import annotations

import os
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: How long an explicit wait waits before failing the test.
WAIT_SECONDS = 10.0


def missing_binary() -> str | None:
    """Why the browser can't start (which binary is missing), or None."""
    for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)):
        if not os.access(path, os.X_OK):
            return (
                f"{name} is not installed ({path} not found);"
                " apt-get install chromium chromium-driver"
            )
    return None


def start_chromium(user_data_dir: Path) -> WebDriver:
    """A headless chromium with its own profile folder, quiet and offline-minded."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        f"--user-data-dir={user_data_dir}",
    ):
        options.add_argument(flag)
    # Chrome's network events, read by tests that check where a page's requests went.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT_SECONDS)


def wait_for_text(driver: WebDriver, css: str, text: str) -> None:
    """Wait until the element ``css`` contains ``text`` (page loads included)."""

    def present(driver: WebDriver) -> bool:
        try:
            return text in driver.find_element(By.CSS_SELECTOR, css).text
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        except WebDriverException as exc:
            # Chromium, mid-navigation: the element was found in the page being
            # replaced (seen once in CI after a form submit). Look again.
            if "does not belong to the document" in str(exc):
                return False
            raise

    wait(driver).until(
        present, f"{text!r} never appeared in {css!r}; page was {driver.current_url}"
    )


def fill(driver: WebDriver, fields: dict[str, str]) -> None:
    """Type into the form fields with these ids."""
    for field_id, value in fields.items():
        element = driver.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(value)


def submit(driver: WebDriver) -> None:
    driver.find_element(By.CSS_SELECTOR, "form input[type=submit]").click()


def screenshot(driver: WebDriver, path: Path) -> Path:
    """Save a PNG of the current window and check it was written."""
    assert driver.save_screenshot(str(path))
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 1000
    return path
