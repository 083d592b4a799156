"""What pages are built from, kept per process while the store's lists stand still: a signed-in
reader's page is rendered for them alone (their account, their votes), but from the same lists
every other reader's page was built from."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from paperfeed.storage import Store

T = TypeVar("T")
MAX_KEPT = 256


class KeptLists:
    """Values by key, each good while `store.list_version()` and `generation()` are what they
    were when it was built (least recently used out first past MAX_KEPT); thread-safe."""

    def __init__(
        self, store: Store, generation: Callable[[], int], max_kept: int = MAX_KEPT
    ) -> None:
        self.store = store
        self.generation = generation
        self.max_kept = max_kept
        self._kept: OrderedDict[Hashable, tuple[tuple[int, int], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The kept value for `key`, or `build()`'s (kept). Versions are read first: a change
        committed while it builds makes the next call build again, never the reverse."""
        versions = (self.store.list_version(), self.generation())
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == versions:
                self._kept.move_to_end(key)
                value: T = kept[1]
                return value
        value = build()
        with self._lock:
            self._kept[key] = (versions, value)
            self._kept.move_to_end(key)
            while len(self._kept) > self.max_kept:
                self._kept.popitem(last=False)
        return value
