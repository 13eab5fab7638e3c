"""What C libraries print on descriptor 2 goes to the log, and nothing else is lost."""

from __future__ import annotations

import logging
import os
import threading

from app.native_stderr import decoder_stderr_to_log


def test_decoder_lines_are_logged_and_other_lines_passed_on(capfd, caplog):
    with caplog.at_level(logging.DEBUG, logger="music_emotion.audio"):
        with decoder_stderr_to_log():
            os.write(2, b"Note: Trying to resync...\n")
            os.write(2, b"a line of someone else's\n")
        os.write(2, b"after\n")
    assert capfd.readouterr().err == "a line of someone else's\nafter\n"
    assert [r.getMessage() for r in caplog.records] == ["decoder: Note: Trying to resync..."]


def test_threads_share_one_redirection_and_the_last_restores_it(capfd):
    inside = threading.Barrier(4)

    def decode_like() -> None:
        with decoder_stderr_to_log():
            inside.wait()  # all four inside at once
            os.write(2, b"Warning: Xing stream size off\n")

    threads = [threading.Thread(target=decode_like) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    os.write(2, b"restored\n")
    assert capfd.readouterr().err == "restored\n"
