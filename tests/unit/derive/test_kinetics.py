"""Tests of cartcohort.derive.kinetics: hand-worked NCA cases and the base-R reference.

Hand cases show their arithmetic. ``LN2 = ln 2``; a log trapezoid from c1 to c2 over dt
is dt * (c1 - c2) / ln(c1 / c2), which is exact for an exponential decline: with
half-life 7 d, k = ln2 / 7 and the area from c1 to c2 is (c1 - c2) / k = 7 (c1 - c2) / LN2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartcohort.derive.kinetics import (
    NCA_COLUMNS,
    BLQPolicy,
    KineticsResult,
    compare_infusions,
    kinetics_nca,
)
from cartcohort.errors import DerivationError, StatisticalWarning

LN2 = math.log(2.0)
CASES = Path(__file__).resolve().parents[2] / "reference" / "cases" / "kinetics.json"


def profile(pid: str, days: list[float], values: list[float], *, lloq: float, infusion: int = 1):
    return pd.DataFrame(
        {"patient_id": pid, "infusion": infusion, "day": days, "value": values, "lloq": lloq}
    )


def nca(kin: pd.DataFrame, **kwargs) -> KineticsResult:
    """kinetics_nca with its StatisticalWarnings caught (they are tested separately)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return kinetics_nca(kin, **kwargs)


def warned(kin: pd.DataFrame, match: str, **kwargs) -> KineticsResult:
    """kinetics_nca, asserting that one of its warnings contains ``match``."""
    with pytest.warns(StatisticalWarning) as record:
        res = kinetics_nca(kin, **kwargs)
    messages = [str(w.message) for w in record]
    assert any(match in m for m in messages), messages
    return res


def row(result: KineticsResult, pid: str, infusion: int = 1) -> pd.Series:
    t = result.table
    return t[(t["patient_id"] == pid) & (t["infusion"] == infusion)].iloc[0]


def value(x: object) -> float | None:
    return None if pd.isna(x) else float(x)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# A: mono-exponential decline, half-life exactly 7 days
# ----------------------------------------------------------------------------------------------

MONOEXP = profile(
    "A",
    [0, 7, 14, 21, 28, 42, 84],
    # 16000 * 2^(-(t - 7) / 7): 8000 at 14, 4000 at 21, 2000 at 28, 500 at 42, 500/64 at 84
    [0, 16000, 8000, 4000, 2000, 500, 7.8125],
    lloq=1,
)


def test_monoexponential_log_trapezoid_is_exact_and_half_life_is_known() -> None:
    r = row(nca(MONOEXP), "A")
    assert value(r["cmax"]) == 16000
    assert value(r["tmax"]) == 7
    # 0 -> 7 rises from 0: linear, 7 * (0 + 16000) / 2 = 56000.
    # 7 -> 28 declines exponentially: 7 * (16000 - 2000) / LN2 = 98000 / LN2.
    assert value(r["auc_0_28"]) == pytest.approx(56000 + 98000 / LN2, rel=1e-12)
    # 7 -> 84: 7 * (16000 - 7.8125) / LN2.
    assert value(r["auc_0_84"]) == pytest.approx(56000 + 7 * (16000 - 7.8125) / LN2, rel=1e-12)
    assert value(r["tlast"]) == 84
    assert value(r["persistence_day"]) == 84
    # All five points after Tmax (14, 21, 28, 42, 84) lie on the line: every fit has
    # adjusted r2 = 1, so the fit with the most points wins; ln2 / (ln2 / 7) = 7.
    assert value(r["half_life"]) == pytest.approx(7.0, rel=1e-12)
    assert r["half_life_points"] == 5
    assert value(r["half_life_adj_r2"]) == pytest.approx(1.0, abs=1e-12)
    assert r["n_samples"] == 7
    assert r["n_blq"] == 1  # the day-0 zero


def test_monoexponential_linear_trapezoid_overestimates_a_decline() -> None:
    r = row(nca(MONOEXP, auc_method="linear"), "A")
    # 56000 + 7*(16000+8000)/2 + 7*(8000+4000)/2 + 7*(4000+2000)/2
    #       = 56000 + 84000 + 42000 + 21000 = 203000
    assert value(r["auc_0_28"]) == pytest.approx(203000, rel=1e-12)
    assert value(r["auc_0_28"]) > 56000 + 98000 / LN2


# ----------------------------------------------------------------------------------------------
# B: the day-28 window end falls between the day-21 and day-35 samples
# ----------------------------------------------------------------------------------------------

INTERP = profile("B", [0, 7, 21, 35], [0, 10000, 4000, 1000], lloq=10)


def test_auc_to_day_28_interpolates_on_the_log_scale_when_falling() -> None:
    r = row(nca(INTERP), "B")
    # c(28) = 4000 * (1000/4000)^(7/14) = 2000 (log interpolation, halfway in time).
    # 0->7: 7*10000/2 = 35000; 7->21: 14*(10000-4000)/ln(2.5); 21->28: 7*(4000-2000)/LN2.
    expected = 35000 + 14 * 6000 / math.log(2.5) + 7 * 2000 / LN2
    assert value(r["auc_0_28"]) == pytest.approx(expected, rel=1e-12)
    # The last sample is day 35 < 84: no extrapolation, so AUC0-84 is missing.
    assert value(r["auc_0_84"]) is None
    # Only day 21 and day 35 follow Tmax (day 7): fewer than 3 points.
    assert value(r["half_life"]) is None
    assert pd.isna(r["half_life_points"])


def test_auc_to_day_28_interpolates_linearly_with_the_linear_method() -> None:
    r = row(nca(INTERP, auc_method="linear"), "B")
    # c(28) = 4000 + (7/14)(1000 - 4000) = 2500;
    # 35000 + 14*(10000+4000)/2 + 7*(4000+2500)/2 = 35000 + 98000 + 22750 = 155750.
    assert value(r["auc_0_28"]) == pytest.approx(155750, rel=1e-12)


def test_missing_auc_and_half_life_are_explained() -> None:
    with pytest.warns(StatisticalWarning) as record:
        res = kinetics_nca(INTERP)
    messages = [str(w.message) for w in record]
    assert any("auc_0_84" in m and "before day 84" in m for m in messages)
    assert any("half_life" in m and "fewer than 3" in m for m in messages)
    assert res.warnings == tuple(messages)
    reasons = res.exclusions.set_index("parameter")["reason"]
    assert "before day 84" in reasons["auc_0_84"]
    assert "fewer than 3" in reasons["half_life"]


# ----------------------------------------------------------------------------------------------
# C: BLQ first / middle / last (LLOQ 50)
# ----------------------------------------------------------------------------------------------

BLQ = profile(
    "C",
    [0, 3, 7, 10, 14, 21, 28, 35, 42, 90],
    # BLQ: 20 and 0 (first), 30 (middle), 40, 0, 0 (last)
    [20, 0, 1000, 30, 4000, 2000, 1000, 40, 0, 0],
    lloq=50,
)


@pytest.mark.parametrize(
    ("policy", "auc_0_28"),
    [
        pytest.param(
            BLQPolicy(),
            # PKNCA default: day 10 dropped; 0->3: 0; 3->7: 4*1000/2 = 2000;
            # 7->14: 7*(1000+4000)/2 = 17500; 14->28: 7*2000/LN2 + 7*1000/LN2.
            19500 + 21000 / LN2,
            id="pknca-first-keep-middle-drop-last-keep",
        ),
        pytest.param(
            BLQPolicy(middle="keep"),
            # day 10 kept as 0: 2000 + 3*1000/2 + 4*4000/2 = 2000 + 1500 + 8000.
            11500 + 21000 / LN2,
            id="all-keep",
        ),
        pytest.param(
            BLQPolicy(first="drop"),
            # days 0 and 3 dropped; time 0 imputed as 0: 7*1000/2 = 3500; + 17500.
            21000 + 21000 / LN2,
            id="first-drop",
        ),
    ],
)
def test_blq_policy_by_position(policy: BLQPolicy, auc_0_28: float) -> None:
    r = row(nca(BLQ, blq=policy), "C")
    assert value(r["auc_0_28"]) == pytest.approx(auc_0_28, rel=1e-12)
    assert (value(r["cmax"]), value(r["tmax"]), value(r["tlast"])) == (4000, 14, 28)
    assert (r["n_samples"], r["n_blq"]) == (10, 6)


def test_nothing_is_integrated_after_tlast() -> None:
    r = row(nca(BLQ), "C")
    # Sampling reaches day 90, Tlast is day 28: AUC0-84 = AUC0-28 (PKNCA AUClast convention).
    assert value(r["auc_0_84"]) == pytest.approx(value(r["auc_0_28"]), rel=1e-15)
    assert value(r["persistence_day"]) == 28


def test_blq_linear_auc() -> None:
    r = row(nca(BLQ, auc_method="linear"), "C")
    # 0 + 2000 + 17500 + 7*(4000+2000)/2 + 7*(2000+1000)/2 = 19500 + 21000 + 10500
    assert value(r["auc_0_28"]) == pytest.approx(51000, rel=1e-12)


def test_lloq_argument_overrides_the_column() -> None:
    # LLOQ 1500: 1000 at days 7 and 28 become BLQ; Tlast moves to day 21.
    r = row(nca(BLQ, lloq=1500), "C")
    assert value(r["tlast"]) == 21
    assert r["n_blq"] == 8


def test_without_lloq_only_zero_is_below_the_limit() -> None:
    r = row(nca(BLQ.drop(columns="lloq")), "C")
    assert r["n_blq"] == 3
    assert value(r["tlast"]) == 35


# ----------------------------------------------------------------------------------------------
# D, E: a single quantifiable sample; nothing quantifiable
# ----------------------------------------------------------------------------------------------


def test_single_quantifiable_sample() -> None:
    res = warned(profile("D", [0, 14, 28], [0, 500, 0], lloq=50), "half_life not estimable")
    r = row(res, "D")
    # 0->14: 14*(0+500)/2 = 3500; 14->28 starts at Tlast: nothing.
    assert value(r["auc_0_28"]) == pytest.approx(3500, rel=1e-12)
    assert (value(r["cmax"]), value(r["tmax"]), value(r["tlast"])) == (500, 14, 14)
    assert value(r["half_life"]) is None


def test_all_blq_gives_cmax_zero_and_no_times() -> None:
    res = warned(profile("E", [0, 7, 14, 28], [0, 10, 20, 5], lloq=50), "at or above the LLOQ")
    r = row(res, "E")
    # As PKNCA: cmax = max of the zero-coded values = 0; tmax and tlast undefined.
    assert value(r["cmax"]) == 0
    assert value(r["auc_0_28"]) == 0
    for name in ("tmax", "tlast", "half_life", "persistence_day", "auc_0_84"):
        assert value(r[name]) is None, name
    assert r["n_blq"] == 4
    params = set(res.exclusions["parameter"])
    assert {"tmax", "tlast", "half_life", "persistence_day", "auc_0_84"} <= params


def test_no_terminal_decline() -> None:
    # After Tmax (day 14): 1000, 1500, 2000 rise, so lambda_z < 0 for the only fit.
    data = profile("G", [0, 14, 21, 28, 35], [0, 4000, 1000, 1500, 2000], lloq=50)
    res = warned(data, "no terminal decline")
    assert value(row(res, "G")["half_life"]) is None


def test_tmax_is_the_first_time_of_the_maximum() -> None:
    res = nca(
        profile("H", [0, 7, 10, 14, 21, 28, 42], [0, 3000, 3000, 1500, 900, 400, 100], lloq=50)
    )
    assert value(row(res, "H")["tmax"]) == 7


# ----------------------------------------------------------------------------------------------
# F: re-infusion on day 60 with a pre-infusion sample on day 56
# ----------------------------------------------------------------------------------------------

REINF = pd.concat(
    [
        profile("F", [0, 7, 14, 21, 28], [0, 2000, 1000, 500, 250], lloq=50),
        profile("F", [56, 67, 74, 81, 88], [100, 800, 400, 200, 100], lloq=50, infusion=2),
    ],
    ignore_index=True,
)
REINF_DAYS = pd.DataFrame({"patient_id": "F", "infusion": [1, 2], "day": [0, 60]})


def test_reinfusion_is_analysed_on_its_own_clock() -> None:
    res = nca(REINF, infusions=REINF_DAYS)
    first, second = row(res, "F", 1), row(res, "F", 2)
    # Infusion 1: 7*2000/2 + 7*(2000 - 250)/LN2; half-life 7 from days 14, 21, 28.
    assert value(first["auc_0_28"]) == pytest.approx(7000 + 12250 / LN2, rel=1e-12)
    assert value(first["half_life"]) == pytest.approx(7.0, rel=1e-12)
    # Infusion 2: time = day - 60. The day-56 sample is pre-infusion: not counted, but its
    # value (100) is the time-0 value: 7*(100+800)/2 + 7*(800 - 100)/LN2.
    assert value(second["infusion_day"]) == 60
    assert second["n_samples"] == 4
    assert (value(second["cmax"]), value(second["tmax"]), value(second["tlast"])) == (800, 7, 28)
    assert value(second["auc_0_28"]) == pytest.approx(3150 + 4900 / LN2, rel=1e-12)
    assert value(second["half_life"]) == pytest.approx(7.0, rel=1e-12)
    assert value(second["persistence_day"]) == 88  # days since the first infusion


def test_reinfusion_day_defaults_to_first_sample_with_a_warning() -> None:
    res = warned(REINF, "Infusion day assumed")
    assert value(row(res, "F", 2)["infusion_day"]) == 56
    assert value(row(res, "F", 1)["infusion_day"]) == 0


def test_compare_infusions_ratios() -> None:
    res = nca(REINF, infusions=REINF_DAYS)
    with pytest.warns(StatisticalWarning, match="auc_0_84_ratio missing"):
        cmp = compare_infusions(res)
    r = cmp.table.iloc[0]
    assert (r["patient_id"], r["infusion"], r["previous_infusion"]) == ("F", 2, 1)
    assert value(r["cmax_ratio"]) == pytest.approx(800 / 2000, rel=1e-15)
    expected = (3150 + 4900 / LN2) / (7000 + 12250 / LN2)
    assert value(r["auc_0_28_ratio"]) == pytest.approx(expected, rel=1e-12)
    assert value(r["auc_0_84_ratio"]) is None
    assert set(cmp.to_ard()["stat_name"]) >= {"cmax_ratio", "auc_0_28_ratio"}


def test_compare_infusions_skips_single_infusion_patients_and_zero_previous() -> None:
    t = pd.DataFrame(
        {
            "patient_id": ["P", "P", "Q"],
            "infusion": [1, 2, 1],
            "unit": "copies_per_ug_dna",
            "cmax": [0.0, 300.0, 5.0],
            "auc_0_28": [0.0, 10.0, 1.0],
            "auc_0_84": [np.nan, np.nan, 1.0],
        }
    )
    with pytest.warns(StatisticalWarning):
        cmp = compare_infusions(t)
    assert list(cmp.table["patient_id"]) == ["P"]
    assert value(cmp.table.loc[0, "cmax_ratio"]) is None  # previous Cmax is 0


# ----------------------------------------------------------------------------------------------
# result object, options, errors
# ----------------------------------------------------------------------------------------------


def test_result_shape_and_method() -> None:
    res = nca(pd.concat([MONOEXP, BLQ], ignore_index=True))
    assert tuple(res.table.columns) == NCA_COLUMNS
    assert res.to_frame().equals(res.table)
    assert res.n == 2
    assert res.method.options["auc_method"] == "lin-up/log-down"
    assert (res.method.options["blq_first"], res.method.options["blq_middle"]) == ("keep", "drop")
    assert res.method.options["min_half_life_points"] == 3
    assert "PKNCA" in res.method.reference
    ard = res.to_ard()
    assert set(ard.columns) == {
        "analysis",
        "patient_id",
        "infusion",
        "unit",
        "stat_name",
        "stat_value",
    }
    assert len(ard) == 2 * (len(NCA_COLUMNS) - 3)
    assert "KineticsResult(n=2" in repr(res)


def test_row_order_does_not_matter() -> None:
    data = pd.concat([MONOEXP, BLQ, REINF], ignore_index=True)
    a = nca(data, infusions=REINF_DAYS).table
    b = nca(data.sample(frac=1.0, random_state=3), infusions=REINF_DAYS).table
    pd.testing.assert_frame_equal(a, b)


def test_missing_values_are_dropped_with_a_warning() -> None:
    data = MONOEXP.copy()
    data.loc[3, "value"] = np.nan
    with pytest.warns(StatisticalWarning, match="without a value were dropped"):
        res = kinetics_nca(data)
    assert row(res, "A")["n_samples"] == 6


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"auc_method": "log"}, "auc_method", id="auc-method"),
        pytest.param({"min_half_life_points": 2}, "min_half_life_points", id="min-points"),
        pytest.param({"adj_r_squared_factor": 0.0}, "adj_r_squared_factor", id="factor"),
        pytest.param({"lloq": -1.0}, "lloq", id="lloq"),
        pytest.param({"blq": {"middle": "keep"}}, "BLQPolicy", id="blq-type"),
    ],
)
def test_invalid_options(kwargs: dict, match: str) -> None:
    with pytest.raises(DerivationError, match=match):
        kinetics_nca(MONOEXP, **kwargs)


def test_invalid_blq_action() -> None:
    with pytest.raises(DerivationError, match="'keep' or 'drop'"):
        BLQPolicy(middle="zero")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        pytest.param(lambda d: d.drop(columns="value"), "lacks column", id="no-value"),
        pytest.param(lambda d: d.assign(value=-d["value"] - 1), "negative", id="negative"),
        pytest.param(lambda d: d.assign(day=0), "same day", id="duplicate-day"),
        pytest.param(lambda d: d.assign(unit="copies/ml"), "allowed units", id="unknown-unit"),
        pytest.param(
            lambda d: d.assign(unit=["cells_per_ul"] + ["copies_per_ug_dna"] * (len(d) - 1)),
            "Mixed units",
            id="mixed-units",
        ),
    ],
)
def test_bad_input(edit, match: str) -> None:
    with pytest.raises(DerivationError, match=match):
        kinetics_nca(edit(MONOEXP))


# ----------------------------------------------------------------------------------------------
# reference: independent base-R NCA (tests/reference/r/kinetics.R)
# ----------------------------------------------------------------------------------------------

_REFERENCE = json.loads(CASES.read_text(encoding="utf-8"))
_COMPARED = [
    "infusion_day",
    "n_samples",
    "n_blq",
    "cmax",
    "tmax",
    "auc_0_28",
    "auc_0_84",
    "tlast",
    "half_life",
    "half_life_points",
    "half_life_adj_r2",
    "persistence_day",
]


@pytest.mark.parametrize("case", _REFERENCE["cases"], ids=[c["id"] for c in _REFERENCE["cases"]])
def test_kinetics_matches_independent_r_nca(case: dict) -> None:
    kin = pd.DataFrame(case["input"])
    infusions = pd.DataFrame(case["infusions"]) if case["infusions"] else None
    res = nca(kin, auc_method=case["auc_method"], blq=BLQPolicy(**case["blq"]), infusions=infusions)
    expected = pd.DataFrame(case["expected"])
    got = res.table
    assert list(got["patient_id"]) == list(expected["patient_id"])
    assert list(got["infusion"]) == list(expected["infusion"].astype(int))
    for column in _COMPARED:
        a = pd.to_numeric(got[column]).to_numpy(np.float64, na_value=np.nan)
        b = pd.to_numeric(expected[column]).to_numpy(np.float64, na_value=np.nan)
        np.testing.assert_allclose(a, b, rtol=_REFERENCE["rtol"], atol=0, err_msg=column)


def test_profile_with_only_pre_infusion_samples_has_no_parameters() -> None:
    data = pd.DataFrame(
        {"patient_id": "P", "infusion": [1, 1, 2], "day": [0, 7, 50], "value": [0, 100, 20]}
    )
    days = pd.DataFrame({"patient_id": "P", "infusion": [1, 2], "day": [0, 60]})
    res = warned(data.assign(lloq=10.0), "no sample on or after the infusion day", infusions=days)
    r = row(res, "P", 2)
    assert r["n_samples"] == 0
    assert all(value(r[c]) is None for c in ("cmax", "tmax", "auc_0_28", "tlast", "half_life"))
    reasons = res.exclusions[res.exclusions["infusion"] == 2]["reason"]
    assert set(reasons) == {"no sample on or after the infusion day"}


def test_empty_table() -> None:
    empty = pd.DataFrame({"patient_id": [], "infusion": [], "day": [], "value": []})
    res = kinetics_nca(empty)
    assert res.n == 0
    assert tuple(res.table.columns) == NCA_COLUMNS
    assert compare_infusions(res).table.empty


def test_dropping_every_blq_sample_leaves_cmax_missing_with_a_reason() -> None:
    data = profile("E", [0, 7, 14, 28], [0, 10, 20, 5], lloq=50)
    res = warned(data, "BLQ policy drops them", blq=BLQPolicy(first="drop"))
    r = row(res, "E")
    assert value(r["cmax"]) is None
    # Nothing is quantifiable, so the area is 0 (sampling reaches day 28).
    assert value(r["auc_0_28"]) == 0
