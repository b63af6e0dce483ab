"""Run every benchmark side by side with its peers and print one table.

Usage::

    python benchmarks/run.py                 # full sizes (the issue's targets)
    python benchmarks/run.py --scale quick   # 1/100 of the sizes, a smoke run
    python benchmarks/run.py --only cox      # modules whose name contains "cox"
    python benchmarks/run.py --markdown      # a Markdown table for docs/benchmarks.md
    python benchmarks/run.py --min           # minima instead of medians (a loaded machine)
    python benchmarks/run.py --cpu           # CPU time instead of wall time (a loaded machine)
    python benchmarks/run.py --task "1,000,000"   # only tasks whose name contains this

Each ``bench_<area>.py`` module defines ``cases(scale) -> list[Task]``. Ratios are
peer time / cartcohort time: above 1 means cartcohort is faster. Peers that are not
installed (or R without ``Rscript``) are listed as skipped, never estimated.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _harness  # noqa: E402
from _harness import Task, print_rows, run_tasks  # noqa: E402


def load_tasks(scale: str, only: str | None) -> list[tuple[str, Task]]:
    tasks: list[tuple[str, Task]] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if only and only not in path.stem:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        tasks.extend((path.stem, t) for t in module.cases(scale))
    return tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["full", "quick"], default="full")
    parser.add_argument("--only", default=None)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--min", action="store_true", help="report minima, not medians")
    parser.add_argument("--cpu", action="store_true", help="time CPU, not wall clock")
    parser.add_argument("--task", default=None, help="only tasks whose name contains this")
    args = parser.parse_args()
    if args.min:
        _harness.SUMMARY = min
    if args.cpu:
        _harness.CLOCK = "cpu"
    rows = []
    for _, task in load_tasks(args.scale, args.only):
        if args.task and args.task not in task.name:
            continue
        rows += run_tasks([task])
        print(f"done: {task.name}", file=sys.stderr)
    print_rows(rows, markdown=args.markdown)


if __name__ == "__main__":
    main()
