"""Intermediates remembered per signal, so that the descriptors of one song share them.

Several descriptors need the same intermediate of the same audio (its half-rate copy, its
onset strength, its windowed specific loudness, ...). Each module that computes one keeps a
:class:`PerSignal` and asks it first.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


class PerSignal(Generic[T]):
    """Results computed from a signal, remembered while that signal lives.

    Only read-only arrays are remembered (a writable one could change under the cache), and
    remembered arrays are made read-only, as they are shared. Results for one signal at a
    time are kept: the descriptors of one song run together, so a new signal drops the
    others'. Each entry checks that its signal is still the same live object, so a recycled
    ``id`` never returns another signal's result.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, Hashable], tuple[weakref.ref, T]] = {}

    def get(self, signal: object, key: Hashable, compute: Callable[[], T]) -> T:
        """The result for ``signal`` and ``key``: remembered, or computed by ``compute()``."""
        entry = self._entries.get((id(signal), key))
        if entry is not None and entry[0]() is signal:
            return entry[1]
        return self.remember(signal, key, compute())

    def remember(self, signal: object, key: Hashable, value: T) -> T:
        """Remember ``value`` as the result for ``signal`` and ``key`` (if ``signal`` is a
        read-only array); returns ``value``."""
        if not isinstance(signal, np.ndarray) or signal.flags.writeable:
            return value
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
        for other, (ref, _) in list(self._entries.items()):
            if ref() is not signal:
                self._entries.pop(other, None)
        self._entries[(id(signal), key)] = (weakref.ref(signal), value)
        return value
