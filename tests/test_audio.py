"""Decoding every supported format, limits, and undecodable input."""

from __future__ import annotations

import io
import logging

import librosa
import numpy as np
import pytest

from app.audio import MIN_DURATION_S, decode
from app.errors import AudioTooShortError, EmptyInputError, UndecodableAudioError
from app.features.config import SAMPLE_RATE
from tests.audio_fixtures import FORMATS, encode, song, tone
from tests.damaged_audio import corpus

DAMAGED = corpus()

TAGGED = {
    "mp3 + 4 kB of zeros",
    "mp3 + 2 kB of junk",
    "ID3v2 with a 300 kB picture + mp3",
    "mp3 + APE tag",
    "mp3 + Lyrics3 + ID3v1",
}
"""Damage that leaves every MPEG frame intact: the audio must be the clean file's."""


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_to_the_analysis_rate(song_files, fmt):
    audio = decode(song_files[fmt])
    assert audio.sample_rate == SAMPLE_RATE
    assert audio.source_sample_rate == 48000
    assert audio.channels == 1
    assert audio.samples.dtype == np.float32
    # Lossy codecs add a few ms of encoder delay or padding.
    assert audio.duration_s == pytest.approx(8.0, abs=0.1)
    assert not audio.truncated


@pytest.mark.parametrize("fmt", FORMATS)
def test_lossy_and_lossless_decodings_agree(song_files, fmt):
    reference = decode(song_files["wav"]).mono
    decoded = decode(song_files[fmt]).mono
    n = min(reference.size, decoded.size)
    lag = int(np.argmax(np.correlate(decoded[: 4 * 2205], reference[:2205], mode="valid")))
    similarity = np.corrcoef(reference[: n - lag - 100], decoded[lag : n - 100])[0, 1]
    assert similarity > 0.9


def test_equals_librosa_load(shared_datasets):
    path = shared_datasets / "emotify" / "audio" / "87.mp3"
    expected, _ = librosa.load(path, sr=SAMPLE_RATE)
    np.testing.assert_allclose(decode(path).mono, expected, atol=1e-6)


def test_paths_bytes_and_file_objects_give_the_same_samples(song_files):
    path = song_files["flac"]
    from_path = decode(path).samples
    np.testing.assert_array_equal(decode(path.read_bytes()).samples, from_path)
    np.testing.assert_array_equal(decode(io.BytesIO(path.read_bytes())).samples, from_path)


def test_stereo_keeps_channels_and_mono_averages_them():
    left, right = tone(440, 2.0, 44100), tone(660, 2.0, 44100)
    audio = decode(encode(np.stack([left, right], axis=1), 44100, "wav"))
    assert audio.channels == 2
    np.testing.assert_allclose(audio.mono, audio.samples.mean(axis=0))


def test_decoding_stops_at_the_duration_limit():
    audio = decode(encode(song(6.0), 44100, "flac"), max_duration_s=2.5)
    assert audio.duration_s == pytest.approx(2.5, abs=0.01)
    assert audio.truncated


def test_a_mislabelled_file_is_decoded_by_its_content(tmp_path):
    path = tmp_path / "actually_mp3.wav"
    path.write_bytes(encode(song(3.0), 44100, "mp3"))
    assert decode(path).duration_s == pytest.approx(3.0, abs=0.1)


def test_empty_input_is_refused(tmp_path):
    with pytest.raises(EmptyInputError):
        decode(b"")
    (tmp_path / "empty.mp3").write_bytes(b"")
    with pytest.raises(EmptyInputError):
        decode(tmp_path / "empty.mp3")


@pytest.mark.parametrize(
    "data",
    [b"this is not audio at all " * 200, b"\x89PNG\r\n\x1a\n" + bytes(2000), bytes(5000)],
    ids=["text", "png", "zeros"],
)
def test_non_audio_is_undecodable(data):
    with pytest.raises(UndecodableAudioError):
        decode(data)


def test_too_short_audio_is_refused():
    with pytest.raises(AudioTooShortError):
        decode(encode(tone(440, MIN_DURATION_S / 2), 44100, "wav"))


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_real_world_damage_gives_back_the_audio_it_holds(name):
    data, seconds = DAMAGED[name]
    audio = decode(data)
    assert audio.duration_s == pytest.approx(seconds, rel=0.03)
    assert np.abs(audio.mono).max() > 0.1


def test_tags_and_padding_leave_the_clean_decoding_unchanged():
    clean = decode(encode(song(20.0), 44100, "mp3")).samples
    for name in TAGGED:
        np.testing.assert_array_equal(decode(DAMAGED[name][0]).samples, clean, err_msg=name)


def test_the_decoders_chatter_goes_to_the_debug_log(capfd, caplog):
    with caplog.at_level(logging.DEBUG, logger="music_emotion.audio"):
        decode(DAMAGED["mp3 with 3 kB of garbage in the middle"][0])
        decode(DAMAGED["VBR mp3 without its Xing header"][0])
    assert capfd.readouterr().err == ""
    assert any("resync" in r.getMessage() for r in caplog.records), caplog.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"no frames follow" * 100, "not audio"),
        (encode(song(3.0), 44100, "m4a")[:600], "not audio"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(30), "not audio"),
    ],
    ids=["tag-only", "m4a-header-only", "wav-header-only"],
)
def test_what_no_decoder_can_read_is_refused_with_a_precise_reason(data, message):
    with pytest.raises(UndecodableAudioError, match=message):
        decode(data)
