"""Simon-Makuch figure: the at-risk numbers (data, with a Hypothesis invariant), then the
drawn axes (the exposed curve starts at the first exposure; a move is not a censoring)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.text import Text

from cartcohort.analyse.counting import mantel_byar_test, simon_makuch, to_counting_process
from cartcohort.derive.dates import DAYS_PER_MONTH
from cartcohort.render.figures.simon_makuch import (
    CUMULATIVE,
    exposure_risk_table,
    plot_simon_makuch,
)

#: Eight patients: HSCT on day 0 (P1), during follow-up (P2, P3, P5), on the last day of
#: follow-up (P4: changes nothing), never (P6-P8).
PATIENTS = pd.DataFrame(
    {
        "pid": [f"P{i}" for i in range(1, 9)],
        "days": [100, 200, 150, 90, 300, 60, 250, 120],
        "died": [1, 0, 1, 0, 1, 1, 0, 1],
        "hsct_day": [0, 50, 100, 90, 80, None, None, None],
    }
)


def _intervals(data: pd.DataFrame) -> pd.DataFrame:
    split = to_counting_process(
        data, id="pid", time="days", event="died", changes={"exposed": "hsct_day"}
    )
    return split.rename(columns={"pid": "id", "died": "event"})


def _brute(data: pd.DataFrame, t: float) -> tuple[int, int, int]:
    """(unexposed, exposed, exposed so far) at t, patient by patient."""
    unexposed = exposed = so_far = 0
    for time, day in zip(data["days"], data["hsct_day"], strict=True):
        moves = day == day and (day == 0 or day < time)  # a day on the last day changes nothing
        if moves and day <= t:
            so_far += 1
        at_risk = time >= t
        if not at_risk:
            continue
        if moves and (day < t or day == 0):
            exposed += 1
        else:
            unexposed += 1
    return unexposed, exposed, so_far


def test_risk_table_counts_patients_in_their_current_state() -> None:
    ticks = [0.0, 50.0, 60.0, 90.0, 100.0, 200.0, 300.0, 301.0]
    frame = exposure_risk_table(_intervals(PATIENTS), ticks)
    got = {g: frame.loc[frame["group"] == g, "n_risk"].tolist() for g in (0, 1, CUMULATIVE)}
    want = [_brute(PATIENTS, t) for t in ticks]
    assert got[0] == [w[0] for w in want]
    assert got[1] == [w[1] for w in want]
    assert got[CUMULATIVE] == [w[2] for w in want]
    # day 0: only the patient transplanted on day 0 is "after HSCT"; on day 50 the patient
    # transplanted that day is still before it (an event that day counts before HSCT)
    assert got[1][:2] == [1, 1]
    assert got[CUMULATIVE][:2] == [1, 2]


@st.composite
def cohorts(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=25))
    times = draw(st.lists(st.integers(1, 40), min_size=n, max_size=n))
    events = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    cut = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    day = [np.nan if c < 0.3 else float(np.floor(c * t)) for c, t in zip(cut, times, strict=True)]
    return pd.DataFrame({"pid": range(n), "days": times, "died": events, "hsct_day": day})


@settings(max_examples=60, deadline=None)
@given(data=cohorts(), ticks=st.lists(st.integers(0, 45), min_size=1, max_size=8))
def test_risk_table_equals_a_patient_by_patient_count(data: pd.DataFrame, ticks: list[int]) -> None:
    frame = exposure_risk_table(_intervals(data), [float(t) for t in ticks])
    for t in ticks:
        rows = frame[frame["time"] == float(t)]
        got = tuple(int(rows.loc[rows["group"] == g, "n_risk"].iloc[0]) for g in (0, 1, CUMULATIVE))
        assert got == _brute(data, float(t))
        # every patient still followed is in exactly one state
        assert got[0] + got[1] == int((data["days"] >= t).sum())


def test_risk_table_needs_the_interval_columns() -> None:
    with pytest.raises(ValueError, match="missing"):
        exposure_risk_table(pd.DataFrame({"tstart": [0.0]}), [0.0])


def test_plot_draws_time_dependent_membership() -> None:
    intervals = _intervals(PATIENTS)
    keys = {"id": "pid", "time": "days", "event": "died", "exposure_day": "hsct_day"}
    sm = simon_makuch(PATIENTS, **keys)
    mb = mantel_byar_test(PATIENTS, **keys)
    fig = plot_simon_makuch(
        sm,
        intervals,
        test=mb,
        group_labels={0: "No HSCT yet", 1: "After HSCT"},
        cumulative_label="HSCT so far",
        time_unit="days",
    )
    _header, main, table = fig.axes[:3]
    curves = [line for line in main.get_lines() if line.get_linestyle() != "None"]
    starts = [float(line.get_xdata()[0]) for line in curves]
    assert starts == [0.0, 0.0]  # P1 is exposed from day 0
    marks = [line for line in main.get_lines() if line.get_marker() == "+"]
    # "+" only where follow-up ends without the event: P2 (200), P7 (250) and P4 (90,
    # unexposed: HSCT on its last day changes nothing); the moves at days 50, 80 and 100
    # are not censorings
    assert sorted(float(x) for m in marks for x in m.get_xdata()) == [90.0, 200.0, 250.0]
    ticks = main.get_xticks()
    frame = exposure_risk_table(intervals, ticks)
    drawn = sorted((round(t.get_position()[0], 9), t.get_text()) for t in table.texts)
    want = sorted(
        (round(float(x), 9), str(n))
        for x, n in zip(np.tile(ticks, 3), frame["n_risk"], strict=True)
    )
    assert drawn == want
    labels = [t.get_text() for t in table.get_yticklabels()]
    assert labels == ["No HSCT yet", "After HSCT", "HSCT so far"]
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert any(t.startswith("Mantel-Byar test p") for t in texts)


def test_exposed_curve_starts_at_the_first_exposure_in_months() -> None:
    data = PATIENTS.assign(hsct_day=PATIENTS["hsct_day"].where(PATIENTS["hsct_day"] != 0, 30))
    intervals = _intervals(data)
    sm = simon_makuch(data, id="pid", time="days", event="died", exposure_day="hsct_day")
    fig = plot_simon_makuch(sm, intervals)
    main = fig.axes[1]
    curves = [line for line in main.get_lines() if line.get_linestyle() != "None"]
    assert float(curves[1].get_xdata()[0]) == pytest.approx(30 / DAYS_PER_MONTH)
    assert float(curves[1].get_ydata()[0]) == 1.0
