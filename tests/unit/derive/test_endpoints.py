"""Hand-worked endpoint rules: one patient per case, expected row written out by hand.

Conventions under test (docs/methods/endpoints.md):
seed 000 -- "the analysis of event-free survival used the earliest of no response, relapse,
or death as the event. Patients who did not have an event had their data censored ... at the
date at which they were last known to be alive"; seed 004 -- "LFS was calculated from the
date of CR to the date of relapse, death, or the last follow-up".
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cartcohort.derive.endpoints import (
    ENDPOINT_COLUMNS,
    EndpointExclusionWarning,
    cnsr_to_event,
    derive_endpoints,
    derive_endpoints_with_exclusions,
    event_to_cnsr,
    landmark,
    to_adtte,
)
from cartcohort.errors import DerivationError
from cartcohort.model.cohort import apply_dtypes
from cartcohort.model.standard import EVENTS, PATIENTS

# A responder in CR from day 28, alive and relapse-free at day 400, no HSCT.
BASE: dict[str, Any] = {
    "patient_id": "P1",
    "best_response": "CR",
    "response_day": 28,
    "mrd_negative": True,
    "relapse": False,
    "relapse_day": None,
    "hsct_after": False,
    "hsct_day": None,
    "death": False,
    "death_day": None,
    "death_cause": None,
    "last_followup_day": 400,
}


def sheet(**changes: Any) -> pd.DataFrame:
    """One-patient sheet in the validator's nullable dtypes."""
    return apply_dtypes(PATIENTS, pd.DataFrame([{**BASE, **changes}]))


def events(*rows: tuple[int, str]) -> pd.DataFrame:
    frame = pd.DataFrame([{"patient_id": "P1", "day": d, "event": e} for d, e in rows])
    return apply_dtypes(EVENTS, frame)


def one(result_frame: pd.DataFrame, param: str) -> tuple[int, int, int, str]:
    rows = result_frame[result_frame["param"] == param]
    assert len(rows) == 1, f"expected one {param} row, got {len(rows)}"
    r = rows.iloc[0]
    assert r["time_days"] == r["day"] - r["start_day"]
    return int(r["start_day"]), int(r["day"]), int(r["event"]), str(r["reason"])


CENS = "censored at last follow-up"

# (changes to BASE, options, param, expected (start_day, day, event, reason))
ROW_CASES = [
    pytest.param({}, {}, "OS", (0, 400, 0, CENS), id="os-censored-at-last-followup"),
    pytest.param(
        {"death": True, "death_day": 200, "last_followup_day": 200},
        {},
        "OS",
        (0, 200, 1, "death"),
        id="os-death",
    ),
    pytest.param(
        {"death": None, "death_day": 300, "last_followup_day": 300},
        {},
        "OS",
        (0, 300, 1, "death"),
        id="os-death-day-implies-death",
    ),
    pytest.param({}, {}, "EFS", (0, 400, 0, CENS), id="efs-responder-censored"),
    pytest.param(
        {"relapse": True, "relapse_day": 150},
        {},
        "EFS",
        (0, 150, 1, "relapse"),
        id="efs-relapse",
    ),
    pytest.param(
        {
            "relapse": True,
            "relapse_day": 150,
            "death": True,
            "death_day": 150,
            "last_followup_day": 150,
        },
        {},
        "EFS",
        (0, 150, 1, "relapse"),
        id="efs-relapse-and-death-same-day-is-relapse",
    ),
    pytest.param(
        {
            "relapse": True,
            "relapse_day": 150,
            "death": True,
            "death_day": 150,
            "last_followup_day": 150,
        },
        {},
        "CIR",
        (28, 150, 1, "relapse"),
        id="cir-relapse-and-death-same-day-is-relapse",
    ),
    pytest.param(
        {"best_response": "NR", "last_followup_day": 100},
        {},
        "EFS",
        (0, 0, 1, "no response (NR)"),
        id="efs-nonresponder-day0",
    ),
    pytest.param(
        {"best_response": "NR", "last_followup_day": 100},
        {"efs_nonresponse": "assessment"},
        "EFS",
        (0, 28, 1, "no response (NR)"),
        id="efs-nonresponder-at-assessment",
    ),
    pytest.param(
        {"best_response": "PR"}, {}, "EFS", (0, 0, 1, "no response (PR)"), id="efs-pr-is-failure"
    ),
    pytest.param({"best_response": "CRi"}, {}, "EFS", (0, 400, 0, CENS), id="efs-cri-is-response"),
    pytest.param(
        {
            "best_response": "NE",
            "response_day": None,
            "death": True,
            "death_day": 12,
            "last_followup_day": 12,
        },
        {},
        "EFS",
        (0, 12, 1, "death (response not evaluable)"),
        id="efs-ne-early-death",
    ),
    pytest.param(
        {"best_response": "NE", "last_followup_day": 60},
        {"not_evaluable": "failure"},
        "EFS",
        (0, 0, 1, "no response (NE)"),
        id="efs-ne-as-failure",
    ),
    pytest.param({}, {}, "LFS", (28, 400, 0, CENS), id="lfs-censored-from-response-day"),
    pytest.param(
        {"relapse": True, "relapse_day": 150},
        {},
        "LFS",
        (28, 150, 1, "relapse"),
        id="lfs-relapse",
    ),
    pytest.param(
        {"death": True, "death_day": 28, "last_followup_day": 28},
        {},
        "LFS",
        (28, 28, 1, "death"),
        id="lfs-death-on-response-day-time-0",
    ),
    pytest.param(
        {"death": True, "death_day": 28, "last_followup_day": 28},
        {},
        "CIR",
        (28, 28, 2, "death without relapse"),
        id="cir-death-on-response-day-is-nrm",
    ),
    pytest.param(
        {"death": True, "death_day": 90, "last_followup_day": 90},
        {},
        "CIR",
        (28, 90, 2, "death without relapse"),
        id="cir-nrm",
    ),
    pytest.param({}, {}, "CIR", (28, 400, 0, CENS), id="cir-censored"),
    pytest.param(
        {
            "relapse": True,
            "relapse_day": 100,
            "death": True,
            "death_day": 300,
            "last_followup_day": 300,
        },
        {},
        "CIR",
        (28, 100, 1, "relapse"),
        id="cir-relapse-then-death",
    ),
    pytest.param(
        {"hsct_after": True, "hsct_day": 100, "relapse": True, "relapse_day": 200},
        {},
        "EFS_CENS_HSCT",
        (0, 100, 0, "censored at consolidative HSCT"),
        id="efs-censored-at-hsct",
    ),
    pytest.param(
        {"hsct_after": True, "hsct_day": 100, "relapse": True, "relapse_day": 200},
        {},
        "EFS",
        (0, 200, 1, "relapse"),
        id="efs-not-censored-at-hsct-in-primary",
    ),
    pytest.param(
        {"hsct_after": True, "hsct_day": 100},
        {},
        "LFS_CENS_HSCT",
        (28, 100, 0, "censored at consolidative HSCT"),
        id="lfs-censored-at-hsct",
    ),
    pytest.param(
        {
            "hsct_after": True,
            "hsct_day": 100,
            "death": True,
            "death_day": 100,
            "last_followup_day": 100,
        },
        {},
        "OS_CENS_HSCT",
        (0, 100, 1, "death"),
        id="os-death-on-hsct-day-stays-event",
    ),
    pytest.param(
        {
            "relapse": True,
            "relapse_day": 100,
            "hsct_after": True,
            "hsct_day": 150,
            "death": True,
            "death_day": 300,
            "last_followup_day": 300,
        },
        {},
        "OS_CENS_HSCT",
        (0, 300, 1, "death"),
        id="os-hsct-after-relapse-is-not-consolidative",
    ),
    pytest.param(
        {"best_response": "NR", "hsct_after": True, "hsct_day": 60},
        {},
        "EFS_CENS_HSCT",
        (0, 0, 1, "no response (NR)"),
        id="efs-hsct-of-nonresponder-not-censored",
    ),
    pytest.param(
        {"death": True, "death_day": 200, "death_cause": "infection", "last_followup_day": 200},
        {"dor_deaths": "disease"},
        "DOR",
        (28, 200, 0, "censored at death from another cause"),
        id="dor-disease-deaths-censors-nrm",
    ),
    pytest.param(
        {"death": True, "death_day": 200, "death_cause": "infection", "last_followup_day": 200},
        {},
        "DOR",
        (28, 200, 1, "death"),
        id="dor-any-death",
    ),
    pytest.param(
        {"relapse": True, "relapse_day": 150}, {}, "PFS", (0, 150, 1, "relapse"), id="pfs-relapse"
    ),
]


@pytest.mark.parametrize(("changes", "options", "param", "expected"), ROW_CASES)
def test_endpoint_rows(
    changes: dict[str, Any], options: dict[str, str], param: str, expected: tuple[Any, ...]
) -> None:
    result = derive_endpoints_with_exclusions(sheet(**changes), **options)  # type: ignore[arg-type]
    assert one(result.endpoints, param) == expected


EXCLUSION_CASES = [
    pytest.param(
        {"last_followup_day": None}, "OS", "last_followup_day missing", id="os-missing-followup"
    ),
    pytest.param({"death": None}, "OS", "death status missing", id="os-missing-death-status"),
    pytest.param(
        {"death": True, "last_followup_day": 50}, "OS", "death_day missing", id="os-no-death-day"
    ),
    pytest.param(
        {"relapse": None}, "LFS", "relapse status missing", id="lfs-missing-relapse-status"
    ),
    pytest.param(
        {"response_day": None}, "LFS", "response_day missing", id="lfs-missing-response-day"
    ),
    pytest.param(
        {"best_response": None}, "EFS", "best_response missing", id="efs-missing-response"
    ),
    pytest.param(
        {"best_response": "NE", "response_day": None},
        "EFS",
        "NE (not evaluable)",
        id="efs-ne-alive-excluded",
    ),
    pytest.param(
        {"hsct_after": None}, "EFS_CENS_HSCT", "hsct_after missing", id="hsct-status-missing"
    ),
    pytest.param(
        {"best_response": "NR"},
        "PFS",
        "without a recorded progression day",
        id="pfs-nonresponder-needs-progression",
    ),
    pytest.param(
        {"death": True, "death_day": 200, "last_followup_day": 200},
        "DOR",
        "death_cause missing",
        id="dor-disease-needs-cause",
    ),
]


@pytest.mark.parametrize(("changes", "param", "reason"), EXCLUSION_CASES)
def test_missing_inputs_are_excluded_with_reason(
    changes: dict[str, Any], param: str, reason: str
) -> None:
    result = derive_endpoints_with_exclusions(sheet(**changes), dor_deaths="disease")
    assert (result.endpoints["param"] == param).sum() == 0
    ex = result.exclusions[result.exclusions["param"] == param]
    assert ex["patient_id"].tolist() == ["P1"]
    assert ex["reason"].iloc[0].startswith("not derivable: ")
    assert reason in ex["reason"].iloc[0]


@pytest.mark.parametrize("param", ["LFS", "CIR", "DOR", "LFS_CENS_HSCT"])
def test_responder_only_params_skip_nonresponders_without_exclusion(param: str) -> None:
    result = derive_endpoints_with_exclusions(sheet(best_response="NR"))
    assert (result.endpoints["param"] == param).sum() == 0
    assert (result.exclusions["param"] == param).sum() == 0


def test_pfs_and_newtx_from_events_table() -> None:
    nr = sheet(best_response="NR", last_followup_day=300)
    res = derive_endpoints_with_exclusions(nr, events((60, "progression")))
    assert one(res.endpoints, "PFS") == (0, 60, 1, "progression")
    cr = sheet()
    res = derive_endpoints_with_exclusions(cr, events((10, "new_therapy"), (90, "new_therapy")))
    # day 10 is before the response (bridging, not consolidation); day 90 is in remission.
    assert one(res.endpoints, "LFS_CENS_NEWTX") == (
        28,
        90,
        0,
        "censored at new therapy in remission",
    )
    assert one(res.endpoints, "LFS") == (28, 400, 0, CENS)


def test_newtx_params_need_events_table() -> None:
    res = derive_endpoints_with_exclusions(sheet(), params=["OS_CENS_NEWTX"])
    assert res.n == 0
    assert "events table" in res.exclusions["reason"].iloc[0]
    default = derive_endpoints_with_exclusions(sheet())
    assert not default.endpoints["param"].str.contains("NEWTX").any()


CONTRADICTIONS = [
    pytest.param(
        {"death": True, "death_day": 20, "last_followup_day": 20},
        "death_day",
        id="death-before-response",
    ),
    pytest.param({"relapse": True, "relapse_day": 20}, "relapse_day", id="relapse-before-response"),
    pytest.param(
        {
            "relapse": True,
            "relapse_day": 300,
            "death": True,
            "death_day": 200,
            "last_followup_day": 200,
        },
        "relapse_day",
        id="relapse-after-death",
    ),
    pytest.param(
        {"death": True, "death_day": 200, "last_followup_day": 250},
        "last_followup_day",
        id="followup-after-death",
    ),
    pytest.param({"death": False, "death_day": 200}, "death", id="death-false-with-day"),
    pytest.param({"last_followup_day": -3}, "last_followup_day", id="negative-day"),
    pytest.param({"last_followup_day": 20}, "last_followup_day", id="followup-before-response"),
]


@pytest.mark.parametrize(("changes", "column"), CONTRADICTIONS)
def test_contradictions_raise_naming_patient_and_column(
    changes: dict[str, Any], column: str
) -> None:
    with pytest.raises(DerivationError, match="patient P1") as info:
        derive_endpoints_with_exclusions(sheet(**changes))
    assert column in str(info.value)


def test_contract_function_columns_params_and_warning() -> None:
    frame = pd.concat([sheet(), sheet(patient_id="P2", last_followup_day=None)])
    with pytest.warns(EndpointExclusionWarning, match="derive_endpoints_with_exclusions"):
        ep = derive_endpoints(frame)
    assert list(ep.columns) == list(ENDPOINT_COLUMNS)
    assert set(ep["param"]) == {"OS", "EFS", "LFS", "CIR"}
    assert ep.groupby(["patient_id", "param"]).size().max() == 1


def test_plain_dtypes_give_the_same_result() -> None:
    plain = pd.DataFrame([{**BASE, "relapse": True, "relapse_day": 150}])
    typed = sheet(relapse=True, relapse_day=150)
    a = derive_endpoints_with_exclusions(plain).endpoints
    b = derive_endpoints_with_exclusions(typed).endpoints
    pd.testing.assert_frame_equal(a, b)


def test_unknown_setting_is_an_error() -> None:
    with pytest.raises(DerivationError, match="efs_nonresponse"):
        derive_endpoints(sheet(), efs_nonresponse="day1")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# CNSR: the one flip between cartcohort's event and CDISC CNSR, tested both ways
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "cnsr"),
    [
        pytest.param(0, 1, id="censored"),
        pytest.param(1, 0, id="event"),
        pytest.param(2, 0, id="competing-event"),
    ],
)
def test_event_to_cnsr(event: int, cnsr: int) -> None:
    assert event_to_cnsr(pd.Series([event])).tolist() == [cnsr]


@pytest.mark.parametrize(
    ("cnsr", "event"),
    [
        pytest.param(0, True, id="event"),
        pytest.param(1, False, id="censored"),
        pytest.param(2, False, id="censor-reason-2"),
    ],
)
def test_cnsr_to_event(cnsr: int, event: bool) -> None:
    assert cnsr_to_event(pd.Series([cnsr])).tolist() == [event]


def test_cnsr_round_trip_and_bad_values() -> None:
    ev = pd.Series([0, 1, 1, 0])
    assert cnsr_to_event(event_to_cnsr(ev)).astype(int).tolist() == ev.tolist()
    with pytest.raises(DerivationError):
        event_to_cnsr(pd.Series([-1]))


def test_to_adtte_columns_and_competing_event() -> None:
    res = derive_endpoints_with_exclusions(
        sheet(death=True, death_day=90, last_followup_day=90, hsct_after=False)
    )
    ad = to_adtte(res)
    assert list(ad.columns) == [
        "USUBJID",
        "PARAMCD",
        "PARAM",
        "STARTDY",
        "ADY",
        "AVAL",
        "CNSR",
        "EVNTDESC",
        "CNSDTDSC",
        "SRCDOM",
        "SRCVAR",
    ]
    assert (ad["PARAMCD"].str.len() <= 8).all()
    assert (ad["AVAL"] == ad["ADY"] - ad["STARTDY"]).all()
    cir = ad[ad["PARAMCD"] == "CIR"].iloc[0]
    assert (cir["CNSR"], cir["EVNTDESC"], cir["AVAL"]) == (0, "death without relapse", 62)
    assert pd.isna(cir["CNSDTDSC"])
    os_ = ad[ad["PARAMCD"] == "OS"].iloc[0]
    assert (os_["SRCDOM"], os_["SRCVAR"]) == ("PATIENTS", "DEATH_DAY")
    cens = to_adtte(derive_endpoints_with_exclusions(sheet(), params=["OS"]))
    assert cens["CNSR"].tolist() == [1]
    assert cens["CNSDTDSC"].tolist() == [CENS]


def test_landmark_keeps_at_risk_shifts_start_and_adds_response() -> None:
    frame = pd.concat(
        [
            sheet(),  # P1: CR day 28, alive at 400
            sheet(
                patient_id="P2",
                best_response="NR",
                death=True,
                death_day=20,
                response_day=14,
                last_followup_day=20,
            ),
            sheet(patient_id="P3", best_response="CR", response_day=35, last_followup_day=300),
        ]
    )
    res = derive_endpoints_with_exclusions(frame, params=["OS", "LFS"])
    lm = landmark(res, 28, response=frame)
    os_ = lm[lm["param"] == "OS"].set_index("patient_id")
    assert os_.index.tolist() == ["P1", "P3"]  # P2 died on day 20, before the landmark
    assert (os_["start_day"] == 28).all()
    assert os_.loc["P1", "time_days"] == 372
    assert os_["responder_at_landmark"].tolist() == [True, False]  # P3 responded on day 35
    # LFS of P3 starts on day 35, after the landmark: not at risk at day 28.
    assert lm[lm["param"] == "LFS"]["patient_id"].tolist() == ["P1"]
