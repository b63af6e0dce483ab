"""Tiny benchmark harness: run a task with several implementations, report medians and ratios.

Each ``benchmarks/bench_<area>.py`` defines ``cases(scale: str) -> list[Task]``; ``run.py``
collects them. A ``Task`` is one piece of work (e.g. "Cox Efron, 100,000 rows, 5 covariates")
done by several ``Impl``s (cartcohort and its peers). A peer that is not installed is skipped
with a note, never faked. Timings are wall-clock medians of ``repeat`` runs; ratios are
peer / cartcohort, so a ratio above 1 means cartcohort is faster.

On a machine shared with other work, wall time measures the load as much as the code:
``run.py --cpu`` switches every timing to CPU time instead (this process's user + system
time for Python implementations, ``system.time``'s ``user.self + sys.self`` inside R), so
both sides of a ratio are charged only for the work they did. CPU time includes every
thread of the process (a multi-threaded BLAS counts in full).
"""

from __future__ import annotations

import gc
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: How repeated timings are summarised: the median (default) or, on a loaded machine,
#: the minimum (``run.py --min``). R's timings are summarised the same way, inside R.
SUMMARY: Callable[[list[float]], float] = statistics.median


#: What is timed: ``"wall"`` (default) or ``"cpu"`` (``run.py --cpu``, a loaded machine).
CLOCK: str = "wall"


def _clock() -> Callable[[], float]:
    return time.process_time if CLOCK == "cpu" else time.perf_counter


def r_timer() -> str:
    """The R expression that reads one ``system.time`` result ``st`` on :data:`CLOCK`."""
    if CLOCK == "cpu":
        return "st[['user.self']] + st[['sys.self']]"
    return "st[['elapsed']]"


def r_summary() -> str:
    """The R function matching :data:`SUMMARY` (``median`` or ``min``)."""
    return "min" if SUMMARY is min else "median"


class Measured(float):
    """A time measured inside the implementation itself (e.g. inside R, excluding R's
    start-up and file reading). ``time_impl`` uses it instead of the wall time of the call."""


@dataclass
class Impl:
    """One implementation of a task. ``setup`` runs untimed and returns the callable to time."""

    name: str
    setup: Callable[[], Callable[[], object]]
    available: Callable[[], bool] = lambda: True


@dataclass
class Task:
    """One piece of work done by several implementations."""

    name: str
    impls: list[Impl]
    target_seconds: float | None = None
    repeat: int = 3
    notes: list[str] = field(default_factory=list)


def time_impl(impl: Impl, repeat: int) -> float | None:
    """Median (or minimum) time of ``repeat`` runs on :data:`CLOCK`; None if the
    implementation is missing."""
    if not impl.available():
        return None
    fn = impl.setup()
    clock = _clock()
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = clock()
        out = fn()
        wall = clock() - t0
        times.append(float(out) if isinstance(out, Measured) else wall)
    return SUMMARY(times)


def r_available() -> bool:
    """Whether ``Rscript`` is on PATH."""
    return shutil.which("Rscript") is not None


def time_r(script: str, data_csv: Path, repeat: int = 3) -> Measured:
    """Median (or minimum) time of an R expression on a CSV, timed inside R (no file reading),
    on :data:`CLOCK` (elapsed, or user + system CPU).

    ``script`` must use the data frame ``d`` and is timed with ``system.time``.
    """
    code = (
        "suppressPackageStartupMessages({library(survival); library(cmprsk)});"
        f"d <- read.csv('{data_csv}');"
        f"t <- replicate({repeat}, {{ st <- system.time({{ {script} }}); {r_timer()} }});"
        f"cat({r_summary()}(t))"
    )
    out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=True)
    return Measured(out.stdout.strip().split()[-1])


def tmp_csv(frame: object) -> Path:
    """Write a pandas frame to a temporary CSV for R."""
    path = Path(tempfile.mkdtemp()) / "data.csv"
    frame.to_csv(path, index=False)  # type: ignore[attr-defined]
    return path


Row = tuple[str, str, float | None, float | None, float | None, bool | None]


def run_tasks(tasks: list[Task]) -> list[Row]:
    """Time every implementation of every task: (task, impl, seconds, ratio, target, met)."""
    rows: list[Row] = []
    for task in tasks:
        results = {impl.name: time_impl(impl, task.repeat) for impl in task.impls}
        ours = results.get("cartcohort")
        for name, seconds in results.items():
            ratio = None if seconds is None or not ours or name == "cartcohort" else seconds / ours
            met = None
            if name == "cartcohort" and task.target_seconds is not None and seconds is not None:
                met = seconds <= task.target_seconds
            rows.append((task.name, name, seconds, ratio, task.target_seconds, met))
    return rows


def print_rows(rows: list[Row], *, markdown: bool = False) -> None:
    """Print the rows as a plain or Markdown table."""
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    header = ("task", "implementation", "median s", "peer/cartcohort", "target s", "met")
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
    for task, name, seconds, ratio, target, met in rows:
        cells = (
            task,
            name,
            "skipped (not installed)" if seconds is None else f"{seconds:.4f}",
            "" if ratio is None else f"{ratio:.1f}×",
            "" if target is None or name != "cartcohort" else f"{target:g}",
            "" if met is None else ("yes" if met else "NO"),
        )
        if markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print("  ".join(f"{c:<28}" if i < 2 else f"{c:>14}" for i, c in enumerate(cells)))


def standalone(cases: Callable[[str], list[Task]]) -> None:
    """``python benchmarks/bench_<area>.py [full|quick]``: run one module's tasks."""
    import sys

    scale = "quick" if "quick" in sys.argv[1:] or "--quick" in sys.argv[1:] else "full"
    print_rows(run_tasks(cases(scale)))
