"""The page shows the quadrant's calibrated probability, and a hint when it is low."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import start_server, stop_server
from tests.audio_fixtures import song, write
from tests.model_fixtures import CALIBRATION, copy_model
from tests.web.conftest import API_KEY, WAIT_S, console_errors

pytest.importorskip("selenium")
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.slow  # drives Chromium against a real server

LOW = 0.6
"""The page's threshold of a low quadrant probability (``LOW_CONFIDENCE`` in render.js)."""


WEAK = {"valence_slope": 0.5, "arousal_slope": 0.5, "quadrant_slope": 1.0, "quadrant_intercept": 0}
"""A calibration that is never sure: every quadrant's probability is below 0.4."""


@pytest.fixture(scope="module", params=[CALIBRATION, WEAK], ids=["plausible", "weak"])
def calibrated_server(request, tmp_path_factory) -> Iterator[str]:
    """A service running the shipped model with a calibration in its card."""
    model = copy_model(tmp_path_factory.mktemp("model"), calibration=request.param)
    url, process = start_server(
        {"MUSIC_EMOTION_API_KEY": API_KEY, "MUSIC_EMOTION_MODEL_PATH": str(model)}
    )
    yield url
    stop_server(process)


def test_the_quadrant_shows_its_probability_and_a_hint_when_low(
    browser, calibrated_server, tmp_path
):
    path = write(tmp_path / "song.mp3", song(8.0, 44100), 44100)
    answer = httpx.post(
        f"{calibrated_server}/v1/emotion",
        headers={"X-API-Key": API_KEY},
        files={"file": (path.name, path.read_bytes())},
        timeout=WAIT_S,
    ).json()
    probability = answer["confidence"]["quadrant"]

    browser.get(calibrated_server)
    browser.find_element(By.ID, "api-key").send_keys(API_KEY)
    browser.find_element(By.ID, "files").send_keys(str(path))
    quadrant = WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#results .quadrant .confidence")
    )
    assert quadrant.text == f"(probability {probability:.2f})"
    shown = browser.find_element(By.CSS_SELECTOR, "#results .quadrant").text
    assert shown.startswith(answer["quadrant"])
    assert ("the quadrant is uncertain" in shown) == (probability < LOW), (shown, probability)
    assert console_errors(browser) == []
