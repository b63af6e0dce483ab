"""The shared worker pool: work that cannot be pickled stays with the caller."""

from __future__ import annotations

import threading

from cartcohort._pool import NOT_SENT, WorkerPool


def _lock() -> threading.Lock:  # a result that cannot be pickled
    return threading.Lock()


def test_try_submit_declines_and_reports_what_cannot_be_pickled() -> None:
    with WorkerPool(2) as pool:
        assert pool.try_submit(lambda: 1) is None  # a lambda: the caller runs it
        assert not pool.started
        task = pool.try_submit(divmod, 7, 2)
        assert task is not None
        assert pool.started
        assert task.get() == (3, 1)
        unsent = pool.try_submit(_lock)
        assert unsent is not None
        assert unsent.get() is NOT_SENT
