"""Worker processes shared by the steps of one run: the analyses of the plans and the
figures of the report.

``cartcohort report`` runs a few hundred independent pieces of work (analyses, then
figures); on a machine with several cores they run in forked worker processes while the
main process assembles the results and writes the tables. One pool serves both steps so
that the machine is never asked to run more processes than it has cores.

The pool forks lazily, at the first task: a step can register what its workers need to
read (the analysis dataset, the plans' populations) in module state just before that,
and the forked workers see it without it being pickled. A task (the function, its
arguments and its result) crosses between processes pickled; :meth:`WorkerPool.try_submit`
declines work that cannot be pickled and :meth:`Task.get` says when a result could not
be, so the caller does that work itself. Without ``fork`` (Windows, macOS spawn) or with
one worker, :attr:`WorkerPool.parallel` is false and callers do the work in turn.

A worker that dies (killed with SIGKILL by the out-of-memory killer, say) never leaves
the run waiting: the pool is a :class:`concurrent.futures.ProcessPoolExecutor`, which
notices a worker's death and fails every pending task with ``BrokenProcessPool``.
:meth:`Task.get` then returns :data:`WORKER_LOST`, later submissions are declined
(``None``), and the caller does that work itself, once (see :attr:`WorkerPool.lost`).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any


def default_workers() -> int:
    """Worker processes by default: one per CPU, at most 4."""
    return min(os.cpu_count() or 1, 4)


class WorkerPool:
    """A lazily forked pool of worker processes (a context manager).

    Parameters
    ----------
    workers
        Number of worker processes (default :func:`default_workers`); ``1`` means no
        workers: :attr:`parallel` is false.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else max(int(workers), 1)
        self.parallel = self.workers > 1 and "fork" in mp.get_all_start_methods()
        self._pool: ProcessPoolExecutor | None = None
        #: Whether a worker process died (the remaining work is then done by the caller).
        self.broken = False
        #: Tasks whose worker died before sending a result (:data:`WORKER_LOST`).
        self.lost = 0

    @property
    def started(self) -> bool:
        """Whether the workers have been forked (state registered now is not seen)."""
        return self._pool is not None

    def try_submit(self, fn: Callable[..., Any], *args: Any) -> Task | None:
        """Start ``fn(*args)`` in a worker, or return ``None`` when ``fn`` or its arguments
        cannot be pickled (a lambda, say) or a worker has died: the caller then runs it
        itself.

        Raises
        ------
        RuntimeError
            The pool is not :attr:`parallel` (callers check first).
        """
        if not self.parallel:
            msg = "this WorkerPool has no worker processes; run the work in this process"
            raise RuntimeError(msg)
        payload = _dumps((fn, args))
        if payload is None or self.broken:
            return None
        if self._pool is None:
            # the workers fork here, all at once, before the executor starts its thread
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("fork"))
        try:
            return Task(self._pool.submit(_call, payload), self)
        except BrokenProcessPool:
            self.broken = True
            return None

    def close(self) -> None:
        """Wait for the submitted work and stop the workers."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def terminate(self) -> None:
        """Stop the workers at once (pending work is dropped)."""
        if self._pool is not None:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:  # a task still running would otherwise finish first
                process.kill()
            for process in processes:
                process.join()
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()


#: What :meth:`Task.get` returns when the worker's result could not be pickled.
NOT_SENT = object()
#: What :meth:`Task.get` returns when a worker process died before the result was sent
#: (killed, e.g. by the out-of-memory killer): the caller does the work itself.
WORKER_LOST = object()


class Task:
    """Work started by :meth:`WorkerPool.try_submit`."""

    def __init__(self, pending: Future[bytes | None], pool: WorkerPool) -> None:
        self._pending = pending
        self._pool = pool

    def get(self) -> Any:
        """Wait for the result; :data:`NOT_SENT` if it could not be pickled back,
        :data:`WORKER_LOST` if a worker process died first (an exception raised by the
        work is raised here).

        The wait ends when the work ends: the executor watches its workers and fails
        the pending work as soon as one of them dies, so no timeout is needed (and
        none would suit both a ten-patient and a ten-thousand-patient cohort).
        """
        try:
            payload = self._pending.result()
        except BrokenProcessPool:
            self._pool.broken = True
            self._pool.lost += 1
            return WORKER_LOST
        return NOT_SENT if payload is None else pickle.loads(payload)  # our own pickle


def _dumps(value: object) -> bytes | None:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        return None


def _call(payload: bytes) -> bytes | None:
    """Worker side of a task: run it and pickle its result (``None``: not picklable)."""
    fn, args = pickle.loads(payload)  # our own pickle, same program
    return _dumps(fn(*args))


__all__ = ["NOT_SENT", "WORKER_LOST", "Task", "WorkerPool", "default_workers"]
