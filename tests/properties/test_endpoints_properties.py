"""Hypothesis invariants of the endpoint derivation on randomly generated, consistent sheets."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cartcohort.derive.endpoints import derive_endpoints_with_exclusions, landmark, to_adtte

RESPONSES = ["CR", "CRi", "PR", "NR", "NE", None]


@st.composite
def patient(draw: st.DrawFn, pid: int) -> dict[str, Any]:
    """One patient whose days are in a clinically possible order (or missing)."""
    resp = draw(st.sampled_from(RESPONSES))
    rday = draw(st.integers(7, 60))
    responder = resp in ("CR", "CRi")
    relapsed = responder and draw(st.booleans())
    relapse_day = rday + draw(st.integers(0, 500)) if relapsed else None
    floor = relapse_day if relapse_day is not None else rday
    dead = draw(st.booleans())
    death_day = floor + draw(st.integers(0, 500)) if dead else None
    lfu = death_day if dead else floor + draw(st.integers(0, 800))
    hsct = responder and draw(st.booleans())
    hsct_day = rday + draw(st.integers(0, 300)) if hsct else None
    if hsct_day is not None and death_day is not None:
        hsct_day = min(hsct_day, death_day)
    row = {
        "patient_id": f"P{pid}",
        "best_response": resp,
        "response_day": rday if resp is not None else None,
        "relapse": relapsed if responder else draw(st.sampled_from([False, None])),
        "relapse_day": relapse_day,
        "hsct_after": hsct,
        "hsct_day": hsct_day,
        "death": dead,
        "death_day": death_day,
        "last_followup_day": lfu,
    }
    # Randomly blank a field: the patient must then be excluded for it, never guessed.
    blank = draw(st.sampled_from([None, "last_followup_day", "death", "relapse", "hsct_after"]))
    if blank is not None and not (blank == "death" and dead):
        row[blank] = None
    return row


@st.composite
def cohorts(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    return pd.DataFrame([draw(patient(i)) for i in range(n)])


OPTIONS = st.fixed_dictionaries(
    {
        "efs_nonresponse": st.sampled_from(["day0", "assessment"]),
        "not_evaluable": st.sampled_from(["exclude", "failure"]),
    }
)


@settings(max_examples=80, deadline=None)
@given(cohorts(), OPTIONS)
def test_endpoint_invariants(frame: pd.DataFrame, options: dict[str, str]) -> None:
    res = derive_endpoints_with_exclusions(frame, **options)  # type: ignore[arg-type]
    ep = res.endpoints
    # analysis time is never negative, and is day - start_day
    assert (ep["time_days"] >= 0).all()
    assert (ep["time_days"] == ep["day"] - ep["start_day"]).all()
    # at most one row per patient and parameter; never both a row and an exclusion
    assert not ep.duplicated(["patient_id", "param"]).any()
    both = ep.merge(res.exclusions, on=["patient_id", "param"])
    assert both.empty
    by_id = frame.set_index("patient_id")
    # OS event iff death
    os_ = ep[ep["param"] == "OS"].set_index("patient_id")
    dead = by_id.loc[os_.index, "death_day"].notna().to_numpy()
    assert ((os_["event"] == 1).to_numpy() == dead).all()
    # EFS time <= OS time for patients with both
    efs = ep[ep["param"] == "EFS"].set_index("patient_id")["time_days"]
    common = efs.index.intersection(os_.index)
    assert (efs.loc[common].to_numpy() <= os_.loc[common, "time_days"].to_numpy()).all()
    # LFS, CIR and DOR only for responders, starting at the response day
    for param in ("LFS", "CIR", "DOR", "LFS_CENS_HSCT"):
        rows = ep[ep["param"] == param].set_index("patient_id")
        assert by_id.loc[rows.index, "best_response"].isin(["CR", "CRi"]).all()
        starts = by_id.loc[rows.index, "response_day"].to_numpy(dtype=float)
        assert (rows["start_day"].to_numpy() == starts).all()
    # event codes
    cir = ep[ep["param"] == "CIR"]
    assert cir["event"].isin([0, 1, 2]).all()
    assert ep.loc[ep["param"] != "CIR", "event"].isin([0, 1]).all()
    # every patient is accounted for in OS: a row or an exclusion with a reason
    os_ex = res.exclusions[res.exclusions["param"] == "OS"]
    assert set(os_.index) | set(os_ex["patient_id"]) == set(frame["patient_id"])
    assert os_ex["reason"].str.startswith("not derivable: ").all()
    # censoring at HSCT never lengthens follow-up
    for base in ("OS", "EFS", "LFS"):
        a = ep[ep["param"] == base].set_index("patient_id")["day"]
        b = ep[ep["param"] == f"{base}_CENS_HSCT"].set_index("patient_id")["day"]
        idx = a.index.intersection(b.index)
        assert (b.loc[idx].to_numpy() <= a.loc[idx].to_numpy()).all()
    # export: AVAL = ADY - STARTDY and CNSR is the flip of event
    ad = to_adtte(res)
    assert (ad["AVAL"] >= 0).all()
    assert ((ad["CNSR"] == 0) == (ep["event"] > 0).to_numpy()).all()
    # landmark rows start at the landmark and stay non-negative
    lm = landmark(res, 28)
    assert (lm["start_day"] == 28).all()
    assert (lm["time_days"] > 0).all()


@settings(max_examples=30, deadline=None)
@given(cohorts())
def test_row_order_does_not_change_rows(frame: pd.DataFrame) -> None:
    a = derive_endpoints_with_exclusions(frame).endpoints
    b = derive_endpoints_with_exclusions(frame.iloc[::-1]).endpoints
    key = ["patient_id", "param"]
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    )
