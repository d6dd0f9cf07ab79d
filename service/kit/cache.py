"""The app's in-process caches, in one place: each one named, bounded in size and, where its data
can change behind it, in age.

Built on `cachetools` (LRU: the least recently used entry leaves when the cache is full; TTL: an
entry also leaves after `ttl` seconds). Every cache the service keeps between requests is made
here with `named(...)`, so there is one list of them (`caches()`, what `samleng`'s operators can
reason about), one bound on each, and one `clear_all()` — what the tests call before each test so
that no test sees another's kept values.

What is kept here is always derived data (rendered HTML, compiled statements, the place tree):
a lost entry only costs the time to make it again. A cache is safe to use from several threads
(the queue's readers run on a thread pool): each operation holds the cache's own lock.

`functools.lru_cache` stays on pure functions of constants or of their arguments (a catalogue
per language, a time zone by name, a compiled rule set): those never go stale and need no
clearing; docs/architecture.md, "Caches", lists both kinds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

from cachetools import LRUCache, TTLCache

V = TypeVar("V")
_MISSING: Any = object()


class Cache(Generic[V]):
    """One named, bounded cache: `get`, `put`, `get_or_make`, `pop`, `clear`, `len()`."""

    __slots__ = ("name", "maxsize", "ttl", "_data", "_lock")

    def __init__(
        self, name: str, *, maxsize: int, ttl: float | None = None, timer: Callable[[], float] = time.monotonic
    ) -> None:
        if maxsize < 1:
            raise ValueError("a cache holds at least one entry")
        self.name, self.maxsize, self.ttl = name, maxsize, ttl
        self._data: LRUCache | TTLCache = TTLCache(maxsize, ttl, timer) if ttl is not None else LRUCache(maxsize)
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> V | Any:
        with self._lock:
            return self._data.get(key, default)

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            self._data[key] = value
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept under `key`, made by `make()` (outside the lock) and kept when missing."""
        found = self.get(key, _MISSING)
        if found is not _MISSING:
            return found
        return self.put(key, make())

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            if isinstance(self._data, TTLCache):
                self._data.expire()
            return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def __repr__(self) -> str:
        bound = f"{self.maxsize} entries" + (f", {self.ttl:g} s" if self.ttl is not None else "")
        return f"<Cache {self.name}: {bound}>"


_CACHES: dict[str, Cache] = {}
_registry_lock = threading.Lock()


class Key:
    """A key of several parts whose hash is computed once: an LRU cache hashes a key three or four
    times a look-up, and a tuple does not keep its hash (a queue row's key holds a row of fifteen
    values, datetimes among them). Equal when the parts are equal."""

    __slots__ = ("parts", "_hash")

    def __init__(self, *parts: Hashable) -> None:
        self.parts = parts
        self._hash = hash(parts)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and self._hash == other._hash and self.parts == other.parts


def named(name: str, *, maxsize: int, ttl: float | None = None) -> Cache:
    """The cache called `name` (made on first use; the same object for every later call with the name).
    `maxsize`: at most this many entries; `ttl`: an entry leaves after this many seconds."""
    with _registry_lock:
        found = _CACHES.get(name)
        if found is None:
            found = _CACHES[name] = Cache(name, maxsize=maxsize, ttl=ttl)
        elif (found.maxsize, found.ttl) != (maxsize, ttl):
            raise ValueError(f"cache {name!r} already exists with other bounds")
        return found


def caches() -> Iterator[Cache]:
    """Every named cache (for the docs and the tests)."""
    with _registry_lock:
        return iter(list(_CACHES.values()))


def clear_all() -> None:
    """Empty every named cache (the tests call this before each test)."""
    for cache in caches():
        cache.clear()
