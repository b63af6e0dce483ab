"""Choosing the scales for a report: ``cartcohort report --crs-system / --icans-system``."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartcohort import derive, load_cohort
from cartcohort.demo import demo_path

from .conftest import RunCli


def test_report_refuses_an_unknown_crs_system(tmp_path: Path, run_cli: RunCli) -> None:
    r = run_cli("report", "--crs-system", "ctcae_v7", "--out", "r", cwd=tmp_path)
    assert r.returncode == 1
    assert "--crs-system must be one of astct" in r.stderr
    assert "ctcae_v5.0, ctcae_v6.0" in r.stderr
    assert not (tmp_path / "r").exists()


def test_report_lists_the_scales_in_its_help(tmp_path: Path, run_cli: RunCli) -> None:
    r = run_cli("report", "--help", cwd=tmp_path)
    assert r.returncode == 0
    assert "--crs-system" in r.stdout
    assert "ctcae_v6.0" in r.stdout


@pytest.mark.parametrize(
    ("system", "version"), [("ctcae_v5.0", "CTCAE-5.0"), ("ctcae_v6.0", "CTCAE-6.0")]
)
def test_the_chosen_scale_grades_the_dataset(system: str, version: str) -> None:
    # What --crs-system passes on: derive(cohort, crs_system=...) grades with that scale.
    ds = derive(load_cohort(demo_path("synthetic")), crs_system=system)  # type: ignore[arg-type]
    rows = ds.provenance[ds.provenance["column"] == "crs_grade"]
    assert rows["method"].str.contains(version).any()


def test_report_refuses_an_unknown_icans_system(tmp_path: Path, run_cli: RunCli) -> None:
    r = run_cli("report", "--icans-system", "ctcae_v5.0", "--out", "r", cwd=tmp_path)
    assert r.returncode == 1
    assert "--icans-system must be one of astct, ctcae_v6.0" in r.stderr
    assert not (tmp_path / "r").exists()


def test_the_chosen_icans_scale_grades_the_dataset() -> None:
    ds = derive(load_cohort(demo_path("synthetic")), icans_system="ctcae_v6.0")
    rows = ds.provenance[ds.provenance["column"] == "icans_grade"]
    assert rows["method"].str.contains("CTCAE-6.0").any()
    assert ds.options["icans_system"] == "ctcae_v6.0"
    assert ds.icans_daily is not None
    assert (ds.icans_daily["system"] == "CTCAE-6.0").all()


def test_developmental_delay_column_reaches_the_icans_grades() -> None:
    cohort = load_cohort(demo_path("synthetic"))
    base = derive(cohort)
    assert base.icans_daily is not None
    patients = cohort.table("patients")
    adult = patients.loc[patients["age_years"] >= 12, "patient_id"].iloc[0]
    # An empty column is "not recorded": the grades are those without it.
    assert patients["developmental_delay"].isna().all()
    flagged = patients.assign(
        developmental_delay=(patients["patient_id"] == adult).astype("boolean")
    )
    cohort.tables["patients"] = flagged
    ds = derive(cohort)
    assert ds.icans_daily is not None
    rows = ds.icans_daily[ds.icans_daily["patient_id"] == adult]
    assert (rows["assessment"] == "capd").all()
    others = ds.icans_daily[ds.icans_daily["patient_id"] != adult]
    same = base.icans_daily[base.icans_daily["patient_id"] != adult]
    assert others["assessment"].astype(str).tolist() == same["assessment"].astype(str).tolist()


def test_report_refuses_a_threshold_rule_without_its_percent(
    tmp_path: Path, run_cli: RunCli
) -> None:
    r = run_cli("report", "--relapse-rule", "threshold", "--out", "r", cwd=tmp_path)
    assert r.returncode == 1
    assert "needs `relapse_blasts_pct`" in r.stderr
    assert not (tmp_path / "r").exists()


def test_report_refuses_an_unknown_relapse_rule(tmp_path: Path, run_cli: RunCli) -> None:
    r = run_cli("report", "--relapse-rule", "five_percent", "--out", "r", cwd=tmp_path)
    assert r.returncode == 1
    assert "must be one of bbmt2010, ponte_di_legno_2022, threshold" in r.stderr


def test_the_chosen_relapse_rule_reaches_the_dataset() -> None:
    cohort = load_cohort(demo_path("synthetic"))
    default = derive(cohort)
    assert default.options["relapse_rule"] == "bbmt2010"
    low = derive(cohort, relapse_rule="threshold", relapse_blasts_pct=5.0)
    assert low.options["relapse_rule"] == "threshold"
    assert low.options["relapse_blasts_pct"] == "5.0"
    # a lower threshold never finds fewer marrow relapses
    n_default = default.patients["relapse_day_marrow"].notna().sum()
    assert low.patients["relapse_day_marrow"].notna().sum() >= n_default
