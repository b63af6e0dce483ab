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
"""

from __future__ import annotations

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


def _report(data: Path | None) -> Callable[[], object]:
    """A callable running ``cartcohort report`` once into a fresh folder; raises on failure."""
    out_root = Path(tempfile.mkdtemp(prefix="cartcohort-bench-report-"))
    args = [*_command(), "report"] + ([] if data is None else ["--data", str(data)])

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


if __name__ == "__main__":
    standalone(cases)
