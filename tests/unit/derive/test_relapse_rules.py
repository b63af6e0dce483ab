"""Marrow relapse rules of ``derive_response``: BBMT 2010, Ponte-di-Legno 2022, threshold.

BBMT 2010 (PMC7272718, table T4): "The reappearance of leukemia blast cells in the blood or
the bone marrow (>= 25%) or in any other extramedullary site after a CR".
Ponte-di-Legno (Buchmann et al. Blood 2022, table "Consensus criteria for relapse definition
in pediatric ALL: BM relapse (MRD available)"): BM1 MRD >= 25 % -> relapse; 5 to < 25 % with
one other test >= 1 % on BM1, or two tests >= 1 % on BM2; 1 to < 5 % with two other tests
>= 1 % on BM1, or two tests >= 1 % on BM2.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import cartcohort as cc
from cartcohort.derive.response import derive_response
from cartcohort.errors import DerivationError
from cartcohort.model.cohort import apply_dtypes
from cartcohort.model.standard import MARROW, PATIENTS


def _patients() -> pd.DataFrame:
    return apply_dtypes(
        PATIENTS,
        pd.DataFrame({"patient_id": ["P1"], "best_response": ["CR"], "response_day": [28]}),
    )


def _marrow(*later: dict[str, Any]) -> pd.DataFrame:
    rows = [{"patient_id": "P1", "day": 28, "response": "CR", "bm_blasts_pct": 1.0}]
    rows += [{"patient_id": "P1", **r} for r in later]
    return apply_dtypes(MARROW, pd.DataFrame(rows))


def _relapse_day(marrow: pd.DataFrame, **kw: Any) -> object:
    day = derive_response(_patients(), marrow, **kw)["relapse_day_marrow"].iloc[0]
    return None if pd.isna(day) else int(day)


@pytest.mark.parametrize(
    ("blasts", "expected"),
    [(24.9, None), (25.0, 90), (60.0, 90), (5.0, None)],
)
def test_bbmt2010_is_the_default_and_needs_25_percent(blasts: float, expected: object) -> None:
    m = _marrow({"day": 90, "bm_blasts_pct": blasts})
    assert _relapse_day(m) == expected
    assert _relapse_day(m, relapse_rule="bbmt2010") == expected


def test_relapse_call_and_extramedullary_disease_count_under_every_rule() -> None:
    called = _marrow({"day": 90, "response": "relapse"})
    emd = _marrow({"day": 120, "extramedullary_disease": True})
    for rule in ("bbmt2010", "ponte_di_legno_2022"):
        assert _relapse_day(called, relapse_rule=rule) == 90
        assert _relapse_day(emd, relapse_rule=rule) == 120


def test_threshold_rule_and_the_old_keyword_still_work() -> None:
    m = _marrow({"day": 90, "bm_blasts_pct": 8.0})
    assert _relapse_day(m, relapse_rule="threshold", relapse_blasts_pct=5.0) == 90
    assert _relapse_day(m, relapse_blasts_pct=5.0) == 90  # keyword alone -> threshold rule
    assert _relapse_day(m, relapse_blasts_pct=10.0) is None


@pytest.mark.parametrize(
    ("bm1", "bm2", "expected"),
    [
        pytest.param({"mrd_pct": 25.0, "bm_blasts_pct": 0.0}, None, 90, id="mrd>=25-alone"),
        pytest.param({"mrd_pct": 24.0, "bm_blasts_pct": 0.0}, None, None, id="5-25-unconfirmed"),
        pytest.param({"mrd_pct": 10.0, "bm_blasts_pct": 1.0}, None, 90, id="5-25+morphology>=1"),
        pytest.param({"mrd_pct": 10.0, "bm_blasts_pct": 0.5}, None, None, id="5-25+morph<1"),
        pytest.param(
            {"mrd_pct": 10.0, "bm_blasts_pct": 0.0},
            {"mrd_pct": 2.0, "bm_blasts_pct": 1.0},
            90,
            id="5-25+BM2-two-tests",
        ),
        pytest.param(
            {"mrd_pct": 10.0, "bm_blasts_pct": 0.0},
            {"mrd_pct": 2.0, "bm_blasts_pct": 0.0},
            None,
            id="5-25+BM2-one-test",
        ),
        pytest.param({"mrd_pct": 3.0, "bm_blasts_pct": 2.0}, None, None, id="1-5+one-other"),
        pytest.param(
            {"mrd_pct": 3.0, "bm_blasts_pct": 2.0},
            {"mrd_pct": 1.0, "bm_blasts_pct": 1.0},
            90,
            id="1-5+BM2-two-tests",
        ),
        pytest.param({"mrd_pct": 0.9, "bm_blasts_pct": 30.0}, None, None, id="mrd<1"),
    ],
)
def test_ponte_di_legno_2022(
    bm1: dict[str, float], bm2: dict[str, float] | None, expected: object
) -> None:
    rows = [{"day": 90, "mrd_method": "flow", **bm1}]
    if bm2 is not None:
        rows.append({"day": 120, "mrd_method": "flow", **bm2})
    assert _relapse_day(_marrow(*rows), relapse_rule="ponte_di_legno_2022") == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"relapse_rule": "who"},
        {"relapse_rule": "threshold"},
        {"relapse_rule": "bbmt2010", "relapse_blasts_pct": 5.0},
        {"relapse_rule": "threshold", "relapse_blasts_pct": 0.0},
    ],
)
def test_bad_relapse_settings_are_named_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(DerivationError, match="relapse"):
        derive_response(_patients(), _marrow(), **kwargs)


def test_the_dataset_records_the_relapse_rule() -> None:
    ds = cc.derive(cc.load_cohort(cc.demo_path("synthetic")))
    assert ds.options["relapse_rule"] == "bbmt2010"
