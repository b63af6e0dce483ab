"""ICAHT rows of the adverse-event table: worst grade per phase from the derived columns."""

from __future__ import annotations

import pandas as pd
import pytest

import cartcohort as cc
from cartcohort.derive.dataset import derive
from cartcohort.plan.run import run_plan
from cartcohort.plan.schema import parse_plan

PLAN = """\
name: t
title: t
analyses:
  - {{id: ae, type: ae_table, title: a{extra}}}
"""
EARLY_T = "Early ICAHT, thrombocytopenia (days 0-30; T-ICAHT)"
EARLY_N = "Early ICAHT, neutropenia (days 0-30; UNVERIFIED N-ICAHT table)"


@pytest.fixture(scope="module")
def demo() -> cc.Cohort:
    return cc.load_cohort(cc.demo_path("synthetic"))


def _table(demo: cc.Cohort, extra: str = "") -> pd.DataFrame:
    result = run_plan(parse_plan(PLAN.format(extra=extra)), demo)
    return result.outputs[0].tables[0].frame.set_index("term")


def test_icaht_rows_count_the_derived_grades(demo: cc.Cohort) -> None:
    table = _table(demo)
    patients = derive(demo).patients
    for term, column in ((EARLY_T, "t_icaht_early_grade"), (EARLY_N, "icaht_early_grade")):
        row = table.loc[term]
        assert row["category"] == "Haematotoxicity (ICAHT, EHA/EBMT)"
        for g in (1, 2, 3, 4):
            assert row[f"n_grade_{g}"] == int((patients[column] == g).sum()), (term, g)
        assert row["percent_any"] == pytest.approx((patients[column] >= 1).sum() / len(patients))


def test_icaht_rows_can_be_switched_off(demo: cc.Cohort) -> None:
    table = _table(demo, ", icaht: false")
    assert not any("ICAHT" in str(t) for t in table.index)


def test_the_ae_table_draws_the_icaht_counts_figure(demo: cc.Cohort) -> None:
    output = run_plan(parse_plan(PLAN.format(extra="")), demo).outputs[0]
    (figure,) = output.figures
    assert figure.name == "ae_icaht_counts"
    assert "UNVERIFIED" in figure.caption
    fig = figure.draw()
    try:
        titles = " ".join(ax.get_title(loc="left") for ax in fig.axes)
        assert "ICAHT" in titles
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_no_icaht_figure_when_icaht_is_off(demo: cc.Cohort) -> None:
    output = run_plan(parse_plan(PLAN.format(extra=", icaht: false")), demo).outputs[0]
    assert output.figures == ()
