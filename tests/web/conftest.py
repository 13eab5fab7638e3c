"""A real service and a real browser: Debian's Chromium driven by chromedriver."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.api.conftest import start_server, stop_server
from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

API_KEY = "web-test-key"
"""The test service asks for a key, so that every test also types one into the page."""

UPLOAD_LIMIT = 2_000_000
"""The test service's upload limit: above the real song, below the test's large file."""

ARTIFACTS = Path(os.environ.get("MUSIC_EMOTION_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "web"
"""Where the screenshots are kept for a person (or CI) to look at."""

WAIT_S = 300
"""Longest wait for an answer on the page: generous, a busy machine must not fail a test."""


@pytest.fixture(scope="session")
def web_server() -> Iterator[str]:
    """Base URL of a running service that requires :data:`API_KEY`, with a small upload limit."""
    url, process = start_server(
        {"MUSIC_EMOTION_API_KEY": API_KEY, "MUSIC_EMOTION_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)}
    )
    yield url
    stop_server(process)


@pytest.fixture
def api(web_server: str) -> Iterator[httpx.Client]:
    """An HTTP client of the same service, with the key: the answers the page must show."""
    with httpx.Client(base_url=web_server, headers={"X-API-Key": API_KEY}, timeout=WAIT_S) as c:
        yield c


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """A fresh headless Chromium (its own profile); skips where Chromium is not installed."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


def screenshot(driver, name: str, *, width: int = 1280, scheme: str = "light") -> Path:
    """Save a full-page screenshot at ``width`` CSS pixels in a colour scheme; fail if blank.

    A real rendering has many colours and varied pixels; a blank or failed page has one
    or two colours.
    """
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
    png = driver.get_screenshot_as_png()
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape[1] == width
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) > 50, f"{name}: {len(colours)} colours, the page looks blank"
    assert image.std() > 10, f"{name}: almost uniform pixels, the page looks blank"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-{scheme}-{width}.png"
    path.write_bytes(png)
    return path


def console_errors(driver) -> list[str]:
    """The page's console errors so far: script errors, CSP violations, failed loads."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
