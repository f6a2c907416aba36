"""Readers keep working, on consistent snapshots, while a writer updates."""

from __future__ import annotations

import sys
import threading

from matching import TfidfMatcher
from matching.preprocessing import Analyzer

BASE = [f"torture in prison number {i}" for i in range(200)]
IDS = [f"b{i:03d}" for i in range(200)]


def test_concurrent_readers_and_writer() -> None:
    m = TfidfMatcher().fit(BASE, ids=IDS)
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                hits = m.match("torture prison", top_k=5)
                assert len(hits) == 5 and all(0.0 < h.score <= 1.0 for h in hits)
                assert [(-h.score, h.id) for h in hits] == sorted((-h.score, h.id) for h in hits)
                girls = m.match("girls education", top_k=3)
                assert all(h.id.startswith("n") for h in girls)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(300):  # > 1024 pending is not reached; force compactions too
            m.add([f"girls education {i}"], ids=[f"n{i:03d}"])
            if i % 3 == 0:
                m.remove([f"n{i:03d}"])
            if i % 100 == 99:
                m.compact()
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    assert len(m) == 200 + 200
    assert m.version_ == 300 + 100


def test_threads_stemming_unseen_words_at_once_get_the_serial_answer() -> None:
    """One analyzer (the matcher's) serves every request thread; its Snowball stemmer keeps state per call."""
    words = [f"{stem}{suffix}" for stem in ("nation", "organis", "protect", "educat", "detent", "monitor", "invest")
             for suffix in ("ing", "ings", "ed", "ations", "ational", "ness", "ively", "ful")]  # fmt: skip
    texts = [" ".join(words[i:] + words[:i]) for i in range(len(words))]
    expected = [Analyzer().analyze(t) for t in texts]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so two of them stem at the same time
    try:
        for _ in range(20):
            shared = Analyzer()  # an empty cache: every word goes through the stemmer
            results: dict[int, list[str]] = {}
            errors: list[BaseException] = []

            def work(
                i: int,
                analyzer: Analyzer = shared,
                results: dict[int, list[str]] = results,
                errors: list[BaseException] = errors,
            ) -> None:
                try:
                    results[i] = analyzer.analyze(texts[i])
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, repr(errors[0])
            assert [results[i] for i in range(len(texts))] == expected
    finally:
        sys.setswitchinterval(interval)
