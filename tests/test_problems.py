"""The one problem vocabulary: every error maps to a documented problem type."""

from __future__ import annotations

import pytest

from app.errors import (
    AnalysisTimeoutError,
    AudioTooShortError,
    EmptyInputError,
    InputTooLargeError,
    SilentAudioError,
    UndecodableAudioError,
    WorkerCrashedError,
)
from app.problems import (
    PROBLEM_TYPES,
    SLUG_OF_ERROR,
    SLUG_OF_STATUS,
    ProblemError,
    problem_of,
)


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (EmptyInputError("the file is empty"), 400, "empty-file"),
        (InputTooLargeError("big"), 413, "file-too-large"),
        (UndecodableAudioError("not audio"), 415, "unsupported-audio"),
        (AudioTooShortError("short"), 422, "audio-too-short"),
        (SilentAudioError("silent"), 422, "silent-audio"),
        (WorkerCrashedError("stopped"), 500, "analysis-crashed"),
        (AnalysisTimeoutError("slow"), 504, "analysis-timeout"),
        (ProblemError("too-many-files", "17 files"), 413, "too-many-files"),
    ],
)
def test_each_error_has_its_problem(error, status, slug):
    found = problem_of(error)
    assert (found.status, found.slug, found.detail) == (status, slug, str(error))
    assert found.title == PROBLEM_TYPES[slug].title
    assert found.type == f"/problems/{slug}"
    status_, slug_, title, detail = found  # unpacks as (status, slug, title, detail)
    assert (status_, slug_, title, detail) == tuple(found)


def test_unexpected_errors_are_500_without_their_message():
    found = problem_of(KeyError("/secret/path"))
    assert (found.status, found.slug) == (500, "internal-error")
    assert "secret" not in found.detail


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        (IsADirectoryError(21, "Is a directory", "songs"), "'songs' is a folder, not a file"),
        (FileNotFoundError(2, "No such file", "a.mp3"), "'a.mp3' does not exist"),
        (
            PermissionError(13, "Permission denied", "a.mp3"),
            "'a.mp3' cannot be read: permission denied",
        ),
    ],
)
def test_file_errors_say_what_is_wrong_with_the_path(error, detail):
    found = problem_of(error)
    assert (found.status, found.slug, found.detail) == (400, "unreadable-file", detail)


def test_the_vocabulary_is_closed_and_every_type_is_explained():
    assert set(SLUG_OF_STATUS.values()) | set(SLUG_OF_ERROR.values()) <= set(PROBLEM_TYPES)
    for slug, status in ((s, PROBLEM_TYPES[s].status) for s in SLUG_OF_STATUS.values()):
        assert SLUG_OF_STATUS[status] == slug
    for kind in PROBLEM_TYPES.values():
        assert 400 <= kind.status < 600
        assert kind.title and kind.meaning.endswith(".") and kind.advice.endswith(".")
        assert kind.uri == f"/problems/{kind.slug}"


def test_as_dict_is_an_rfc9457_object():
    body = problem_of(EmptyInputError("the file is empty")).as_dict("/v1/emotion")
    assert body == {
        "type": "/problems/empty-file",
        "title": "Empty file",
        "status": 400,
        "detail": "the file is empty",
        "instance": "/v1/emotion",
    }
