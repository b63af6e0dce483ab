"""Benchmarks: exact Fisher tests on r x c tables at registry sizes, against R's ``fisher.test``.

Run alone with ``python benchmarks/bench_fisher.py [full|quick]``. ``full`` uses the tables of
issue 18 (2 x 5 tables of 10,000 patients), 2 x k tables of 1,000 and 3 x k tables of 1,000-10,000;
``quick`` only the small 2 x k and 3 x 3 tables. R is timed inside R (``system.time`` around
``fisher.test(x, workspace = 2e8)``), so R's start-up is not counted. lifelines has no
Fisher test; scipy's r x c ``fisher_exact`` is a Monte-Carlo approximation by default and
is not timed (it answers a different question).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness
from _harness import Impl, Measured, Task, r_available, standalone

from cartcohort.analyse.contingency import fisher_exact

#: (name, table) pairs; the first two are the issue's 2 x 5 tables of 10,000 patients.
TABLES: list[tuple[str, list[list[int]]]] = [
    ("2 x 5, n = 10,000, unbalanced", [[900, 800, 580, 465, 330], [2100, 1700, 1420, 1035, 670]]),
    ("2 x 5, n = 10,000, balanced", [[1000] * 5, [1000] * 5]),
    ("2 x 5, n = 10,000, p = 2e-7", [[900, 800, 520, 465, 360], [2100, 1700, 1480, 1035, 640]]),
    ("2 x 5, n = 1,000", [[95, 80, 58, 46, 33], [205, 170, 142, 104, 67]]),
    ("2 x 6, n = 1,000, p = 2e-5", [[30, 48, 28, 60, 44, 33], [138, 124, 126, 96, 120, 153]]),
    ("2 x 3, n = 3,000", [[606, 611, 618], [394, 389, 382]]),
    # 3 x k (the tables of tests/reference/cases/fisher_rxc.json and two beyond)
    ("3 x 3, n = 1,000", [[114, 122, 101], [104, 101, 117], [104, 128, 109]]),
    ("3 x 3, n = 1,000, unbalanced", [[285, 168, 99], [137, 97, 82], [50, 41, 41]]),
    ("3 x 3, n = 1,000, p = 7e-5", [[156, 130, 105], [99, 116, 152], [69, 79, 94]]),
    ("3 x 3, n = 996, p = 2e-14", [[175, 110, 68], [110, 110, 110], [68, 110, 135]]),
    ("3 x 3, n = 3,000", [[345, 291, 359], [334, 331, 333], [342, 332, 333]]),
    (
        "3 x 3, n = 10,000 (R: FEXACT error 501)",
        [[1080, 1152, 1111], [1144, 1099, 1066], [1125, 1139, 1084]],
    ),
    ("3 x 4, n = 1,000", [[123, 101, 78, 38], [141, 96, 80, 24], [124, 99, 55, 41]]),
]
QUICK = {
    "2 x 5, n = 1,000",
    "2 x 6, n = 1,000, p = 2e-5",
    "2 x 3, n = 3,000",
    "3 x 3, n = 1,000",
    "3 x 3, n = 1,000, unbalanced",
}
#: Tables on which R takes minutes or fails: R runs once.
SLOW_R = ("p = 2e-7", "3 x 3, n = 3,000", "3 x 4, n = 1,000", "n = 10,000 (R")


def _cartcohort(table: list[list[int]]) -> Callable[[], object]:
    arr = np.array(table)

    def run() -> object:
        return fisher_exact(arr).p_value

    return run


def _r(table: list[list[int]], repeat: int) -> Callable[[], object]:
    flat = ", ".join(str(v) for v in np.array(table).T.ravel())  # R fills by column
    code = (
        f"x <- matrix(c({flat}), nrow = {len(table)});"
        f"t <- replicate({repeat}, system.time(fisher.test(x, workspace = 2e8))[['elapsed']]);"
        f"cat({_harness.r_summary()}(t))"
    )

    def run() -> object:
        out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=False)
        if out.returncode != 0:  # FEXACT gives up (error 501 or 7): no time to report
            return Measured("nan")
        return Measured(out.stdout.strip().split()[-1])

    return run


def cases(scale: str) -> list[Task]:
    """One task per table; ``quick`` keeps the 1,000- and 3,000-patient tables."""
    if scale not in ("full", "quick"):
        msg = f"scale must be 'full' or 'quick'; got {scale!r}"
        raise ValueError(msg)
    tasks = []
    for name, table in TABLES:
        if scale == "quick" and name not in QUICK:
            continue
        slow_r = any(tag in name for tag in SLOW_R)
        tasks.append(
            Task(
                f"Fisher exact {name}",
                [
                    Impl("cartcohort", lambda table=table: _cartcohort(table)),
                    Impl(
                        "R fisher.test",
                        lambda table=table, slow_r=slow_r: _r(table, 1 if slow_r else 3),
                        r_available,
                    ),
                ],
                repeat=1 if slow_r else 3,
            )
        )
    return tasks


if __name__ == "__main__":
    standalone(cases)
