"""Tumour burden groups (seeds 000, 002, 004) and best response / MRD-negative CR.

Seed 000: "(a) 0% tumor burden with MRD positivity; (b) 0% < tumor burden < 5%; (c) 5% <=
tumor burden < 20%; (d) 20% <= tumor burden < 50%; and e) tumor burden >= 50%".
Seeds 000/002: low = MRD-positive with < 5 % blasts; high = >= 5 % or extramedullary disease.
Seed 004: ">= 20% vs. < 20%". MRD negative: "< 0.01 % ... by multicolor flow cytometry".
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cartcohort.derive.burden import derive_burden, subgroup_labels
from cartcohort.derive.dates import DAYS_PER_MONTH, days_to_months, months_to_days
from cartcohort.derive.response import derive_response
from cartcohort.errors import DerivationError
from cartcohort.model.cohort import apply_dtypes
from cartcohort.model.standard import MARROW, PATIENTS

NA = None


def burden_of(blasts: float | None, mrd: float | None, emd: bool | None, **kw: Any) -> tuple:
    frame = apply_dtypes(
        PATIENTS,
        pd.DataFrame(
            [
                {
                    "patient_id": "P1",
                    "bm_blasts_pct": blasts,
                    "mrd_pct": mrd,
                    "extramedullary_disease": emd,
                }
            ]
        ),
    )
    row = derive_burden(frame, **kw).iloc[0]
    return tuple(
        None if pd.isna(row[c]) else str(row[c])
        for c in ("burden_group", "burden_subgroup", "burden_split")
    )


BURDEN_CASES = [
    pytest.param(0.0, 0.5, False, ("low", "0% MRD+", "<20%"), id="0pct-mrd-positive"),
    pytest.param(0.0, 0.01, False, ("low", "0% MRD+", "<20%"), id="0pct-mrd-exactly-0.01-positive"),
    pytest.param(0.0, 0.005, False, (NA, NA, "<20%"), id="0pct-mrd-negative-no-disease"),
    pytest.param(0.0, None, False, (NA, NA, "<20%"), id="0pct-mrd-missing"),
    pytest.param(0.01, None, False, ("low", "0-5%", "<20%"), id="just-above-0"),
    pytest.param(4.99, None, False, ("low", "0-5%", "<20%"), id="just-below-5"),
    pytest.param(5.0, None, False, ("high", "5-20%", "<20%"), id="exactly-5-is-high"),
    pytest.param(19.99, None, False, ("high", "5-20%", "<20%"), id="just-below-20"),
    pytest.param(20.0, None, False, ("high", "20-50%", ">=20%"), id="exactly-20"),
    pytest.param(49.99, None, False, ("high", "20-50%", ">=20%"), id="just-below-50"),
    pytest.param(50.0, None, False, ("high", ">=50%", ">=20%"), id="exactly-50"),
    pytest.param(3.0, None, True, ("high", "0-5%", "<20%"), id="emd-makes-high"),
    pytest.param(None, None, True, ("high", NA, NA), id="emd-with-missing-blasts"),
    pytest.param(None, 1.0, False, (NA, NA, NA), id="missing-blasts-never-low"),
    pytest.param(3.0, None, None, (NA, "0-5%", "<20%"), id="emd-unknown-could-be-high"),
    pytest.param(30.0, None, None, ("high", "20-50%", ">=20%"), id="emd-unknown-blasts-high"),
]


@pytest.mark.parametrize(("blasts", "mrd", "emd", "expected"), BURDEN_CASES)
def test_burden_boundaries(
    blasts: float | None, mrd: float | None, emd: bool | None, expected: tuple
) -> None:
    assert burden_of(blasts, mrd, emd) == expected


def test_missing_extramedullary_setting() -> None:
    assert burden_of(3.0, None, None, missing_extramedullary="absent")[0] == "low"


def test_burden_output_is_ordered_with_reason() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["a", "b"],
            "bm_blasts_pct": [None, 7.0],
            "mrd_pct": [None, None],
            "extramedullary_disease": [False, False],
        }
    )
    out = derive_burden(frame)
    assert out["burden_group"].cat.ordered
    assert list(out["burden_group"].cat.categories) == ["low", "high"]
    assert list(out["burden_subgroup"].cat.categories) == [
        "0% MRD+",
        "0-5%",
        "5-20%",
        "20-50%",
        ">=50%",
    ]
    assert out["burden_reason"].iloc[0] == "not derivable: bm_blasts_pct missing"
    assert list(out["patient_id"]) == ["a", "b"]  # same rows, same order


def test_configurable_cuts() -> None:
    assert subgroup_labels((0, 10, 25)) == ("0% MRD+", "0-10%", "10-25%", ">=25%")
    assert burden_of(10.0, None, False, subgroup_cuts=(0, 10, 25))[1] == "10-25%"
    assert burden_of(25.0, None, False, high_split_pct=25.0)[2] == ">=25%"
    assert burden_of(7.0, None, False, low_max_blasts_pct=10.0)[0] == "low"
    with pytest.raises(DerivationError, match="subgroup_cuts"):
        burden_of(1.0, None, False, subgroup_cuts=(5, 20))
    with pytest.raises(DerivationError, match="bm_blasts_pct"):
        burden_of(120.0, None, False)


# ---------------------------------------------------------------------------------------
# Response
# ---------------------------------------------------------------------------------------
def patients(**cols: list[Any]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"patient_id": [f"P{i + 1}" for i in range(n)]}
    return apply_dtypes(PATIENTS, pd.DataFrame({**base, **cols}))


def marrow(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return apply_dtypes(MARROW, pd.DataFrame(rows))


@pytest.mark.parametrize(
    ("best", "responder"),
    [
        pytest.param("CR", True, id="CR"),
        pytest.param("CRi", True, id="CRi"),
        pytest.param("PR", False, id="PR-is-not-a-response"),
        pytest.param("NR", False, id="NR"),
        pytest.param("NE", None, id="NE-unknown"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_reported_response_and_responder(best: str | None, responder: bool | None) -> None:
    out = derive_response(patients(best_response=[best], response_day=[28])).iloc[0]
    assert (None if pd.isna(out["responder"]) else bool(out["responder"])) == responder
    if best is not None:
        assert out["response_source"] == "reported"


def test_best_response_from_marrow_within_window() -> None:
    p = patients(best_response=[None, None, None, "NR"])
    m = marrow(
        [
            {"patient_id": "P1", "day": 14, "response": "CRi"},
            {
                "patient_id": "P1",
                "day": 28,
                "response": "CR",
                "mrd_pct": 0.0,
                "mrd_method": "flow",
                "mrd_sensitivity_pct": 0.01,
            },
            {"patient_id": "P2", "day": 60, "response": "CR"},  # outside day 1-35
            {"patient_id": "P2", "day": 28, "response": "NE"},
            {"patient_id": "P3", "day": -5, "response": "CR"},  # before infusion
            {"patient_id": "P4", "day": 28, "response": "CR"},  # reported NR wins
        ]
    )
    out = derive_response(p, m)
    assert out["best_response"].astype(str).tolist()[:2] == ["CR", "NE"]
    assert out["response_day"].tolist()[:2] == [28, 28]
    assert out["response_source"].astype(str).tolist()[:2] == ["marrow", "marrow"]
    assert pd.isna(out["best_response"].iloc[2])
    assert out["best_response"].iloc[3] == "NR"
    assert bool(out["mrd_negative_cr"].iloc[0]) is True


@pytest.mark.parametrize(
    ("mrd", "method", "sens", "neg_cr", "neg_ngs"),
    [
        pytest.param(0.0099, "flow", 0.01, True, None, id="flow-below-0.01"),
        pytest.param(0.01, "flow", 0.01, False, None, id="flow-exactly-0.01-positive"),
        pytest.param(0.0, "ngs", 0.0001, True, True, id="ngs-undetectable"),
        pytest.param(0.001, "ngs", 0.0001, True, False, id="ngs-below-1e-4-but-detectable"),
        pytest.param(0.0, "ngs", None, True, None, id="ngs-without-sensitivity"),
        pytest.param(0.0, "flow", 0.1, None, None, id="insensitive-assay"),
    ],
)
def test_mrd_negative_cr_from_marrow(
    mrd: float, method: str, sens: float | None, neg_cr: bool | None, neg_ngs: bool | None
) -> None:
    p = patients(best_response=["CR"], response_day=[28])
    m = marrow(
        [
            {
                "patient_id": "P1",
                "day": 28,
                "response": "CR",
                "mrd_pct": mrd,
                "mrd_method": method,
                "mrd_sensitivity_pct": sens,
            }
        ]
    )
    out = derive_response(p, m).iloc[0]
    got = tuple(
        None if pd.isna(out[c]) else bool(out[c]) for c in ("mrd_negative_cr", "mrd_negative_ngs")
    )
    assert got == (neg_cr, neg_ngs)


def test_mrd_negative_cr_from_reported_flag_and_nonresponders() -> None:
    out = derive_response(
        patients(best_response=["CR", "CR", "NR"], mrd_negative=[True, None, True])
    )
    assert out["mrd_negative_cr"].tolist()[0] is True
    assert pd.isna(out["mrd_negative_cr"].iloc[1])
    assert out["mrd_negative_cr"].tolist()[2] is False  # not a CR, whatever the flag


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [pytest.param(5.0, 90, id="loss-of-M1-5pct"), pytest.param(25.0, 150, id="bbmt2010-25pct")],
)
def test_marrow_relapse_threshold_is_a_setting(threshold: float, expected: int) -> None:
    p = patients(best_response=["CR"], response_day=[28])
    m = marrow(
        [
            {"patient_id": "P1", "day": 28, "response": "CR", "bm_blasts_pct": 1.0},
            {"patient_id": "P1", "day": 90, "bm_blasts_pct": 8.0},
            {"patient_id": "P1", "day": 150, "bm_blasts_pct": 40.0},
        ]
    )
    out = derive_response(p, m, relapse_blasts_pct=threshold)
    assert out["relapse_day_marrow"].tolist() == [expected]


def test_unknown_response_code_is_an_error() -> None:
    with pytest.raises(DerivationError, match="best_response"):
        derive_response(pd.DataFrame({"patient_id": ["a"], "best_response": ["MRD-"]}))


def test_days_per_month_defined_once() -> None:
    assert DAYS_PER_MONTH == 365.25 / 12
    assert days_to_months(365.25) == 12.0
    assert months_to_days(1) == DAYS_PER_MONTH
