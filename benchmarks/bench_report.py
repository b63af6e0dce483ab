"""Benchmark ``cartcohort report``: the whole command as a user runs it, start-up included.

Two tasks, each timed as a subprocess (wall clock, Python start-up and imports included):

* ``report, demo cohort``: ``cartcohort report`` with no arguments (every built-in plan
  on the built-in SYNTHETIC demo cohort, 150 patients). Target: 10 s.
* ``report, synthetic N patients``: the same plans on a cohort generated with
  ``cartcohort.demo.generator.generate_synthetic(n=N, seed=SEED)`` and written as CSV
  (all eight tables of the standard, ~2 million lab rows at N = 10,000) to a temporary
  folder; generating and writing the files is set-up, not timed. Target at N = 10,000:
  60 s. ``--scale quick`` uses N = 1,000.

Run ``python benchmarks/bench_report.py`` to print the timings, or
``python benchmarks/run.py --only report``. Without built-in plans installed the tasks
are reported as skipped.

``python benchmarks/bench_report.py resources [N]`` runs the report once (on the demo, or
on N generated patients) and prints what the targets are stated in on a shared machine:
CPU seconds of the whole process tree (user + system of the command and its worker
processes) and the peak resident memory of the largest single process, with the wall
time and the load average beside them.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Impl, Task, standalone

SEED = 20240601
TARGET_DEMO_S = 10.0
TARGET_10K_S = 60.0


def _command() -> list[str]:
    """The installed ``cartcohort`` script, or ``python -m cartcohort.cli``."""
    script = shutil.which("cartcohort")
    return [script] if script else [sys.executable, "-m", "cartcohort.cli"]


def _plans_installed() -> bool:
    from cartcohort.plan.schema import builtin_plans

    return bool(builtin_plans())


def _write_synthetic(n: int, folder: Path) -> Path:
    """Generate ``n`` SYNTHETIC patients and write them as a cohort folder of CSV files."""
    import yaml

    from cartcohort.demo.generator import generate_synthetic

    tables = generate_synthetic(n=n, seed=SEED)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    meta = {"name": f"synthetic-{n}", "synthetic": True}
    (folder / "cohort.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return folder


#: ``--max-rows`` for the generated cohorts: their labs table (2.2 million rows at 10,000
#: patients) is above the default read limit of one table.
MAX_ROWS = 100_000_000


def _args(data: Path | None) -> list[str]:
    """The ``cartcohort report`` command for ``data`` (``None``: the demo)."""
    extra = [] if data is None else ["--data", str(data), "--max-rows", str(MAX_ROWS)]
    return [*_command(), "report", *extra]


def _report(data: Path | None) -> Callable[[], object]:
    """A callable running ``cartcohort report`` once into a fresh folder; raises on failure."""
    out_root = Path(tempfile.mkdtemp(prefix="cartcohort-bench-report-"))
    args = _args(data)

    def run() -> object:
        out = Path(tempfile.mkdtemp(dir=out_root))
        done = subprocess.run(
            [*args, "--out", str(out)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            msg = f"cartcohort report failed ({done.returncode}): {done.stderr[-2000:]}"
            raise RuntimeError(msg)
        return out

    return run


def cases(scale: str) -> list[Task]:
    """The report benchmarks at ``scale`` (``"full"`` or ``"quick"``)."""
    n = 10_000 if scale == "full" else 1_000

    def synthetic() -> Callable[[], object]:
        folder = _write_synthetic(n, Path(tempfile.mkdtemp(prefix="cartcohort-bench-syn-")))
        return _report(folder)

    return [
        Task(
            name="report, demo cohort (all built-in plans, incl. start-up)",
            impls=[Impl("cartcohort", lambda: _report(None), available=_plans_installed)],
            target_seconds=TARGET_DEMO_S,
            repeat=3,
        ),
        Task(
            name=f"report, synthetic {n:,} patients (all built-in plans, incl. start-up)",
            impls=[Impl("cartcohort", synthetic, available=_plans_installed)],
            target_seconds=TARGET_10K_S if scale == "full" else None,
            repeat=1,
        ),
    ]


def resources(n: int | None) -> dict[str, float]:
    """Run the report once (the demo, or ``n`` generated patients) and measure it.

    Returns
    -------
    dict
        ``cpu_s`` (user + system of the command and every worker process it waited
        for), ``max_rss_mb`` (the largest peak resident set of any one of those
        processes: ``ru_maxrss`` of the children), ``wall_s``, ``load_1min`` at the
        start, ``html_mb`` (size of ``report.html``).
    """
    import time

    work = Path(tempfile.mkdtemp(prefix="cartcohort-bench-resources-"))
    data = None if n is None else _write_synthetic(n, work / "data")
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [*_args(data), "--out", str(work / "out")], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        msg = f"cartcohort report failed ({done.returncode}): {done.stderr[-2000:]}"
        raise RuntimeError(msg)
    html = (work / "out" / "report.html").stat().st_size
    shutil.rmtree(work, ignore_errors=True)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "cpu_s": round(cpu, 1),
        "max_rss_mb": round(after.ru_maxrss / 1024),  # kB on Linux
        "wall_s": round(wall, 1),
        "load_1min": round(load, 2),
        "html_mb": round(html / 1e6, 2),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["resources"]:
        print(resources(int(sys.argv[2]) if len(sys.argv) > 2 else None))
    else:
        standalone(cases)
