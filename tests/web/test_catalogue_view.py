"""The catalogue view in a real browser: the songs on a canvas, a song's name on hover,
its similar songs on click, and a playlist between two clicked points, each checked
against the API's own answer."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import start_server, stop_server
from tests.search.conftest import scored_catalogue, search_library  # noqa: F401 (fixtures)
from tests.web.conftest import API_KEY, WAIT_S, console_errors, screenshot
from tests.web.test_page import open_page, wait_for

pytest.importorskip("selenium")

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.slow

MARGIN = 32
"""The plot's margin in the canvas, CSS pixels (app/web/catalogue.js)."""


@pytest.fixture(scope="module")
def catalogue_server(scored_catalogue) -> Iterator[str]:  # noqa: F811
    """A service with the scored catalogue, once it has loaded it."""
    url, process = start_server(
        {"MUSIC_EMOTION_API_KEY": API_KEY, "MUSIC_EMOTION_CATALOGUE": str(scored_catalogue)}
    )
    deadline = time.monotonic() + WAIT_S
    points = f"{url}/v1/catalogue/points"
    while httpx.get(points, headers={"X-API-Key": API_KEY}).status_code != 200:
        assert time.monotonic() < deadline, "the catalogue did not load"
        time.sleep(0.2)
    yield url
    stop_server(process)


def api(url: str, method: str, path: str, **kwargs) -> dict:
    answer = httpx.request(
        method, f"{url}{path}", headers={"X-API-Key": API_KEY}, timeout=WAIT_S, **kwargs
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def name(path: str) -> str:
    return path.rsplit("/", 1)[1]


def open_catalogue(browser, url: str):
    """The page with the catalogue open, its canvas wholly in view (pointer offsets count
    from the centre of an element's visible part)."""
    browser.set_window_size(1280, 1400)
    open_page(browser, url)
    browser.find_element(By.CSS_SELECTOR, "#catalogue > summary").click()
    WebDriverWait(browser, WAIT_S).until(
        lambda d: re.match(r"\d+ songs", d.find_element(By.ID, "catalogue-status").text)
    )
    canvas = browser.find_element(By.ID, "catalogue-plane")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    return canvas


def pointer_at(browser, canvas, valence: float, arousal: float) -> ActionChains:
    """Actions that move the pointer onto a point of the plane."""
    size = canvas.size["width"]
    x = MARGIN + (valence + 1) / 2 * (size - 2 * MARGIN)
    y = MARGIN + (1 - arousal) / 2 * (size - 2 * MARGIN)
    return ActionChains(browser).move_to_element_with_offset(
        canvas, round(x - size / 2), round(y - size / 2)
    )


def test_the_catalogue_is_drawn_and_a_song_shows_its_name_and_its_similar_songs(
    browser, catalogue_server
):
    points = api(catalogue_server, "GET", "/v1/catalogue/points")
    canvas = open_catalogue(browser, catalogue_server)
    status = browser.find_element(By.ID, "catalogue-status").text
    assert status.startswith(f"{points['total']} songs.")
    # A song whose point no other song shares (a copy shares its original's).
    songs = list(zip(points["path"], points["valence"], points["arousal"], strict=True))
    alone = next(
        s for s in songs if all(math.dist(s[1:], o[1:]) > 0.05 for o in songs if o is not s)
    )
    pointer_at(browser, canvas, alone[1], alone[2]).perform()
    hover = browser.find_element(By.ID, "catalogue-hover")
    WebDriverWait(browser, WAIT_S).until(lambda d: hover.text.startswith(name(alone[0])))

    pointer_at(browser, canvas, alone[1], alone[2]).click().perform()
    expected = api(
        catalogue_server,
        "POST",
        "/v1/catalogue/similar",
        params={"limit": 10},
        data={"path": alone[0]},
    )["tracks"]
    items = WebDriverWait(browser, WAIT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#catalogue-list li")
    )
    assert [i.find_element(By.CSS_SELECTOR, ".track-name").text for i in items] == [
        name(t["path"]) for t in expected
    ]
    assert browser.find_element(By.ID, "catalogue-list-title").text == f"Most like {name(alone[0])}"
    assert console_errors(browser) == []
    screenshot(browser, "catalogue-similar", width=1280, scheme="light")
    screenshot(browser, "catalogue-similar", width=375, scheme="dark")


def test_a_playlist_is_drawn_between_two_clicked_points(browser, catalogue_server):
    canvas = open_catalogue(browser, catalogue_server)
    length = browser.find_element(By.ID, "playlist-length")
    length.clear()
    length.send_keys("4")
    browser.find_element(By.ID, "playlist-mode").click()
    pointer_at(browser, canvas, -0.8, -0.6).click().perform()
    pointer_at(browser, canvas, 0.7, 0.5).click().perform()
    said = wait_for(browser, "#catalogue-status")
    WebDriverWait(browser, WAIT_S).until(lambda d: said.text.startswith("A playlist of"))
    found = re.search(r"from (\S+),(\S+) to (\S+),(\S+)\.$", said.text)
    start, end = [float(v) for v in found.groups()[:2]], [float(v) for v in found.groups()[2:]]
    assert start == pytest.approx([-0.8, -0.6], abs=0.02)
    assert end == pytest.approx([0.7, 0.5], abs=0.02)
    expected = api(
        catalogue_server,
        "GET",
        "/v1/catalogue/playlist",
        params={"from": f"{start[0]},{start[1]}", "to": f"{end[0]},{end[1]}", "length": 4},
    )["tracks"]
    items = browser.find_elements(By.CSS_SELECTOR, "#catalogue-list li .track-name")
    assert [i.text for i in items] == [name(t["path"]) for t in expected]
    assert len(expected) == 4
    assert console_errors(browser) == []
    screenshot(browser, "catalogue-playlist", width=1280, scheme="dark")
