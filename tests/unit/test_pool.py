"""The shared worker pool: work that cannot be pickled, or whose worker died, stays with
the caller."""

from __future__ import annotations

import os
import signal
import threading

from cartcohort._pool import NOT_SENT, WORKER_LOST, WorkerPool


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


def _die() -> None:
    """Killed as the out-of-memory killer kills: SIGKILL, no clean-up, no result."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_worker_is_noticed_not_waited_for() -> None:
    # multiprocessing.Pool replaced the dead worker and waited for its result for ever
    with WorkerPool(2) as pool:
        task = pool.try_submit(_die)
        assert task is not None
        assert task.get() is WORKER_LOST
        assert pool.broken
        assert pool.lost == 1
        assert pool.try_submit(divmod, 7, 2) is None  # the caller does the rest itself
