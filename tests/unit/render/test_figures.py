"""Figures: the numbers they draw first (data), then the rendered files and axes (pixels)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from cartcohort.analyse.compare import mann_whitney_test
from cartcohort.analyse.competing import cumulative_incidence
from cartcohort.analyse.cox import cox_ph
from cartcohort.analyse.km import kaplan_meier
from cartcohort.analyse.logistic import logistic_regression
from cartcohort.analyse.logrank import logrank_test
from cartcohort.derive.dates import DAYS_PER_MONTH
from cartcohort.render.figures import (
    add_footnote,
    category_counts,
    check_flow,
    dynamics_summary,
    forest_frame,
    group_summary,
    plot_cumulative_incidence,
    plot_dynamics,
    plot_flow,
    plot_forest,
    plot_group_values,
    plot_stacked_bars,
    plot_survival,
    plot_swimmer,
    risk_table_frame,
    save,
    swimmer_frame,
    time_ticks,
)
from cartcohort.render.figures.km import landmark_label
from cartcohort.render.format import (
    format_estimate_ci,
    format_p,
    format_percent,
    round_half_up,
    round_significant,
)

# ----------------------------------------------------------------------------------------------
# fixtures: small seeded data
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def surv() -> pd.DataFrame:
    rng = np.random.default_rng(20260101)
    n = 60
    arm = np.where(np.arange(n) < 30, "A", "B")
    t = np.ceil(rng.exponential(np.where(arm == "A", 500, 300))).astype(int)
    c = np.ceil(rng.uniform(100, 1100, n)).astype(int)
    return pd.DataFrame(
        {
            "days": np.minimum(t, c),
            "died": (t <= c).astype(int),
            "arm": arm,
            "age": rng.normal(50, 10, n).round(),
            "sex": pd.Categorical(rng.choice(["M", "F"], n), categories=["M", "F"]),
        }
    )


@pytest.fixture(scope="module")
def km(surv: pd.DataFrame):  # type: ignore[no-untyped-def]
    return kaplan_meier(surv, time="days", event="died", by="arm")


def _texts(fig) -> list[str]:  # type: ignore[no-untyped-def]
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += [ax.get_title(loc) for loc in ("left", "center", "right")]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
    for legend in fig.legends:
        out += [t.get_text() for t in legend.get_texts()]
    return out


# ----------------------------------------------------------------------------------------------
# format
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        pytest.param(0.0312, "p = 0.031", id="two-significant"),
        pytest.param(0.12, "p = 0.12", id="two-significant-large"),
        pytest.param(0.5, "p = 0.50", id="trailing-zero-kept"),
        pytest.param(0.0045, "p = 0.005", id="half-up-three-decimals"),
        pytest.param(0.001, "p = 0.001", id="boundary-0.001"),
        pytest.param(0.00099, "p < 0.001", id="below-0.001"),
        pytest.param(0.995, "p > 0.99", id="above-0.99"),
        pytest.param(0.00996, "p = 0.010", id="rounds-to-boundary"),
        pytest.param(float("nan"), "p = NE", id="nan"),
    ],
)
def test_format_p(p: float, expected: str) -> None:
    assert format_p(p) == expected


def test_format_p_bare_and_invalid() -> None:
    assert format_p(0.0002, prefix="") == "<0.001"
    assert format_p(0.2, prefix="") == "0.20"
    # not a p-value: "not estimable", as table cells show it (it used to raise, and one
    # such value stopped the whole report); rounding error just outside [0, 1] is a p-value
    assert format_p(1.5) == "p = NE"
    assert format_p(-0.2, prefix="") == "NE"
    assert format_p(1 + 1e-12) == "p > 0.99"
    assert format_p(-1e-12) == "p < 0.001"


def test_rounding_is_half_up_on_the_decimal_shown() -> None:
    assert round_half_up(2.675, 2) == "2.68"  # round() gives 2.67 (binary 2.67499...)
    assert round_half_up(0.125, 2) == "0.13"  # round() gives 0.12 (half to even)
    assert round_half_up(-0.0001, 2) == "0.00"
    assert round_significant(0.996) == "1.0"
    assert round_significant(0.0456) == "0.046"


def test_format_estimate_ci() -> None:
    assert format_estimate_ci(0.5812, 0.41, 0.8) == "0.58 (0.41–0.80)"
    assert format_estimate_ci(-0.2, -0.5, 0.1, digits=1) == "-0.2 (-0.5 to 0.1)"
    assert format_estimate_ci(2.0, 1.0, math.inf) == "2.00 (1.00–NE)"
    assert format_percent(0.6125) == "61 %"


# ----------------------------------------------------------------------------------------------
# KM: data first
# ----------------------------------------------------------------------------------------------


def test_time_ticks_months_and_days() -> None:
    assert time_ticks(730, time_unit="months").tolist() == [0, 6, 12, 18, 24]
    assert time_ticks(2003, time_unit="months", max_ticks=7).tolist() == [0, 12, 24, 36, 48, 60, 72]
    assert time_ticks(28, time_unit="days").tolist() == [0, 7, 14, 21, 28]
    assert time_ticks(100, time_unit="days", step=50).tolist() == [0, 50, 100]


def test_landmark_labels() -> None:
    assert [landmark_label(d) for d in (730, 730.5, 365, 183, 100)] == [
        "2-y",
        "2-y",
        "1-y",
        "6-mo",
        "100-d",
    ]


def test_risk_table_equals_brute_force_count(surv: pd.DataFrame, km) -> None:  # type: ignore[no-untyped-def]
    ticks = [0.0, 1.0, 99.5, 182.625, 365.25, float(surv["days"].max()), 5000.0]
    frame = risk_table_frame(km, ticks)
    for row in frame.itertuples(index=False):
        times = surv.loc[surv["arm"] == row.group, "days"]
        assert row.n_risk == int((times >= row.time).sum()), (row.group, row.time)
    assert frame.loc[frame["time"] == 5000.0, "n_risk"].tolist() == [0, 0]
    assert frame["group"].tolist()[:1] == ["A"]


def test_risk_table_random_data_property() -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        d = pd.DataFrame(
            {"t": rng.integers(0, 50, 40), "e": rng.integers(0, 2, 40), "g": rng.integers(0, 3, 40)}
        )
        fit = kaplan_meier(d, time="t", event="e", by="g")
        ticks = np.arange(0, 60, 5.0)
        frame = risk_table_frame(fit, ticks)
        for row in frame.itertuples(index=False):
            assert row.n_risk == int((d.loc[d["g"] == row.group, "t"] >= row.time).sum())


# ----------------------------------------------------------------------------------------------
# KM: the figure
# ----------------------------------------------------------------------------------------------


def test_plot_survival_table_lines_up_with_curves(surv: pd.DataFrame, km) -> None:  # type: ignore[no-untyped-def]
    lr = logrank_test(surv, time="days", event="died", by="arm")
    fig = plot_survival(km, test=lr, landmarks=[365.25], endpoint="OS", median_lines=True)
    _header, main, table = fig.axes[:3]
    assert table in main.get_shared_x_axes().get_siblings(main)
    assert table.get_xlim() == main.get_xlim()
    ticks = main.get_xticks()
    assert ticks[0] == 0
    expected = risk_table_frame(km, ticks * DAYS_PER_MONTH)
    drawn = sorted((round(t.get_position()[0], 9), t.get_text()) for t in table.texts)
    want = sorted((round(float(x), 9), str(n)) for x, n in zip(
        np.tile(ticks, 2), expected["n_risk"], strict=True))  # fmt: skip
    assert drawn == want
    assert [t.get_text() for t in table.get_yticklabels()] == ["A", "B"]
    texts = _texts(fig)
    assert any(t == f"Log-rank {format_p(lr.p_value)}" for t in texts)
    assert any("1-y OS" in t and "±" in t for t in texts)
    assert "Number at risk" in texts
    assert main.get_ylim() == (-0.02, 1.02)


def test_plot_survival_options_and_save_is_deterministic(km, tmp_path) -> None:  # type: ignore[no-untyped-def]
    def build():  # type: ignore[no-untyped-def]
        fig = plot_survival(
            km, risk_table=False, time_unit="days", confidence_band=True, width="double"
        )
        add_footnote(fig, "Synthetic test data", width="double")
        return fig

    fig = build()
    assert len(fig.axes) == 2
    assert fig.axes[1].get_xlabel() == "Days since infusion"
    first = save(fig, tmp_path / "a" / "km")
    second = save(build(), tmp_path / "b" / "km")  # run to run: a fresh figure
    assert [p.suffix for p in first] == [".png", ".svg"]
    for p, q in zip(first, second, strict=True):
        assert p.stat().st_size > 1000
        assert p.read_bytes() == q.read_bytes()
    assert b"<dc:date>" not in first[1].read_bytes()


# ----------------------------------------------------------------------------------------------
# cumulative incidence
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def competing() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 50
    return pd.DataFrame(
        {
            "days": rng.integers(1, 700, n),
            "status": rng.choice([0, 1, 2], n, p=[0.4, 0.4, 0.2]),
            "arm": np.where(np.arange(n) < 25, "A", "B"),
        }
    ).assign(any_event=lambda d: (d["status"] > 0).astype(int))


def test_plot_cumulative_incidence(competing: pd.DataFrame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cif = cumulative_incidence(competing, time="days", event="status", by="arm")
    at_risk = kaplan_meier(competing, time="days", event="any_event", by="arm")
    with pytest.raises(ValueError, match="at_risk"):
        plot_cumulative_incidence(cif, cause=1)
    other = kaplan_meier(competing.iloc[:40], time="days", event="any_event", by="arm")
    with pytest.raises(ValueError, match="same rows"):
        plot_cumulative_incidence(cif, cause=1, at_risk=other)
    fig = plot_cumulative_incidence(cif, cause=1, at_risk=at_risk, competing=True, landmarks=[365])
    _header, main, table = fig.axes[:3]
    counts = [int(t.get_text()) for t in table.texts]
    expected = risk_table_frame(at_risk, main.get_xticks() * DAYS_PER_MONTH)["n_risk"]
    assert counts == expected.tolist()
    assert any(t.startswith("Gray's test p ") for t in _texts(fig))
    assert save(fig, tmp_path / "cif")[0].stat().st_size > 1000


# ----------------------------------------------------------------------------------------------
# forest
# ----------------------------------------------------------------------------------------------


def test_forest_frame_rows_match_the_model(surv: pd.DataFrame) -> None:
    data = surv.copy()
    data.loc[0, "age"] = np.nan  # a missing value: the model drops the row, N must too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cox_ph(data, time="days", event="died", covariates=["age", "sex", "arm"])
    frame = forest_frame(fit, data, covariates=["age", "sex", "arm"], event="died", time="days")
    assert frame["term"].tolist() == ["age", "sex[M]", "sex[F]", "arm[A]", "arm[B]"]
    assert frame["reference"].tolist() == [False, True, False, True, False]
    complete = data.dropna(subset=["age"])
    assert frame.loc[0, "n"] == len(complete) == fit.n
    assert frame.loc[frame["variable"] == "sex", "n"].sum() == fit.n
    assert frame.loc[frame["variable"] == "arm", "n_events"].sum() == fit.n_events
    hr = fit.table.set_index("term")["hr"]
    assert frame.loc[2, "estimate"] == hr["sex[F]"]
    assert math.isnan(frame.loc[1, "estimate"])
    with pytest.raises(ValueError, match="complete"):
        forest_frame(fit, data.iloc[:50], covariates=["age", "sex", "arm"], event="died")


def test_plot_forest_text_columns(surv: pd.DataFrame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cox_ph(surv, time="days", event="died", covariates=["age", "sex"])
    frame = forest_frame(fit, surv, covariates=["age", "sex"], event="died", time="days")
    fig = plot_forest(frame, labels={"age": "Age (per year)"})
    texts = _texts(fig)
    assert "reference" in texts
    assert "Age (per year)" in texts
    assert not any("*" in t for t in texts)
    row = fit.table.set_index("term").loc["sex[F]"]
    assert format_estimate_ci(row["hr"], row["lower"], row["upper"]) in texts
    assert format_p(row["p_value"], prefix="") in texts
    plot_ax = fig.axes[3]
    assert plot_ax.get_xscale() == "log"
    assert plot_ax.get_xlabel() == "Hazard ratio (log scale)"
    assert plot_ax.get_xlim()[0] < 1 < plot_ax.get_xlim()[1]
    # reference level: no point drawn (one square per non-reference row)
    squares = [ln for ln in plot_ax.lines if ln.get_marker() == "s"]
    assert len(squares) == int((~frame["reference"]).sum())
    assert save(fig, tmp_path / "forest")[0].stat().st_size > 1000


def test_plot_forest_logistic_table_drops_intercept(surv: pd.DataFrame) -> None:
    fit = logistic_regression(surv, outcome="died", covariates=["age", "arm"])
    fig = plot_forest(fit.table, effect="or", show_counts=False)
    texts = _texts(fig)
    assert "(Intercept)" not in texts
    assert "arm[B]" in texts
    assert "OR (95 % CI)" in texts


# ----------------------------------------------------------------------------------------------
# groups
# ----------------------------------------------------------------------------------------------


def test_group_summary_matches_numpy() -> None:
    d = pd.DataFrame({"v": [1.0, 2.0, 3.0, 10.0, 100.0, 0.0, np.nan], "g": list("aaabbbb")})
    s = group_summary(d, value="v", by="g").set_index("group")
    assert s.loc["a", "mean"] == 2.0
    assert s.loc["a", "sd"] == pytest.approx(1.0, rel=1e-12)
    assert s.loc["b", "n"] == 3
    assert s.loc["b", "n_missing"] == 1
    assert s.loc["b", "median"] == 10.0
    lg = group_summary(d, value="v", by="g", log=True).set_index("group")
    assert lg.loc["b", "mean"] == pytest.approx(math.sqrt(1000.0), rel=1e-12)
    assert lg.loc["b", "n_missing"] == 2  # the 0 and the NaN


def test_plot_group_values(surv: pd.DataFrame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mw = mann_whitney_test(surv, value="age", by="arm")
    fig = plot_group_values(surv, value="age", by="arm", test=mw)
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == f"Wilcoxon rank-sum test {format_p(mw.p_value)}"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A\n(n = 30)", "B\n(n = 30)"]
    assert ax.get_xlabel() == "Bar: mean ± SD"
    box = plot_group_values(surv, value="age", by="arm", kind="box", log=True)
    assert box.axes[0].get_yscale() == "log"
    assert save(fig, tmp_path / "dots")[0].stat().st_size > 1000


def test_category_counts_and_stacked_bars(tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = pd.DataFrame(
        {
            "burden": pd.Categorical(list("LLLLHHHHH"), categories=["L", "H"], ordered=True),
            "grade": pd.array([0, 1, 1, None, 2, 3, 3, 1, 0], dtype="Int64"),
        }
    )
    c = category_counts(d, by="burden", category="grade")
    low = c.loc[c["group"] == "L"]
    assert low["n"].tolist() == [1, 2, 0, 0]
    assert low["group_n"].iloc[0] == 3
    assert low["n_missing"].iloc[0] == 1
    assert c.groupby("group", observed=True)["percent"].sum().tolist() == pytest.approx([100, 100])
    fig = plot_stacked_bars(d, by="burden", category="grade")
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * 4  # groups x categories
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["L\n(n = 3)\n1 missing", "H\n(n = 5)"]
    assert save(fig, tmp_path / "bars")[0].stat().st_size > 1000


# ----------------------------------------------------------------------------------------------
# dynamics
# ----------------------------------------------------------------------------------------------


def test_dynamics_summary_and_zeros_on_log_axis(tmp_path) -> None:  # type: ignore[no-untyped-def]
    long = pd.DataFrame(
        {
            "day": [0, 0, 0, 7, 7, 7, 14, 14, 14, 28],
            "value": [0.0, 0.0, 0.0, 100.0, 200.0, 300.0, 0.0, 10.0, 20.0, 5.0],
        }
    )
    s = dynamics_summary(long, value="value", day="day")
    assert s["day"].tolist() == [0, 7, 14]  # day 28 has one value < min_n
    seven = s.loc[s["day"] == 7].iloc[0]
    assert seven["centre"] == 200.0
    assert seven["upper"] - seven["centre"] == pytest.approx(100.0 / math.sqrt(3), rel=1e-12)
    assert s.loc[s["day"] == 0, "n_zero"].item() == 3
    med = dynamics_summary(long, value="value", day="day", stat="median_iqr")
    assert med.loc[med["day"] == 14, "centre"].item() == 10.0
    fig = plot_dynamics(long, value="value", day="day", floor=5.0)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    floor_marks = [ln for ln in ax.lines if ln.get_marker() == "v"]
    assert floor_marks
    assert all(np.all(np.asarray(ln.get_ydata()) == 5.0) for ln in floor_marks)
    assert save(fig, tmp_path / "dyn")[0].stat().st_size > 1000


# ----------------------------------------------------------------------------------------------
# swimmer and flow
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def sheet() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3"],
            "last_followup_day": [400, 100, 700],
            "death": [False, True, False],
            "death_day": [None, 90, None],
            "best_response": ["CR", "NR", "CRi"],
            "response_day": [28, None, 28],
            "mrd_negative": [True, False, False],
            "relapse": [True, False, False],
            "relapse_day": [200, None, None],
            "cd19_negative_relapse": [True, None, None],
            "hsct_after": [False, False, True],
            "hsct_day": [None, None, 100],
        }
    )


def test_swimmer_lanes_are_patients(sheet: pd.DataFrame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    inf = pd.DataFrame(
        {"patient_id": ["P1", "P1", "P2"], "infusion": [1, 2, 1], "day": [0, 250, 0]}
    )
    frame = swimmer_frame(sheet, inf)
    assert frame["patient_id"].tolist() == ["P3", "P1", "P2"]  # longest follow-up first
    assert frame["end_day"].tolist() == [700, 400, 90]
    assert frame["alive"].tolist() == [True, True, False]
    assert frame.loc[1, "reinfusion_days"] == (250.0,)
    assert frame.loc[1, "mrd_negative_day"] == 28
    assert bool(frame.loc[1, "relapse_cd19_negative"])
    fig = plot_swimmer(sheet, infusions=inf)
    ax = fig.axes[0]
    assert len(ax.patches) == len(sheet)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["P3", "P1", "P2"]
    with pytest.raises(ValueError, match="max_patients"):
        plot_swimmer(sheet, max_patients=2)
    assert save(fig, tmp_path / "swim")[0].stat().st_size > 1000


def test_flow_checks_arithmetic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    steps = [("Screened", 20, [("Ineligible", 3), ("Withdrew", 2)]), ("Infused", 15, [])]
    check_flow(steps)
    with pytest.raises(ValueError, match="does not add up"):
        check_flow([("Screened", 20, [("Ineligible", 3)]), ("Infused", 15, [])])
    fig = plot_flow(steps)
    texts = _texts(fig)
    assert "Screened (n\u00a0=\u00a020)" in texts
    assert "Excluded (n = 5)" in texts
    assert any(t.startswith("• Ineligible") for t in texts)
    add_footnote(fig, "test")
    assert save(fig, tmp_path / "flow")[0].stat().st_size > 1000


def test_legend_labels_never_split_group_size_or_estimates() -> None:
    from cartcohort.render.figures.km import _wrap_label

    label = "High burden (>=5% blasts or EMD) (n = 60): 1-y CIR 20 % ± 5 %; 2-y CIR 31 % ± 6 %"
    wrapped = _wrap_label(label, "single")
    assert wrapped.replace("\n", " ") == label
    for kept in ("(n = 60)", "20 % ± 5 %", "2-y CIR"):
        assert kept in wrapped.splitlines()[0] or any(kept in ln for ln in wrapped.splitlines())
