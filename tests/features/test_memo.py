"""The per-signal memo the timbral descriptors share intermediates through."""

import numpy as np
import pytest

from app.features.timbre.memo import PerSignal


def read_only(values) -> np.ndarray:
    array = np.array(values, dtype=float)
    array.flags.writeable = False
    return array


def test_remembers_results_of_a_read_only_signal_and_shares_them_read_only():
    memo: PerSignal[np.ndarray] = PerSignal()
    signal, calls = read_only([1, 2, 3]), []

    def compute():
        calls.append(1)
        return signal * 2

    first = memo.get(signal, "double", compute)
    assert memo.get(signal, "double", compute) is first and len(calls) == 1
    with pytest.raises(ValueError):
        first[0] = 0.0
    memo.get(signal, "other key", compute)
    assert len(calls) == 2


def test_writable_signals_are_always_recomputed():
    memo: PerSignal[float] = PerSignal()
    signal, calls = np.ones(3), []
    for _ in range(2):
        memo.get(signal, "sum", lambda: calls.append(1) or float(signal.sum()))
    assert len(calls) == 2


def test_a_new_signal_drops_the_previous_ones_results():
    memo: PerSignal[float] = PerSignal()
    a, b, calls = read_only([1.0]), read_only([2.0]), []
    memo.get(a, "k", lambda: calls.append("a") or 1.0)
    memo.get(b, "k", lambda: calls.append("b") or 2.0)
    assert memo.get(a, "k", lambda: calls.append("a") or 1.0) == 1.0
    assert calls == ["a", "b", "a"]
