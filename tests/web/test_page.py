"""The page in a real browser: real uploads through its file input, against a real service."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.audio_fixtures import song, write
from tests.web.conftest import API_KEY, UPLOAD_LIMIT, WAIT_S, console_errors, screenshot

pytest.importorskip("selenium")

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.slow  # drives Chromium against a real server


@pytest.fixture(scope="module")
def song_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8-s music-like mp3."""
    return write(tmp_path_factory.mktemp("web") / "song.mp3", song(8.0, 44100), 44100)


@pytest.fixture(scope="module")
def not_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A text file with an audio name."""
    path = tmp_path_factory.mktemp("web") / "notes.mp3"
    path.write_text("a shopping list, not a song\n" * 40)
    return path


def open_page(driver, url: str, key: str | None = API_KEY) -> None:
    driver.get(url)
    if key:
        driver.find_element(By.ID, "api-key").send_keys(key)


def upload(driver, *paths: Path) -> None:
    """Choose files through the page's file input, as a person does with the dialog."""
    driver.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in paths))


def drop(driver, *paths: Path) -> None:
    """Drop files on the page, as a person does from a file manager."""
    files = [(p.name, base64.b64encode(p.read_bytes()).decode()) for p in paths]
    driver.execute_script(
        """
        const transfer = new DataTransfer();
        for (const [name, data] of arguments[0]) {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          transfer.items.add(new File([bytes], name));
        }
        const target = document.getElementById("drop");
        target.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
        """,
        files,
    )


def wait_for(driver, selector: str):
    """The first element matching ``selector`` once it is shown."""
    WebDriverWait(driver, WAIT_S).until(
        lambda d: any(e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, selector))
    )
    return next(e for e in driver.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed())


def text_of(scope, selector: str) -> str:
    return scope.find_element(By.CSS_SELECTOR, selector).text.strip()


def assert_shows(shown: str, value: float) -> None:
    """A number shown with two decimals or more equals ``value`` to its last digit."""
    decimals = len(shown.partition(".")[2])
    assert decimals >= 2, shown
    assert abs(float(shown) - value) <= 0.5 * 10**-decimals + 1e-9, (shown, value)


def overflow(driver) -> int:
    """How far the page is wider than the screen, in CSS pixels, at a phone's width."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 375, "height": 800, "deviceScaleFactor": 1, "mobile": True},
    )
    return driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def api_answer(api: httpx.Client, path: Path, **params: str) -> dict:
    with path.open("rb") as f:
        answer = api.post("/v1/emotion", files={"file": (path.name, f)}, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def time_ticks(chart) -> list[float]:
    """The seconds labelled along a chart's time axis."""
    labels = [t.text for t in chart.find_elements(By.CSS_SELECTOR, "text.time-tick")]
    assert all(label.endswith(" s") for label in labels), labels
    return [float(label.removesuffix(" s")) for label in labels]


def test_a_song_shows_the_api_answer(browser, web_server, api, song_mp3) -> None:
    open_page(browser, web_server)
    button = browser.find_element(By.ID, "analyse")
    assert button.text == "Analyse" and not button.is_enabled()  # nothing chosen yet
    browser.find_element(By.ID, "features").click()
    upload(browser, song_mp3)
    card = wait_for(browser, "#results article.song")
    wait_for(browser, "#results .valence")
    expected = api_answer(api, song_mp3, timeline="true", features="true", moods="true")
    assert button.text == "Analyse again" and button.is_enabled()

    assert_shows(text_of(card, ".valence"), expected["valence"])
    assert_shows(text_of(card, ".arousal"), expected["arousal"])
    probability = f"(probability {expected['confidence']['quadrant']:.2f})"
    assert text_of(card, ".quadrant").startswith(f"{expected['quadrant']} {probability}")
    assert text_of(browser, "#status").startswith("song.mp3: valence")
    # One mean on the plane; one point per window on each chart over time.
    assert len(card.find_elements(By.CSS_SELECTOR, ".plane-chart circle.mean")) == 1
    end = max(w["end_s"] for w in expected["timeline"])
    for chart in card.find_elements(By.CSS_SELECTOR, ".time-chart"):
        windows = chart.find_elements(By.CSS_SELECTOR, "circle.window")
        assert len(windows) == len(expected["timeline"])
        # Ticks between the start and the end, in order, not only the two ends.
        ticks = time_ticks(chart)
        assert len(ticks) >= 4 and ticks[0] == 0 and ticks == sorted(set(ticks)), ticks
        assert ticks[-1] <= end + 0.5, (ticks, end)
    rows = card.find_elements(By.CSS_SELECTOR, ".windows tbody tr")
    assert len(rows) == len(expected["timeline"])
    tempo = card.find_element(By.XPATH, ".//th[.='Tempo']/following-sibling::td").text
    assert_shows(tempo.split()[0], expected["features"]["tempo_bpm"])
    # Seven 0-100 descriptors as bars; reverb, 0 or 1, as a word.
    assert len(card.find_elements(By.CSS_SELECTOR, ".feature-table meter")) == 7
    reverb = card.find_element(By.XPATH, ".//th[.='Timbre: reverb']/following-sibling::td")
    assert reverb.text == ("yes" if expected["features"]["timbre"]["reverb"] else "no")
    moods = card.find_element(By.CSS_SELECTOR, ".moods")
    if expected.get("moods"):
        assert len(moods.find_elements(By.CSS_SELECTOR, "meter")) == 9
        hint = moods.find_element(By.CSS_SELECTOR, ".hint").text
        assert "GEMS" in hint and "Geneva Emotional Music Scale" in hint, hint
    else:
        assert not moods.is_displayed()

    card.find_element(By.CSS_SELECTOR, ".raw summary").click()
    raw = json.loads(card.find_element(By.CSS_SELECTOR, ".raw code").text)
    assert raw["valence"] == pytest.approx(expected["valence"], abs=1e-6)
    assert raw["arousal"] == pytest.approx(expected["arousal"], abs=1e-6)
    assert console_errors(browser) == []

    screenshot(browser, "song", width=1280, scheme="light")
    screenshot(browser, "song", width=375, scheme="dark")
    assert overflow(browser) <= 0


def test_a_file_that_is_not_audio_shows_its_sentence(browser, web_server, not_audio) -> None:
    open_page(browser, web_server)
    upload(browser, not_audio)
    error = wait_for(browser, "#error")
    # Which file, and what is wrong with it, said once.
    assert error.text.startswith("notes.mp3: this file is not audio in a supported format")
    assert error.text.lower().count("not audio in a supported format") == 1, error.text
    assert error.get_attribute("role") == "alert"
    assert browser.find_elements(By.CSS_SELECTOR, "#results article") == []
    screenshot(browser, "not-audio", width=1280, scheme="light")
    screenshot(browser, "not-audio", width=375, scheme="dark")


def test_a_file_too_large_shows_its_sentence(browser, web_server, tmp_path) -> None:
    path = write(tmp_path / "long.wav", song(30.0, 44100), 44100)
    assert path.stat().st_size > UPLOAD_LIMIT
    open_page(browser, web_server)
    upload(browser, path)
    error = wait_for(browser, "#error")
    assert error.text.startswith("long.wav: the file is too large for this service")
    screenshot(browser, "too-large", width=375, scheme="light")


def test_several_dropped_files_share_one_plane_and_a_table(
    browser, web_server, api, song_mp3, not_audio
) -> None:
    open_page(browser, web_server)
    drop(browser, song_mp3, not_audio)
    table = wait_for(browser, "#results .batch-table")
    expected = api_answer(api, song_mp3)

    first, second = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    cells = [td.text for td in first.find_elements(By.TAG_NAME, "td")]
    assert cells[1] == "song.mp3"
    assert_shows(cells[2], expected["valence"])
    assert_shows(cells[3], expected["arousal"])
    assert cells[4] == expected["quadrant"]
    assert "not audio" in second.text
    # Only the songs on the plane have a colour: the failed file has no dot.
    assert first.find_elements(By.CSS_SELECTOR, ".swatch")
    assert not second.find_elements(By.CSS_SELECTOR, ".swatch")
    batch = browser.find_element(By.CSS_SELECTOR, "#results .batch")
    assert len(batch.find_elements(By.CSS_SELECTOR, ".plane-chart circle.mean")) == 1
    cards = browser.find_elements(By.CSS_SELECTOR, "#results article.song")
    assert [text_of(c, ".song-name") for c in cards] == ["song.mp3", "notes.mp3"]
    assert text_of(browser, "#status") == "Analysed 2 files; 1 could not be analysed."
    screenshot(browser, "batch", width=1280, scheme="dark")
    screenshot(browser, "batch", width=375, scheme="light")
    assert overflow(browser) <= 0
    # At a phone's width the table fits its column: no sideways scrolling inside it.
    scroll = browser.find_element(By.CSS_SELECTOR, "#results .table-scroll")
    assert (
        browser.execute_script("return arguments[0].scrollWidth - arguments[0].clientWidth", scroll)
        <= 0
    )


def test_the_api_key_is_asked_for_and_kept_for_the_session_only(
    browser, web_server, song_mp3
) -> None:
    open_page(browser, web_server, key=None)
    upload(browser, song_mp3)
    error = wait_for(browser, "#error")
    assert error.text.startswith("The service needs a valid API key")

    # Type the key and press Enter: the same files are analysed again.
    browser.find_element(By.ID, "api-key").send_keys(API_KEY, Keys.ENTER)
    wait_for(browser, "#results .valence")
    assert not browser.find_element(By.ID, "error").is_displayed()
    storage = browser.execute_script(
        "return [sessionStorage.getItem('music-emotion-api-key'), localStorage.length,"
        " document.cookie]"
    )
    assert storage == [API_KEY, 0, ""]
    browser.refresh()
    assert browser.find_element(By.ID, "api-key").get_attribute("value") == API_KEY


def test_usable_with_the_keyboard_alone(browser, web_server, song_mp3) -> None:
    open_page(browser, web_server)
    upload(browser, song_mp3)
    wait_for(browser, "#results .valence")

    # Tab through the page from the top: every control is reached, and has a name.
    browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    reached = []
    for _ in range(30):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        if reached and focused == reached[0]:
            break
        reached.append(focused)
    names = {(e.get_attribute("id") or e.get_attribute("class") or e.tag_name): e for e in reached}
    for control in ("files", "features", "api-key", "analyse", "summary"):
        assert control in names, f"{control} is not reached with Tab: {list(names)}"
        assert names[control].accessible_name.strip(), f"{control} has no accessible name"
    assert names["files"].accessible_name.startswith("Choose audio files")

    # Open the raw JSON, tab to its copy button and press it.
    summary = browser.find_element(By.CSS_SELECTOR, ".raw summary")
    summary.send_keys(Keys.ENTER)
    ActionChains(browser).send_keys(Keys.TAB).perform()
    copy = browser.switch_to.active_element
    assert copy.accessible_name == "Copy the JSON"
    copy.send_keys(Keys.ENTER)
    said = wait_for(browser, ".raw .copied")
    assert said.text.startswith(("Copied.", "Copying is blocked here"))


def refusals(url: str) -> float:
    """How many requests the service has answered 503 so far (its Prometheus counter)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in httpx.get(f"{url}/metrics", timeout=WAIT_S).text.splitlines()
        if line.startswith("music_emotion_requests_total{") and 'status="503"' in line
    )


@contextmanager
def saturated(url: str) -> Iterator[None]:
    """Hold every place of the service with uploads that do not end, until it refuses."""
    release = threading.Event()

    def hold() -> None:
        def body() -> Iterator[bytes]:
            yield b"--held\r\n"
            release.wait()
            yield b"--held--\r\n"

        headers = {"X-API-Key": API_KEY, "Content-Type": "multipart/form-data; boundary=held"}
        httpx.post(f"{url}/v1/emotion", content=body(), headers=headers, timeout=WAIT_S)

    holders: list[threading.Thread] = []
    try:
        while len(holders) < 100:
            probe = httpx.post(
                f"{url}/v1/emotion",
                files={"file": ("probe.wav", b"")},
                headers={"X-API-Key": API_KEY},
                timeout=WAIT_S,
            )
            if probe.status_code == 503:
                break
            holders.append(threading.Thread(target=hold))
            holders[-1].start()
        yield
    finally:
        release.set()
        for holder in holders:
            holder.join()


def test_a_busy_service_is_retried_then_explained(browser, web_server, song_mp3) -> None:
    open_page(browser, web_server)
    with saturated(web_server):
        before = refusals(web_server)
        upload(browser, song_mp3)
        error = wait_for(browser, "#error")
        # The first answer and three retries, each after its Retry-After (others may
        # probe the saturated service meanwhile: at least these four).
        assert refusals(web_server) - before >= 4
    assert error.text.startswith("The service is still busy after 3 retries")
    screenshot(browser, "busy", width=1280, scheme="light")

    browser.find_element(By.ID, "analyse").send_keys(Keys.ENTER)
    wait_for(browser, "#results .valence")
    assert not browser.find_element(By.ID, "error").is_displayed()


def test_a_real_song(browser, web_server, api, shared_datasets) -> None:
    """A real recording with its features (Emotify track 87, the README's example): the
    screenshots in ``docs/`` come from here."""
    path = shared_datasets / "emotify" / "audio" / "87.mp3"
    open_page(browser, web_server)
    browser.find_element(By.ID, "features").click()
    upload(browser, path)
    card = wait_for(browser, "#results article.song")
    wait_for(browser, "#results .valence")
    expected = api_answer(api, path, timeline="true")
    assert_shows(text_of(card, ".valence"), expected["valence"])
    assert_shows(text_of(card, ".arousal"), expected["arousal"])
    # Its five windows: a path through the plane, and a row each in the table.
    assert len(card.find_elements(By.CSS_SELECTOR, ".plane-chart polyline.path")) == 1
    card.find_element(By.CSS_SELECTOR, ".timeline summary").click()
    rows = card.find_elements(By.CSS_SELECTOR, ".windows tbody tr")
    assert len(rows) == len(expected["timeline"]) == 5
    for row, window in zip(rows, expected["timeline"], strict=True):
        valence, arousal = (td.text for td in row.find_elements(By.TAG_NAME, "td"))
        assert_shows(valence, window["valence"])
        assert_shows(arousal, window["arousal"])
    card.find_element(By.CSS_SELECTOR, ".timeline summary").click()
    for scheme in ("light", "dark"):
        for width in (1280, 375):
            screenshot(browser, "real-song", width=width, scheme=scheme)
