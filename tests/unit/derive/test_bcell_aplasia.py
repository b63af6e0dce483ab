"""B-cell aplasia as a parameterised definition: threshold, denominator, confirmation.

Defaults follow the Cincinnati wording: "Loss of BCA was defined as >1% CD19+ or 100 absolute
CD19+ cells on peripheral analysis, confirmed on a subsequent sample."
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cartcohort.derive.bcell_aplasia import BCA_COLUMNS, derive_bcell_aplasia
from cartcohort.errors import DerivationError


def _labs(
    values: list[float], days: list[int] | None = None, analyte: str = "cd19_pct"
) -> pd.DataFrame:
    days = days or [14 * (i + 1) for i in range(len(values))]
    unit = "%" if analyte == "cd19_pct" else "cells/uL"
    return pd.DataFrame(
        {"patient_id": "p", "day": days, "analyte": analyte, "value": values, "unit": unit}
    )


def _row(labs: pd.DataFrame, **kw: Any) -> pd.Series:
    return derive_bcell_aplasia(labs, **kw).table.iloc[0]


def test_threshold_boundary_one_percent_is_aplastic() -> None:
    r = _row(_labs([1.0, 1.0]))
    assert bool(r["bca"]) is True
    assert r["bca_onset_day"] == 14
    assert bool(r["bca_ongoing"]) is True
    assert r["bca_duration_days"] == 14  # censored at the last sample
    r2 = _row(_labs([1.01, 1.01]))
    assert bool(r2["bca"]) is False


def test_loss_needs_confirmation_on_a_subsequent_sample() -> None:
    # aplastic, aplastic, one detected, aplastic, detected, detected
    r = _row(_labs([0.0, 0.0, 5.0, 0.0, 5.0, 5.0]))
    assert r["bca_onset_day"] == 14
    assert r["bca_loss_day"] == 70  # day of the first of the two confirming samples
    assert r["bca_duration_days"] == 56
    assert bool(r["bca_ongoing"]) is False
    one = _row(_labs([0.0, 0.0, 5.0, 0.0, 5.0, 5.0]), confirm_samples=1)
    assert one["bca_loss_day"] == 42


def test_onset_needs_confirmation_too() -> None:
    r = _row(_labs([5.0, 0.0, 5.0, 0.0, 0.0]))
    assert r["bca_onset_day"] == 56
    assert _row(_labs([5.0, 0.0, 5.0]))["bca"] == False  # noqa: E712 -- nullable boolean


def test_absolute_denominator_and_threshold() -> None:
    labs = _labs([50.0, 80.0, 150.0, 200.0], analyte="cd19_abs")
    r = _row(labs, denominator="cells_per_ul", threshold=100.0)
    assert (r["bca_onset_day"], r["bca_loss_day"]) == (14, 42)
    # the % table is not read for the absolute definition
    assert derive_bcell_aplasia(labs).table.empty


def test_patients_without_samples_are_missing_not_false() -> None:
    res = derive_bcell_aplasia(_labs([0.0, 0.0]), patient_ids=["p", "q"])
    q = res.table.set_index("patient_id").loc["q"]
    assert pd.isna(q["bca"])
    assert q["bca_n_samples"] == 0
    assert tuple(res.table.columns) == BCA_COLUMNS
    assert "1 % of lymphocytes" in res.method.description


def test_samples_on_or_before_after_day_are_ignored() -> None:
    r = _row(_labs([0.0, 0.0, 5.0, 5.0], days=[-5, 0, 30, 60]))
    assert bool(r["bca"]) is False
    assert r["bca_n_samples"] == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"denominator": "pbmc"},
        {"threshold": -1.0},
        {"threshold": 100.0},
        {"confirm_samples": 0},
    ],
)
def test_bad_settings_are_named_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(DerivationError):
        derive_bcell_aplasia(_labs([0.0]), **kwargs)


def test_wrong_unit_is_refused() -> None:
    labs = _labs([0.0, 0.0])
    labs["unit"] = "cells/uL"
    with pytest.raises(DerivationError, match="canonical unit"):
        derive_bcell_aplasia(labs)
