"""Real-world damage to real encoded audio, generated on the fly (no binary fixtures).

What catalogues are full of: tags that decoders must skip (a large ID3v2 picture, APE,
Lyrics3), padding and junk before or after the audio, variable bit rate MP3s whose
length header was stripped, files cut short, garbage in the middle of the stream, and
files named for another format. Each entry is ``name -> (bytes, seconds)``: the audio
any good decoder (the ``ffmpeg`` command) recovers from it.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import soundfile as sf

from tests.audio_fixtures import encode, song

SECONDS = 20.0
RATE = 44100


def id3v2_with_picture(picture_bytes: int, seed: int = 0) -> bytes:
    """An ID3v2.3 tag holding one cover picture (APIC frame) of ``picture_bytes``."""
    data = b"\x00image/jpeg\x00\x03\x00" + np.random.default_rng(seed).bytes(picture_bytes)
    frame = b"APIC" + struct.pack(">I", len(data)) + b"\x00\x00" + data
    size = len(frame)
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x03\x00\x00" + syncsafe + frame


def ape_tag() -> bytes:
    """An APEv2 tag (header, two items, footer), as appended by many taggers."""
    items = b"".join(
        struct.pack("<II", len(value), 0) + key + b"\x00" + value
        for key, value in ((b"Title", b"A song"), (b"Artist", b"Someone"))
    )
    size = len(items) + 32
    header = b"APETAGEX" + struct.pack("<IIII", 2000, size, 2, 0xA0000000) + bytes(8)
    footer = b"APETAGEX" + struct.pack("<IIII", 2000, size, 2, 0x80000000) + bytes(8)
    return header + items + footer


def lyrics3_and_id3v1() -> bytes:
    """A Lyrics3v2 block followed by an ID3v1 tag, at the end of a file."""
    body = b"LYRICSBEGIN" + b"IND00003110" + b"LYR00011hello world"
    id3v1 = b"TAG" + b"A song".ljust(30, b"\x00") + bytes(95)
    return body + b"%06d" % len(body) + b"LYRICS200" + id3v1


def vbr_mp3(samples: np.ndarray) -> bytes:
    """A variable bit rate MP3 (LAME through libsndfile), with its Xing header."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, RATE, format="MP3", bitrate_mode="VARIABLE", compression_level=0.3)
    return buffer.getvalue()


def without_first_frame(mp3: bytes) -> bytes:
    """``mp3`` less its first frame: there LAME keeps the Xing header, the exact length."""
    header = int.from_bytes(mp3[:4], "big")
    assert header >> 21 == 0x7FF, "the file must start with an MPEG frame"
    kbps = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
    bitrate = kbps[(header >> 12) & 0xF] * 1000
    rate = (44100, 48000, 32000)[(header >> 10) & 0x3]
    return mp3[144 * bitrate // rate + ((header >> 9) & 1) :]


def corpus() -> dict[str, tuple[bytes, float]]:
    """Damaged files and the seconds of audio each still holds."""
    rng = np.random.default_rng(1)
    y = song(SECONDS, RATE)
    mp3 = encode(y, RATE, "mp3")
    vbr = vbr_mp3(y)
    middle = len(mp3) // 2
    flac, m4a, ogg = (encode(y, RATE, fmt) for fmt in ("flac", "m4a", "ogg"))
    return {
        "mp3 + 4 kB of zeros": (mp3 + bytes(4096), SECONDS),
        "mp3 + 2 kB of junk": (mp3 + rng.bytes(2048), SECONDS),
        "1 kB of junk + mp3": (rng.bytes(1024) + mp3, SECONDS),
        "4 kB of zeros + mp3": (bytes(4096) + mp3, SECONDS),
        "ID3v2 with a 300 kB picture + mp3": (id3v2_with_picture(300_000) + mp3, SECONDS),
        "mp3 + APE tag": (mp3 + ape_tag(), SECONDS),
        "mp3 + Lyrics3 + ID3v1": (mp3 + lyrics3_and_id3v1(), SECONDS),
        "VBR mp3 + 4 kB of zeros": (vbr + bytes(4096), SECONDS),
        "VBR mp3 without its Xing header": (without_first_frame(vbr), SECONDS),
        "mp3 with 3 kB of garbage in the middle": (
            mp3[:middle] + rng.bytes(3000) + mp3[middle:],
            SECONDS,
        ),
        "mp3 cut at 60%": (mp3[: int(len(mp3) * 0.6)], 0.6 * SECONDS),
        "flac cut at 60%": (flac[: int(len(flac) * 0.6)], 0.6 * SECONDS),
        "flac + 2 kB of junk": (flac + rng.bytes(2048), SECONDS),
        "ogg + 2 kB of junk": (ogg + rng.bytes(2048), SECONDS),
        "m4a + 2 kB of junk": (m4a + rng.bytes(2048), SECONDS),
    }
