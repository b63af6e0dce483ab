"""Drawing the figures in worker processes while the main process writes the rest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cartcohort._pool import NOT_SENT, WORKER_LOST, Task, WorkerPool
from cartcohort.render.report.figures import _draw_and_save, _FigureJob, _render

if TYPE_CHECKING:
    pass


#: Called as ``progress(label, index, total)`` before each figure is drawn.
Progress = Callable[[str, int, int], None]


class _Rendering:
    """Figures being drawn: in worker processes while this process runs the next plan and
    writes the tables, the JSON and the XLSX.

    Each figure goes to a worker of the :class:`~cartcohort._pool.WorkerPool`; a ``draw``
    that cannot be pickled (a lambda in a caller's own code) is drawn in this process
    instead. The files written do not depend
    on the number of workers: each figure is drawn and saved by exactly one process with
    the same code. Without worker processes every figure is drawn here, in turn, by
    :meth:`finish`.
    """

    def __init__(self, pool: WorkerPool, *, progress: Progress | None) -> None:
        self.pool = pool
        self.progress = progress
        self.jobs: list[_FigureJob] = []
        self.remote: list[tuple[int, Task]] = []
        self.local: list[int] = []

    def submit(self, jobs: Sequence[_FigureJob]) -> None:
        """Start drawing the jobs not submitted yet (``jobs`` is the writer's growing list)."""
        for job in jobs[len(self.jobs) :]:
            index = len(self.jobs)
            self.jobs.append(job)
            task = (
                self.pool.try_submit(_draw_and_save, job.draw, job.view.name, job.stem)
                if self.pool.parallel
                else None
            )
            if task is None:
                self.local.append(index)
            else:
                self.remote.append((index, task))

    def _tick(self, index: int, done: int) -> None:
        if self.progress is not None:
            self.progress(self.jobs[index].label, done, len(self.jobs))

    def finish(self) -> None:
        """Wait for every figure and put its image (or the problem) into its view."""
        outcomes: dict[int, tuple[str, int] | str] = {}
        for index in self.local:
            outcomes[index] = _render(self.jobs[index])
            self._tick(index, len(outcomes))
        for index, task in self.remote:
            got = task.get()
            # NOT_SENT (the image could not be pickled) or WORKER_LOST (the worker died):
            # drawn here, once
            outcome = _render(self.jobs[index]) if got is NOT_SENT or got is WORKER_LOST else got
            if got is WORKER_LOST and isinstance(outcome, str):
                outcome += (
                    " (Drawn again in the main process after the worker process drawing it "
                    "stopped unexpectedly, e.g. killed when the machine ran out of memory.)"
                )
            outcomes[index] = outcome
            self._tick(index, len(outcomes))
        for index, job in enumerate(self.jobs):
            outcome = outcomes[index]
            if isinstance(outcome, str):
                job.problems.append(outcome)
                if job.views is not None:
                    job.views.remove(job.view)
            else:
                job.view.src, job.view.width_px = outcome
