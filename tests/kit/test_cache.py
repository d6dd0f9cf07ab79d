"""The one bounded cache (service/kit/cache.py): named caches with a size bound and, where asked, an age bound."""

from __future__ import annotations

import threading

import pytest

from service.kit import cache


def test_a_cache_keeps_at_most_its_size_and_drops_the_least_recently_used() -> None:
    kept = cache.Cache("test.size", maxsize=3)
    for key in "abc":
        kept.put(key, key.upper())
    assert kept.get("a") == "A"  # now the most recently used
    kept.put("d", "D")
    assert len(kept) == 3 and "b" not in kept and kept.get("a") == "A" and kept.get("d") == "D"
    assert kept.get("b", "missing") == "missing"


def test_an_entry_leaves_after_its_age() -> None:
    now = [100.0]
    kept = cache.Cache("test.age", maxsize=10, ttl=300, timer=lambda: now[0])
    kept.put("tree", 1)
    now[0] += 299
    assert kept.get("tree") == 1
    now[0] += 2
    assert kept.get("tree") is None and len(kept) == 0


def test_get_or_make_makes_once() -> None:
    kept = cache.Cache("test.make", maxsize=10)
    made = []
    for _ in range(3):
        assert kept.get_or_make("k", lambda: made.append(1) or "v") == "v"
    assert made == [1]


def test_named_caches_are_one_list_and_clear_all_empties_every_one() -> None:
    first = cache.named("test.registry.one", maxsize=5)
    second = cache.named("test.registry.two", maxsize=5, ttl=60)
    assert cache.named("test.registry.one", maxsize=5) is first
    with pytest.raises(ValueError):
        cache.named("test.registry.one", maxsize=6)  # one name, one bound
    first.put(1, 1)
    second.put(2, 2)
    assert {first, second} <= set(cache.caches())
    cache.clear_all()
    assert len(first) == 0 and len(second) == 0


def test_the_app_caches_are_named_and_bounded() -> None:
    import service.analytics.open311  # noqa: F401  (the modules that make them)
    import service.places.service  # noqa: F401  (makes its caches)
    import service.queue.service  # noqa: F401  (makes its caches)
    import service.web.routes  # noqa: F401  (makes its caches)

    names = {c.name: c for c in cache.caches()}
    for name in ("queue.statements", "queue.place_tree", "queue.place_choices", "places.index", "web.queue_rows",
                 "web.fragments", "analytics.open311_hidden"):
        assert names[name].maxsize > 0
    assert names["queue.place_tree"].ttl == names["places.index"].ttl == 300


def test_threads_share_a_cache_safely() -> None:
    kept = cache.Cache("test.threads", maxsize=64)
    errors = []

    def work(offset: int) -> None:
        try:
            for i in range(5_000):
                kept.put((offset, i % 100), i)
                kept.get((offset, (i * 7) % 100))
        except Exception as exc:  # pragma: no cover - what the lock prevents
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and len(kept) <= 64


def test_a_key_of_several_parts_finds_what_equal_parts_put_and_hashes_its_parts_once() -> None:
    hashed = []

    class Part:
        def __init__(self, value: int) -> None:
            self.value = value

        def __hash__(self) -> int:
            hashed.append(self.value)
            return hash(self.value)

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Part) and other.value == self.value

    kept = cache.Cache("test.key", maxsize=10)
    kept.put(cache.Key(Part(1), "km", None), "row one in Khmer")
    assert kept.get(cache.Key(Part(1), "km", None)) == "row one in Khmer"
    assert kept.get(cache.Key(Part(1), "en", None)) is None and kept.get(cache.Key(Part(2), "km", None)) is None
    assert kept.get((Part(1), "km", None)) is None  # a plain tuple of the same parts is another key
    hashed.clear()
    kept.get(cache.Key(Part(1), "km", None))
    assert hashed == [1]  # once when the key was made, not again on each of the cache's look-ups
