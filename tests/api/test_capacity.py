"""Admission by the expected time to answer: the estimate, the hard cap, and the 503."""

from __future__ import annotations

import asyncio

import pytest

from app.api.capacity import RECENT_ANALYSES, AnalysisPool
from app.settings import Settings, default_model_path
from tests.api.conftest import in_process


def pool(size: int = 2, queue: int = 64, max_wait_s: float = 30.0) -> AnalysisPool:
    """A pool whose processes are never started: admission needs none."""
    return AnalysisPool(default_model_path(), 600.0, size=size, queue=queue, max_wait_s=max_wait_s)


def test_admitted_while_a_process_is_free_however_long_analyses_take():
    p = pool(max_wait_s=30.0)
    p.times.record(100.0)
    p.admitted = 1
    assert p.expected_answer_s() == 0.0
    assert p.retry_after_s() is None


def test_expected_answer_is_the_wait_for_those_ahead_then_its_analysis():
    p = pool(size=2)
    for seconds in (1.0, 3.0):
        p.times.record(seconds)  # a mean of 2 s per request
    p.admitted = 5  # 2 analysing, 3 waiting: 4 must end before the newcomer starts
    assert p.expected_answer_s() == pytest.approx(4 * 2.0 / 2 + 2.0)


def test_estimate_follows_the_recent_analyses_only():
    p = pool(size=1)
    p.times.record(100.0)
    for _ in range(RECENT_ANALYSES):
        p.times.record(1.0)
    p.admitted = 1
    assert p.expected_answer_s() == pytest.approx(1.0 + 1.0)


def test_before_any_request_the_warm_up_analyses_stand_for_one():
    p = pool(size=2)
    for seconds in (0.3, 0.5):  # each process's own warm-up analysis
        p.times.warmed_up(seconds)
    assert p.times.per_request_s() == pytest.approx(0.4)
    p.admitted = 2
    assert p.expected_answer_s() == pytest.approx(0.4 / 2 + 0.4)
    p.times.record(2.0)  # the first request answered: from now on, the requests
    assert p.times.per_request_s() == 2.0


@pytest.mark.slow
def test_the_estimate_at_start_is_the_processes_measured_warm_up():
    """Real processes: what each reports of its warm-up analysis is the estimate."""
    p = pool(size=2)
    try:
        asyncio.run(p.start())
        measured = [worker.warm_up_analysis_s for worker in p.workers]
        assert len(measured) == 2 and all(s > 0 for s in measured)
        assert p.times.per_request_s() == pytest.approx(sum(measured) / 2)
    finally:
        p.shutdown()


def test_refused_past_the_limit_with_retry_after_from_the_same_estimate():
    p = pool(size=2, max_wait_s=30.0)
    p.times.record(2.0)
    p.admitted = 30  # 29 ahead * 2 s / 2 processes + 2 s = 31 s: 1 s past the limit
    assert p.retry_after_s() == 1
    p.admitted = 29  # 30 s: within
    assert p.retry_after_s() is None
    p.admitted = 34  # 35 s: 5 s past
    assert p.retry_after_s() == 5


def test_hard_cap_refuses_whatever_the_expected_time():
    p = pool(size=2, queue=4)
    p.times.warmed_up(1.0)
    p.admitted = 6
    assert p.retry_after_s() == 1  # one place to free: the warm-up's 1 s / 2 processes
    p.times.record(10.0)
    p.admitted = 7  # two places to free, 10 s / 2 processes each
    assert p.retry_after_s() == 10


def test_middleware_answers_503_with_the_retry_after():
    settings = Settings(max_queue_wait_s=5, analysis_processes=1)
    client = in_process(settings)
    shed = client.app.state.pool
    shed.times.record(4.0)
    shed.admitted = 3  # 3 ahead * 4 s + its own 4 s = 16 s: 11 s past the limit
    response = client.post("/v1/emotion", files={"file": ("a.mp3", b"x" * 1000)})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "11"
    assert response.json()["type"] == "/problems/at-capacity"
    # Health, metadata and metrics are always answered.
    assert client.get("/v2/health/live").status_code == 200
