"""Plan YAML validation: every problem at once, with its line and key."""

from __future__ import annotations

import pytest

from cartcohort.errors import PlanError
from cartcohort.plan.schema import builtin_plans, load_plan, parse_plan

GOOD = """\
name: p
title: A plan
groups:
  burden: {column: burden_group, levels: [low, high]}
analyses:
  - id: os
    type: survival
    title: OS
    endpoint: OS
    by: burden
"""


def test_a_valid_plan_parses() -> None:
    plan = parse_plan(GOOD)
    assert plan.analyses[0].type == "survival"
    assert plan.groups["burden"].levels == ["low", "high"]


def test_errors_name_line_and_key_and_are_all_reported() -> None:
    bad = """\
name: p
title: A plan
analyses:
  - id: os
    type: survival
    title: OS
    endpont: OS
  - id: cr
    type: compare_proportions
    title: CR
    outcome: responder
    by: burden
    test: fishr
  - id: x
    type: kaplan
    title: X
"""
    with pytest.raises(PlanError) as err:
        parse_plan(bad, source="plan.yaml")
    text = str(err.value)
    assert "plan.yaml line 7, key analyses[0].endpont: unknown key" in text
    assert "line 4, key analyses[0].endpoint: Field required" in text
    assert "line 13, key analyses[1].test:" in text
    assert "'fishr'" in text
    assert "unknown analysis type 'kaplan'" in text
    assert "4 problem(s)" in text


def test_duplicate_ids_and_bad_ids_are_errors() -> None:
    dup = GOOD + "  - {id: os, type: survival, title: again, endpoint: EFS}\n"
    with pytest.raises(PlanError, match="used twice"):
        parse_plan(dup)
    with pytest.raises(PlanError, match="lower snake_case"):
        parse_plan(GOOD.replace("id: os", "id: OS-1"))


def test_not_yaml_and_not_a_mapping() -> None:
    with pytest.raises(PlanError, match="not valid YAML"):
        parse_plan("name: [unclosed")
    with pytest.raises(PlanError, match="a plan is a YAML mapping"):
        parse_plan("- just a list")


def test_unknown_builtin_lists_the_choices(tmp_path) -> None:
    with pytest.raises(PlanError, match="Unknown plan 'nope'"):
        load_plan("nope")
    with pytest.raises(PlanError, match="does not exist"):
        load_plan(tmp_path / "missing.yaml")
    assert isinstance(builtin_plans(), tuple)
