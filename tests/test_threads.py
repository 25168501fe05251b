"""engine.threads: the engine's batches and chunks on several threads, the same answers as on one."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from model_factory import randomized_model

from conftest import PATHS_ATOL
from sentiment_rnn.artifact.engine_files import engine_from_keras
from sentiment_rnn.engine import encoding, models, threads
from sentiment_rnn.engine.threads import in_threads


def test_every_item_runs_once_and_on_several_threads(monkeypatch):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1})
    seen, names, lock = [], set(), threading.Lock()
    barrier = threading.Barrier(2, timeout=10)  # two items wait for each other: they must run at once

    def work(item):
        if item < 2:
            barrier.wait()
        with lock:
            seen.append(item)
            names.add(threading.current_thread().name)

    in_threads(work, range(10))
    assert sorted(seen) == list(range(10))
    assert len(names) == 2 and all(name.startswith("sentiment-rnn-engine") for name in names)


def test_one_cpu_or_one_item_runs_in_the_calling_thread(monkeypatch):
    names = []
    in_threads(lambda item: names.append(threading.current_thread().name), [0])
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0})
    in_threads(lambda item: names.append(threading.current_thread().name), [0, 1, 2])
    assert names == [threading.current_thread().name] * 4


def test_an_exception_cancels_the_rest_and_is_raised(monkeypatch):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1})
    started = []

    def work(item):
        started.append(item)
        if item == 0:
            raise ValueError("bad item")
        threading.Event().wait(0.01)

    with pytest.raises(ValueError, match="bad item"):
        in_threads(work, range(200))
    assert len(started) < 200  # the items not started were cancelled
    count = len(started)
    threading.Event().wait(0.1)
    assert len(started) == count  # and nothing runs on after the call


@pytest.mark.parametrize("overrides", [("model.cell=simple",), ("model.cell=gru", "model.bidirectional=true")])
def test_threads_change_no_answer(overrides, monkeypatch):
    model, config = randomized_model(*overrides)
    engine = engine_from_keras(model, config)
    texts = [" ".join(["good", "not", "bad", "phone", "battery"][: 1 + i % 5] * (1 + i % 7)) for i in range(3000)]
    monkeypatch.setattr(encoding, "CHUNK_CHARS", 5000)  # many chunks to encode
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1})
    threaded = engine.predict_proba(texts, batch_size=64)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0})
    alone = engine.predict_proba(texts, batch_size=64)
    # the same batches and operations on any number of threads: equal to float32 rounding (engine.threads)
    np.testing.assert_allclose(threaded, alone, rtol=0, atol=PATHS_ATOL)
    assert models.TOKEN_TABLE_FROM_TEXTS < len(texts)  # the table path, which encodes in chunks
