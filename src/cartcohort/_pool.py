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
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
from collections.abc import Callable
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
        self._pool: Any = None

    @property
    def started(self) -> bool:
        """Whether the workers have been forked (state registered now is not seen)."""
        return self._pool is not None

    def try_submit(self, fn: Callable[..., Any], *args: Any) -> Task | None:
        """Start ``fn(*args)`` in a worker, or return ``None`` when ``fn`` or its arguments
        cannot be pickled (a lambda, say): the caller then runs it itself.

        Raises
        ------
        RuntimeError
            The pool is not :attr:`parallel` (callers check first).
        """
        if not self.parallel:
            msg = "this WorkerPool has no worker processes; run the work in this process"
            raise RuntimeError(msg)
        payload = _dumps((fn, args))
        if payload is None:
            return None
        if self._pool is None:
            self._pool = mp.get_context("fork").Pool(self.workers)
        return Task(self._pool.apply_async(_call, (payload,)))

    def close(self) -> None:
        """Wait for the submitted work and stop the workers."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def terminate(self) -> None:
        """Stop the workers at once (pending work is dropped)."""
        if self._pool is not None:
            self._pool.terminate()
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


class Task:
    """Work started by :meth:`WorkerPool.try_submit`."""

    def __init__(self, pending: Any) -> None:
        self._pending = pending

    def get(self) -> Any:
        """Wait for the result; :data:`NOT_SENT` if it could not be pickled back (an
        exception raised by the work is raised here)."""
        payload = self._pending.get()
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


__all__ = ["NOT_SENT", "Task", "WorkerPool", "default_workers"]
