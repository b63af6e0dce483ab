"""A plan's ``definitions``: validated, used by every analysis, one derivation per set."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import cartcohort as cc
from cartcohort.derive.dataset import derive
from cartcohort.errors import PlanError
from cartcohort.model.cohort import Cohort, apply_dtypes
from cartcohort.model.standard import TABLE_BY_NAME
from cartcohort.plan import run as run_module
from cartcohort.plan.run import plan_datasets, run_plan
from cartcohort.plan.schema import Definitions, load_plan, parse_plan

HEAD = """\
name: t
title: Definitions test
"""
BODY = """\
groups:
  burden: {column: burden_group, levels: [low, high]}
analyses:
  - {id: scrs, type: compare_proportions, title: Severe CRS by burden, outcome: severe_crs,
     by: burden}
"""


def _plan(definitions: str = "", body: str = BODY) -> str:
    return HEAD + (f"definitions:\n{definitions}" if definitions else "") + body


def _cohort(**columns: list[object]) -> Cohort:
    frame = apply_dtypes(TABLE_BY_NAME["patients"], pd.DataFrame(columns))
    return Cohort(tables={"patients": frame}, name="constructed")


# ---- schema --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definitions", "expected"),
    [
        (
            "  crs_scale: asct\n",
            "key definitions.crs_scale: unknown CRS scale 'asct'; allowed: astct",
        ),
        ("  icans_scale: ctcae_v4.03\n", "unknown ICANS scale 'ctcae_v4.03'; allowed: astct"),
        ("  burden: {blasts_cut_pct: 0}\n", "key definitions.burden.blasts_cut_pct"),
        ("  burden: {blasts_cut_pct: 150}\n", "less than or equal to 100"),
        ("  burden: {missing_emd: maybe}\n", "'high', 'low' or 'exclude'"),
        ("  severe_crs_min_grade: 0\n", "key definitions.severe_crs_min_grade"),
        ("  efs_events: [relapse]\n", "not an event set cartcohort derives"),
        ("  relapse_rule: threshold\n", "relapse_blasts_pct goes with relapse_rule: threshold"),
        ("  followup: km\n", "'reverse_km' or 'observed_median_range'"),
        ("  crs_grading: astct\n", "key definitions.crs_grading: unknown key"),
    ],
)
def test_definitions_are_validated_with_the_line_and_key(definitions: str, expected: str) -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(_plan(definitions), source="p.yaml")
    assert "p.yaml line 4" in str(info.value) or "p.yaml line 3" in str(info.value)
    assert expected in str(info.value)


def test_every_definition_has_a_default_and_sets_nothing_unless_given() -> None:
    assert parse_plan(_plan()).definitions == Definitions()
    assert Definitions().derive_options() == {}
    d = parse_plan(_plan("  crs_scale: lee2014\n  burden: {emd_makes_high: false}\n")).definitions
    assert d.derive_options() == {
        "crs_system": "lee2014",
        "crs_any_reported_scale": False,
        "burden_emd_makes_high": False,
    }


def test_analysis_level_population_and_published_are_validated() -> None:
    body = BODY.replace(
        "by: burden}",
        "by: burden,\n     published: {value: 'p = 0.01', source: Fig. 1},"
        " population: [{column: x}]}",
    )
    plan = parse_plan(_plan(body=body))
    assert plan.analyses[0].published is not None
    assert plan.analyses[0].published.text() == "p = 0.01 (Fig. 1)"
    with pytest.raises(PlanError, match=r"published\.value"):
        parse_plan(_plan(body=BODY.replace("by: burden}", "by: burden, published: {}}")))


# ---- definitions change the numbers -----------------------------------------------------------


def _severe_counts(definitions: str) -> dict[str, tuple[float, float]]:
    # low burden: CRS grades 1, 2, 2, 3; high burden: 2, 3, 3, 4
    cohort = _cohort(
        patient_id=[f"p{i}" for i in range(8)],
        bm_blasts_pct=[1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0],
        mrd_pct=[1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0],
        extramedullary_disease=[False] * 8,
        crs_grade=[1, 2, 2, 3, 2, 3, 3, 4],
        crs_grading_system=["astct"] * 8,
    )
    result = run_plan(parse_plan(_plan(definitions)), cohort)
    ard = result.ard()
    rows = ard[(ard["stat_name"] == "n") & (ard["level"] == "yes")]
    return {g: float(v) for g, v in zip(rows["group"], rows["stat_value"], strict=True)}


def test_the_severe_crs_threshold_changes_the_counts() -> None:
    assert _severe_counts("  severe_crs_min_grade: 3\n") == {"low": 1, "high": 3}
    assert _severe_counts("  severe_crs_min_grade: 2\n") == {"low": 3, "high": 4}


def test_the_burden_rule_changes_the_groups() -> None:
    cohort = _cohort(
        patient_id=["a", "b", "c", "d"],
        bm_blasts_pct=[1.0, 2.0, 30.0, 3.0],
        mrd_pct=[1.0, 2.0, 30.0, 3.0],
        extramedullary_disease=[None, True, False, False],
        crs_grade=[3, 3, 3, 1],
    )
    counts = {}
    for name, text in {
        "default": "",
        "blasts": "  burden: {emd_makes_high: false}\n",
        "missing_low": "  burden: {missing_emd: low}\n",
        "missing_high": "  burden: {missing_emd: high}\n",
        "cut_2": "  burden: {blasts_cut_pct: 2, emd_makes_high: false}\n",
    }.items():
        ctx_patients = run_module.build_context(
            parse_plan(_plan(text)), cohort, plan_datasets([parse_plan(_plan(text))], cohort)[0]
        ).patients
        counts[name] = ctx_patients["burden"].astype("string").fillna("-").tolist()
    assert counts["default"] == ["-", "high", "high", "low"]
    assert counts["blasts"] == ["low", "low", "high", "low"]
    assert counts["missing_low"] == ["low", "high", "high", "low"]
    assert counts["missing_high"] == ["high", "high", "high", "low"]
    assert counts["cut_2"] == ["low", "high", "high", "high"]


# ---- CRS scale: reported grades only on the plan's scale ------------------------------------


def test_reported_grades_on_another_scale_are_refused_with_the_reason() -> None:
    cohort = _cohort(
        patient_id=["a", "b", "c", "d"],
        bm_blasts_pct=[1.0, 2.0, 30.0, 40.0],
        mrd_pct=[1.0, 2.0, 30.0, 40.0],
        extramedullary_disease=[False] * 4,
        crs_grade=[1, 3, 3, 4],
        crs_grading_system=["lee2014"] * 4,
    )
    same = run_plan(parse_plan(_plan("  crs_scale: lee2014\n")), cohort)
    assert same.outputs[0].status == "done"
    other = run_plan(parse_plan(_plan("  crs_scale: ctcae_v4.03\n")), cohort)
    out = other.outputs[0]
    assert out.status == "skipped"
    assert "4 patient(s) have a reported crs_grade on lee2014, not on ctcae_v4.03" in out.reason
    assert "set definitions.crs_scale: lee2014" in out.reason
    assert ("CRS grading", "ctcae_v4.03") in other.definitions
    # a paper that names no scale: the grades as reported, on the scale they declare
    reported = run_plan(parse_plan(_plan("  crs_scale: as_reported\n")), cohort)
    assert reported.outputs[0].status == "done"


def test_undeclared_grades_are_taken_on_the_plans_scale_with_a_warning() -> None:
    cohort = _cohort(patient_id=["a"], crs_grade=[2])
    data = derive(cohort, crs_system="lee2014", crs_any_reported_scale=False)
    assert int(data.patients["crs_grade"].iloc[0]) == 2
    assert any("taken to be graded by lee2014" in w for w in data.warnings)


def test_derive_keeps_reported_grades_on_their_declared_scale_by_default() -> None:
    """A library call without a plan keeps a centre's grades as recorded (their scale is
    declared); only a plan that names a scale asks for the strict reading."""
    cohort = _cohort(patient_id=["a", "b"], crs_grade=[2, 4], crs_grading_system=["lee2014"] * 2)
    kept = derive(cohort)
    assert kept.patients["crs_grade"].astype(int).tolist() == [2, 4]
    assert "crs_grade" not in kept.unavailable
    strict = derive(cohort, crs_any_reported_scale=False)
    assert strict.patients["crs_grade"].isna().all()
    assert "not on astct" in strict.unavailable["crs_grade"]


# ---- one derivation per distinct set of definitions ------------------------------------------


def test_plans_with_the_same_definitions_share_one_derivation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cohort = _cohort(patient_id=["a", "b"], crs_grade=[1, 3])
    calls: list[dict[str, object]] = []

    def counting(c: Cohort, **kw: object) -> object:
        calls.append(kw)
        return derive(c, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "derive", counting)
    plans = [
        parse_plan(_plan("  crs_scale: lee2014\n")),
        parse_plan(_plan("  crs_scale: lee2014\n  severe_crs_min_grade: 3\n")),
        parse_plan(_plan("  crs_scale: penn\n")),
        parse_plan(_plan("  crs_scale: lee2014\n")),
    ]
    datasets = plan_datasets(plans, cohort)
    assert [c.get("crs_system") for c in calls] == ["lee2014", "penn"]
    assert datasets[0] is datasets[3]
    assert datasets[0] is not datasets[2]
    # a given dataset is reused for the plans whose definitions it already meets
    base = derive(cohort)
    calls.clear()
    again = plan_datasets([parse_plan(_plan()), plans[2]], cohort, base)
    assert again[0] is base
    assert [c.get("crs_system") for c in calls] == ["penn"]
    assert calls[0]["relapse_rule"] == "bbmt2010"  # the base's other settings are kept


def test_the_builtin_plans_state_their_papers_definitions() -> None:
    d = {n: load_plan(n).definitions for n in ("tumor-burden", "mrd", "toxicity-impact")}
    assert d["tumor-burden"].crs_scale == "ctcae_v4.03"
    assert d["tumor-burden"].burden.emd_makes_high is False
    assert d["mrd"].crs_scale == "lee2014"
    assert d["mrd"].burden.emd_makes_high is True
    assert d["mrd"].efs_endpoint == "PFS"  # "progression or death"
    assert d["mrd"].followup == "observed_median_range"
    assert d["toxicity-impact"].crs_scale == "astct"
    cox_os = next(a for a in load_plan("toxicity-impact").analyses if a.id == "cox_os")
    assert [f.column for f in cox_os.population] == ["responder"]


def test_no_builtin_title_carries_a_result_or_a_product() -> None:
    for name in ("tumor-burden", "mrd", "crs-survival-factors", "toxicity-impact"):
        plan = load_plan(name)
        assert "CD19" not in plan.title
        for a in plan.analyses:
            assert not any(t in a.title for t in ("r = ", "p = ", "P = ", "HR ")), a.title


# ---- EFS events, analysis population, follow-up ---------------------------------------------


def _outcome_cohort() -> Cohort:
    return _cohort(
        patient_id=["a", "b", "c", "d"],
        bm_blasts_pct=[1.0, 2.0, 30.0, 40.0],
        mrd_pct=[1.0, 2.0, 30.0, 40.0],
        extramedullary_disease=[False] * 4,
        best_response=["CR", "CR", "NR", "CR"],
        response_day=[28, 28, 28, 28],
        relapse=[False, True, False, False],
        relapse_day=[None, 200, None, None],
        death=[False, False, False, True],
        death_day=[None, None, None, 300],
        last_followup_day=[400, 500, 600, 300],
    )


SURV = """\
analyses:
  - {id: efs, type: survival, title: EFS, endpoint: EFS}
"""


def test_efs_without_nonresponse_is_progression_or_death() -> None:
    cohort = _outcome_cohort()
    with_nr = run_plan(parse_plan(_plan(body=SURV)), cohort)
    without = run_plan(
        parse_plan(_plan("  efs_events: [progression, relapse, death]\n", body=SURV)), cohort
    )
    events = {
        name: r.ard()
        .query("stat_name == 'n_events' and variable == ''")["stat_value"]
        .astype(float)
        .sum()
        for name, r in (("with", with_nr), ("without", without))
    }
    # with non-response: c's non-response at day 0, b's relapse, d's death; without it, the
    # non-responder c has no recorded progression day and is left out
    assert events == {"with": 3.0, "without": 2.0}
    assert with_nr.outputs[0].n == 4
    assert without.outputs[0].n == 3


def test_an_analysis_population_keeps_only_its_patients_and_says_so() -> None:
    body = SURV.replace(
        "endpoint: EFS}",
        "endpoint: EFS, population: [{column: responder, equals: true, label: CR}]}",
    )
    out = run_plan(parse_plan(_plan(body=body)), _outcome_cohort()).outputs[0]
    assert out.n == 3
    assert out.summary.startswith("Patients of this analysis: CR (3 of 4).")


def test_observed_follow_up_is_the_median_and_range_of_the_os_times() -> None:
    reference = json.loads(
        (Path(__file__).parents[2] / "reference/cases/follow_up_observed.json").read_text()
    )
    times, dead = reference["times"], reference["death"]
    cohort = _cohort(
        patient_id=[f"p{i}" for i in range(len(times))],
        death=dead,
        death_day=[t if d else None for t, d in zip(times, reference["death"], strict=True)],
        last_followup_day=[
            None if d else t for t, d in zip(times, reference["death"], strict=True)
        ],
    )
    plan = parse_plan(_plan("  followup: observed_median_range\n", body=SURV.replace("EFS", "OS")))
    out = run_plan(plan, cohort).outputs[0]
    ard = out.ard[out.ard["variable"] == "median_follow_up"].set_index("stat_name")["stat_value"]
    assert float(ard["estimate"]) == pytest.approx(reference["median"], rel=1e-10)
    assert float(ard["min"]) == reference["range"][0]
    assert float(ard["max"]) == reference["range"][1]
    assert "(range 172–945;" in out.summary
    assert any(m.options.get("followup") == "observed_median_range" for m in out.methods)


# ---- honest skip messages --------------------------------------------------------------------


def test_a_sheet_without_emd_says_which_patients_could_not_be_grouped_and_why() -> None:
    cohort = _cohort(
        patient_id=["a", "b", "c", "d"],
        bm_blasts_pct=[1.0, 2.0, 30.0, None],
        mrd_pct=[1.0, 2.0, 30.0, None],
        crs_grade=[1, 1, 3, 3],
    )
    out = run_plan(parse_plan(_plan()), cohort).outputs[0]
    assert out.status == "skipped"
    assert (
        "2 patients with < 5 % blasts could not be grouped by the tumour-burden rule: "
        "extramedullary_disease is missing; add it, or set definitions.burden.missing_emd"
    ) in out.reason
    assert "1 patient could not be grouped by the tumour-burden rule: bm_blasts_pct is missing" in (
        out.reason
    )
    grouped = run_plan(parse_plan(_plan("  burden: {emd_makes_high: false}\n")), cohort)
    assert grouped.outputs[0].status == "done"


def test_a_group_column_with_no_value_names_the_derivation() -> None:
    cohort = _cohort(patient_id=["a", "b"], bm_blasts_pct=[0.0, 0.0], crs_grade=[1, 3])
    out = run_plan(parse_plan(_plan()), cohort).outputs[0]
    assert out.reason.startswith(
        "Skipped: needs burden_group (for group 'burden'), which no patient has: "
    )
    assert "2 patients with 0 % blasts could not be grouped" in out.reason
    assert "mrd_pct is missing" in out.reason
    assert "does not have" not in out.reason


def test_a_scale_the_observations_cannot_grade_is_named_in_the_skip() -> None:
    demo = cc.load_cohort(cc.demo_path("synthetic"))
    result = run_plan("mrd", demo)
    out = next(o for o in result.outputs if o.id == "crs_grade_by_disease")
    assert out.status == "skipped"
    assert "could not be graded by lee2014 from the daily observations" in out.reason
    assert "set definitions.crs_scale" in out.reason


def test_a_survival_skip_names_the_patients_without_the_endpoint() -> None:
    cohort = _cohort(
        patient_id=["a", "b", "c"],
        bm_blasts_pct=[1.0, 30.0, 40.0],
        mrd_pct=[1.0, 30.0, 40.0],
        best_response=["CR", "NR", "NR"],
    )
    body = SURV.replace("endpoint: EFS}", "endpoint: EFS, by: burden}")
    body = "groups:\n  burden: {column: burden_group}\n" + body
    out = run_plan(parse_plan(_plan("  burden: {emd_makes_high: false}\n", body=body)), cohort)
    reason = out.outputs[0].reason
    assert "needs at least 2 groups of 'burden'" in reason
    assert "1 patient has no EFS: not derivable: relapse status missing" in reason


def test_grades_derived_again_carry_the_scale_they_were_graded_on() -> None:
    """A reported grade declared on another scale is graded again from the observations;
    its crs_grading_system then names that scale, so tables label it correctly."""
    demo = cc.load_cohort(cc.demo_path("synthetic"))
    data = derive(demo, crs_system="ctcae_v4.03", crs_any_reported_scale=False)
    graded = data.patients.loc[data.patients["crs_grade"].notna(), "crs_grading_system"]
    assert len(graded) > 0
    assert set(graded.astype(str)) == {"ctcae_v4.03"}
    kept = derive(demo)  # the demo's reported grades, on the scale they declare
    assert set(kept.patients["crs_grading_system"].astype(str)) == {"astct"}
