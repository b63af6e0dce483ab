"""Patient-level cohorts rebuilt from the counts each seed paper publishes (test fixtures).

Every count below is quoted from the paper (line numbers of the seed texts, as in the
project's seed-fidelity notes); a count a paper does not print is marked as implied and
says from what. Columns the papers do not give are left out, so an analysis that needs
them skips. The cohorts are small and built in memory.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from cartcohort.model.cohort import Cohort, apply_dtypes
from cartcohort.model.standard import TABLE_BY_NAME


def _cohort(rows: Iterable[dict[str, object]], name: str) -> Cohort:
    frame = pd.DataFrame(list(rows))
    frame.insert(0, "patient_id", [f"{name.upper()}-{i + 1:03d}" for i in range(len(frame))])
    return Cohort(tables={"patients": apply_dtypes(TABLE_BY_NAME["patients"], frame)}, name=name)


def _block(n: int, **values: object) -> list[dict[str, object]]:
    return [dict(values) for _ in range(n)]


def seed000() -> Cohort:
    """Seed 000 (tumour burden, 78 patients).

    - Groups (L66): 33 low burden (MRD-positive, marrow blasts 0.01 to < 5 %), 45 high
      (blasts >= 5 %). Blasts are set to 1 % and 30 %; no patient has extramedullary
      disease, so the burden groups are the paper's whatever the EMD rule.
    - CR (Fig. 2B, P = 0.0358, Fisher): low 31/33, high 34/45 (the 2 x 2 reading of the
      text's 65 CR of 78, L78, with the figure's P; seed-fidelity row 4).
    - MRD-negative CR 29 of the 65 CR (L78): put in the low group first (29 of its 31).
    - Severe CRS (grade >= 3; Fig. 4B, P = 0.0053, Fisher): low 4/33, high 19/45 (the issue's
      counts; the text gives only P). Other patients grade 1 (the text gives no grades).
    """
    rows: list[dict[str, object]] = []
    low = {"bm_blasts_pct": 1.0, "mrd_pct": 1.0, "extramedullary_disease": False}
    high = {"bm_blasts_pct": 30.0, "mrd_pct": 30.0, "extramedullary_disease": False}
    # (group, CR, severe CRS, MRD-negative) -> count
    cells = [
        (low, "CR", 3, True, 4),
        (low, "CR", 1, True, 25),
        (low, "CR", 1, False, 2),
        (low, "NR", 1, False, 2),
        (high, "CR", 3, False, 15),
        (high, "CR", 1, False, 19),
        (high, "NR", 3, False, 4),
        (high, "NR", 1, False, 7),
    ]
    for base, response, grade, mrd_neg, n in cells:
        rows += _block(
            n,
            **base,
            best_response=response,
            response_day=28,
            mrd_negative=mrd_neg if response == "CR" else None,
            crs_grade=grade,
            crs_grading_system="ctcae_v4.03",
        )
    return _cohort(rows, "seed000")


def seed003() -> Cohort:
    """Seed 003 (abstract, 24 patients): 16 CR, 13 of them MRD-negative; 19 CRS, 6 severe.

    The abstract gives no p-value; which CR patients had CRS is not given (here: the first
    CRS patients are the CR patients).
    """
    rows: list[dict[str, object]] = []
    for i in range(24):
        cr = i < 16
        grade = 3 if i < 6 else (1 if i < 19 else 0)
        rows.append(
            {
                "best_response": "CR" if cr else "NR",
                "response_day": 28,
                "mrd_negative": (i < 13) if cr else None,
                "crs_grade": grade,
                "crs_grading_system": "astct",
            }
        )
    return _cohort(rows, "seed003")


def seed004() -> Cohort:
    """Seed 004 (93 patients).

    Published (L101, L116): CR at day 30 86/93; CRS 76 (19 severe); ICANS 16 (8 severe);
    CRS with ICANS 15; corticosteroids 51; tocilizumab 45. The paper prints no 2 x 2 table;
    given these margins, one table each reproduces its p-value to the printed digits:

    - CR by CRS, p = 0.342: CR 69/76 with CRS, 17/17 without (Fisher 0.3425; the only
      table with Fisher or chi-square p = 0.342);
    - CR by ICANS, p = 0.210: 16/16 with ICANS, 70/77 without (only Pearson's chi-square
      without continuity correction gives it: 0.2098; Fisher gives 0.600);
    - CR by CRS with ICANS, p = 0.228: 15/15 vs 71/78 (chi-square, uncorrected: 0.2276;
      Fisher 0.593);
    - CR by tocilizumab, p = 1: 42/45 vs 44/48 (Fisher 1);
    - CR by corticosteroids, p = 0.697: 48/51 vs 38/42 (Fisher 0.6972).

    These tables are consistent with each other: the 7 patients without CR all had CRS,
    none had ICANS, 3 had steroids and 3 tocilizumab.
    """
    rows: list[dict[str, object]] = []
    # non-responders: CRS (grade 1), no ICANS; 3 with steroids, 3 with tocilizumab
    for i in range(7):
        rows.append(
            {
                "best_response": "NR",
                "crs_grade": 1,
                "icans_grade": 0,
                "corticosteroids": i < 3,
                "tocilizumab": i < 3,
            }
        )
    # responders: 69 with CRS (15 of them with ICANS), 17 without CRS (1 with ICANS)
    for i in range(86):
        crs = i < 69
        icans = i < 15 or i == 69
        rows.append(
            {
                "best_response": "CR",
                "crs_grade": (3 if i < 19 else 1) if crs else 0,
                "icans_grade": (3 if i < 8 else 1) if icans else 0,
                "corticosteroids": i < 48,
                "tocilizumab": i < 42,
            }
        )
    for row in rows:
        row["response_day"] = 30
        row["crs_grading_system"] = "astct"
        row["seizure"] = False  # severe neurotoxicity = grade >= 3 here (8)
    return _cohort(rows, "seed004")


__all__ = ["seed000", "seed003", "seed004"]
