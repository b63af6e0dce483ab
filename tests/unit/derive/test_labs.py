"""Tests of cartcohort.derive.labs: hand-worked cytokine/lab summaries and unit checks."""

from __future__ import annotations

import pandas as pd
import pytest

from cartcohort.derive.labs import (
    LAB_SUMMARY_COLUMNS,
    PEAK_CART_COLUMN,
    PEAK_COLUMNS,
    LabSummaryResult,
    peak_table,
    summarize_labs,
)
from cartcohort.errors import DerivationError, StatisticalWarning


def series(pid: str, analyte: str, unit: str, days: list[float], values: list[float]):
    return pd.DataFrame(
        {"patient_id": pid, "day": days, "analyte": analyte, "value": values, "unit": unit}
    )


IL6 = series("P1", "il6", "pg/mL", [-5, -2, 0, 1, 3, 7, 14, 28], [4, 6, 5, 40, 300, 120, 20, 8])
# CRP with no sample on day 0 or day 28: both window ends are interpolated.
CRP = series("P2", "crp", "mg/L", [-2, 3, 10, 35], [2, 102, 52, 2])


def one(result: LabSummaryResult, pid: str, analyte: str) -> pd.Series:
    t = result.table
    return t[(t["patient_id"] == pid) & (t["analyte"] == analyte)].iloc[0]


def num(x: object) -> float | None:
    return None if pd.isna(x) else float(x)  # type: ignore[arg-type]


def test_il6_summary_by_hand() -> None:
    r = one(summarize_labs(IL6), "P1", "il6")
    assert r["unit"] == "pg/mL"
    assert r["n_samples"] == 8
    # Baseline: last value in days -7..0 -> day 0, 5 pg/mL.
    assert (num(r["baseline"]), num(r["baseline_day"])) == (5, 0)
    assert (num(r["peak"]), num(r["peak_day"])) == (300, 3)
    # Nadir over days >= 1 (day 0 is the pre-infusion baseline): 8 on day 28.
    assert (num(r["nadir"]), num(r["nadir_day"])) == (8, 28)
    assert num(r["fold_change"]) == pytest.approx(300 / 5, rel=1e-15)
    # 1*(5+40)/2 + 2*(40+300)/2 + 4*(300+120)/2 + 7*(120+20)/2 + 14*(20+8)/2
    #   = 22.5 + 340 + 840 + 490 + 196 = 1888.5
    assert num(r["auc_0_28"]) == pytest.approx(1888.5, rel=1e-15)


def test_auc_window_ends_are_interpolated_linearly() -> None:
    r = one(summarize_labs(CRP), "P2", "crp")
    # c(0) = 2 + (2/5)(102 - 2) = 42; c(28) = 52 + (18/25)(2 - 52) = 16.
    # 3*(42+102)/2 + 7*(102+52)/2 + 18*(52+16)/2 = 216 + 539 + 612 = 1367
    assert num(r["auc_0_28"]) == pytest.approx(1367, rel=1e-12)
    assert (num(r["baseline"]), num(r["baseline_day"])) == (2, -2)
    assert (num(r["nadir"]), num(r["nadir_day"])) == (2, 35)
    assert num(r["fold_change"]) == pytest.approx(51, rel=1e-15)


def test_peak_tie_takes_the_first_day() -> None:
    data = series("P", "ferritin", "ng/mL", [-1, 2, 5, 9, 28], [500, 9000, 9000, 3000, 9000])
    r = one(summarize_labs(data), "P", "ferritin")
    assert (num(r["peak"]), num(r["peak_day"])) == (9000, 2)


def test_after_day_and_baseline_window() -> None:
    res = summarize_labs(IL6, baseline_window=(-7, -3), after_day=4)
    r = one(res, "P1", "il6")
    assert (num(r["baseline"]), num(r["baseline_day"])) == (4, -5)
    assert (num(r["peak"]), num(r["peak_day"])) == (120, 7)
    assert res.method.options["after_day"] == 4
    assert res.baseline_window == (-7.0, -3.0)


def _warned(data: pd.DataFrame, match: str, **kwargs) -> LabSummaryResult:
    with pytest.warns(StatisticalWarning) as record:
        res = summarize_labs(data, **kwargs)
    messages = [str(w.message) for w in record]
    assert any(match in m for m in messages), messages
    return res


def test_no_baseline_or_zero_baseline_gives_no_fold_change() -> None:
    no_base = series("A", "il6", "pg/mL", [1, 3, 28], [10, 50, 5])
    zero_base = series("B", "il6", "pg/mL", [0, 3, 28], [0, 50, 5])
    res = _warned(pd.concat([no_base, zero_base]), "baseline is 0")
    assert num(one(res, "A", "il6")["fold_change"]) is None
    assert num(one(res, "A", "il6")["baseline"]) is None
    assert num(one(res, "B", "il6")["fold_change"]) is None
    assert num(one(res, "B", "il6")["baseline"]) == 0
    reasons = set(res.exclusions["reason"])
    assert any("baseline window" in r for r in reasons)


def test_auc_needs_samples_covering_day_0_to_28() -> None:
    late_start = series("A", "crp", "mg/L", [1, 7, 30], [5, 100, 4])
    early_stop = series("B", "crp", "mg/L", [0, 7, 21], [5, 100, 4])
    res = _warned(pd.concat([late_start, early_stop]), "auc_0_28 not estimable for 2")
    assert num(one(res, "A", "crp")["auc_0_28"]) is None
    assert num(one(res, "B", "crp")["auc_0_28"]) is None


def test_no_value_after_infusion() -> None:
    res = _warned(series("A", "il6", "pg/mL", [-3, -1], [3, 4]), "no value on or after day 1")
    r = one(res, "A", "il6")
    assert num(r["peak"]) is None
    assert num(r["baseline"]) == 4


def test_aliases_filters_and_unit_spelling() -> None:
    data = pd.concat(
        [
            series("P", "IL-6", "pg/ml", [0, 3, 28], [1, 2, 3]),
            series("P", "C-reactive protein", "MG/L", [0, 3, 28], [1, 2, 3]),
        ]
    )
    res = summarize_labs(data, analytes=["crp"])
    assert list(res.table["analyte"]) == ["crp"]
    assert list(summarize_labs(data).table["analyte"]) == ["crp", "il6"]


def test_result_object() -> None:
    res = summarize_labs(pd.concat([IL6, CRP]))
    assert tuple(res.table.columns) == LAB_SUMMARY_COLUMNS
    assert res.to_frame().equals(res.table)
    ard = res.to_ard()
    assert set(ard["stat_name"]) == set(LAB_SUMMARY_COLUMNS) - {"patient_id", "analyte", "unit"}
    assert len(ard) == 2 * (len(LAB_SUMMARY_COLUMNS) - 3)
    assert res.method.options["auc_method"] == "linear"
    assert "LabSummaryResult(n=2" in repr(res)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param(series("P", "crp", "mg/dL", [0], [1.0]), "multiply by 10", id="crp-mg-dl"),
        pytest.param(series("P", "il6", "ng/mL", [0], [1.0]), "'pg/mL'", id="il6-ng-ml"),
        pytest.param(series("P", "ferritin", "ug/L", [0], [1.0]), "'ng/mL'", id="ferritin-ug-l"),
        pytest.param(series("P", "il6", "U/mL", [0], [1.0]), "not a unit", id="inconvertible"),
        pytest.param(series("P", "il6", None, [0], [1.0]), "needs its unit", id="no-unit"),
        pytest.param(series("P", "il99", "pg/mL", [0], [1.0]), "Unknown analyte", id="unknown"),
        pytest.param(series("P", "il6", "pg/mL", [0, 0], [1.0, 2.0]), "one value per", id="dup"),
        pytest.param(
            series("P", "il6", "pg/mL", [0], [1.0]).drop(columns="unit"), "lacks", id="cols"
        ),
    ],
)
def test_refused_input(data: pd.DataFrame, match: str) -> None:
    with pytest.raises(DerivationError, match=match):
        summarize_labs(data)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"baseline_window": (-7, 3)}, id="window-after-infusion"),
        pytest.param({"baseline_window": (0, -7)}, id="window-reversed"),
        pytest.param({"baseline_window": 7}, id="window-not-a-pair"),
        pytest.param({"after_day": "0"}, id="after-day-text"),
    ],
)
def test_invalid_options(kwargs: dict) -> None:
    with pytest.raises(DerivationError):
        summarize_labs(IL6, **kwargs)


# ----------------------------------------------------------------------------------------------
# peak_table
# ----------------------------------------------------------------------------------------------


def test_peak_table_patient_sheet_columns() -> None:
    labs = pd.concat(
        [
            IL6,
            CRP,
            series("P1", "ferritin", "ng/mL", [-1, 4, 9], [800, 12000, 7000]),
            series("P1", "il8", "pg/mL", [1], [999]),  # not a patient-sheet peak
        ]
    )
    kin = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1", "P3", "P3", "P1"],
            "infusion": 1,
            "day": [-1, 10, 14, 7, 14, 10],
            "value": [9e5, 5e4, 2e4, 30, 40, 7.0],
            "unit": ["copies_per_ug_dna"] * 5 + ["cells_per_ul"],
            "lloq": 50.0,
        }
    )
    out = peak_table(labs, kin).set_index("patient_id")
    assert list(out.columns) == [*PEAK_COLUMNS, PEAK_CART_COLUMN]
    assert list(out.index) == ["P1", "P2", "P3"]
    # Day -1 values are before the infusion: ignored.
    assert num(out.loc["P1", "peak_il6_pg_ml"]) == 300
    assert num(out.loc["P1", "peak_ferritin_ng_ml"]) == 12000
    assert num(out.loc["P1", "peak_cart_copies_per_ug"]) == 5e4
    assert num(out.loc["P2", "peak_crp_mg_l"]) == 102
    assert num(out.loc["P2", "peak_il6_pg_ml"]) is None
    # P3 has only values below the LLOQ of 50: peak 0, as cmax in kinetics_nca.
    assert num(out.loc["P3", "peak_cart_copies_per_ug"]) == 0
    assert num(out.loc["P3", "peak_crp_mg_l"]) is None


def test_peak_table_without_kinetics_refuses_other_units() -> None:
    out = peak_table(IL6)
    assert PEAK_CART_COLUMN not in out.columns
    with pytest.raises(DerivationError, match="canonical unit"):
        peak_table(series("P", "crp", "mg/dL", [1], [5.0]))
