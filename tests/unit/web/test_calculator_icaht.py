"""The bedside ICAHT calculator: empty form, every single field, grades, refusals.

Grades come from ``grade_from_counts`` (tested with the library); these tests check that an
unanswered field is "not assessed" (never the worst value) and that the page says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cartcohort.web import create_app
from cartcohort.web.calculators import CalculatorInputError
from cartcohort.web.calculators_icaht import FIELDS, icaht_grade

BASE = "http://127.0.0.1"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "work"), base_url=BASE) as c:
        page = c.get("/").text
        match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
        assert match is not None
        c.headers["X-CSRF-Token"] = match.group(1)
        yield c


def _grades(form: dict[str, str]) -> list[int | None]:
    return [s.grade for s in icaht_grade(form).sections]


def test_empty_form_is_not_gradable_and_lists_every_field() -> None:
    result = icaht_grade({})
    assert not result.gradable
    assert _grades({}) == [None, None, None, None]
    assert set(result.missing) == {label for _, label, _ in FIELDS} - {
        "After day 30: days with platelets < 20 × 10⁹/L"
    }


#: The section each field can grade on its own (early sections need both their fields).
ALONE = {"anc_late_lowest": 2, "plt_late_lowest": 3}


@pytest.mark.parametrize(("name", "label", "kind"), FIELDS, ids=[f[0] for f in FIELDS])
def test_each_single_field_grades_only_what_it_decides(name: str, label: str, kind: str) -> None:
    value = "0" if kind == "days" else "50"
    result = icaht_grade({name: value})
    for i, section in enumerate(result.sections):
        if i == ALONE.get(name):
            assert section.grade is not None
        else:
            assert section.grade is None, section.title
            assert section.missing  # says what it still needs
    assert result.gradable == (name in ALONE)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"anc_days_le500": "6", "anc_days_le100": "0"}, [1, None, None, None]),
        ({"anc_days_le500": "14", "anc_days_le100": "7"}, [3, None, None, None]),
        ({"anc_days_le500": "20", "anc_days_le100": "14"}, [4, None, None, None]),
        ({"plt_days_lt50": "7", "plt_days_lt20": "0"}, [None, 2, None, None]),
        ({"plt_days_lt50": "14", "plt_days_lt20": "14"}, [None, 4, None, None]),
        ({"anc_late_lowest": "1500"}, [None, None, 1, None]),
        ({"anc_late_lowest": "90"}, [None, None, 4, None]),
        ({"anc_late_lowest": "2000"}, [None, None, 0, None]),
        ({"plt_late_lowest": "45"}, [None, None, None, 2]),
        ({"plt_late_lowest": "10", "plt_late_days_lt20": "14"}, [None, None, None, 4]),
    ],
)
def test_grades(form: dict[str, str], expected: list[int | None]) -> None:
    assert _grades(form) == expected


def test_late_platelets_below_20_need_the_days() -> None:
    section = icaht_grade({"plt_late_lowest": "10"}).sections[3]
    assert section.grade is None
    assert section.missing == ("After day 30: days with platelets < 20 × 10⁹/L",)


@pytest.mark.parametrize(
    "form",
    [
        {"anc_days_le500": "5", "anc_days_le100": "6"},
        {"anc_days_le500": "32"},
        {"anc_days_le500": "2.5"},
        {"anc_late_lowest": "-1"},
        {"plt_late_lowest": "many"},
    ],
)
def test_bad_values_are_refused_with_the_field(form: dict[str, str]) -> None:
    with pytest.raises(CalculatorInputError) as info:
        icaht_grade(form)
    assert set(info.value.errors) <= set(form)


def test_page_renders_and_lists_it(client: TestClient) -> None:
    r = client.get("/calculators/icaht")
    assert r.status_code == 200
    assert "<h1>ICAHT grade (EHA/EBMT)" in r.text
    assert "/calculators/icaht" in client.get("/calculators").text


def test_empty_form_page_says_not_gradable_and_what_is_missing(client: TestClient) -> None:
    r = client.post("/calculators/icaht", data={})
    assert r.status_code == 200
    assert 'data-testid="grade">Not gradable<' in r.text
    assert "Missing: Days 0-30 with ANC ≤ 500/µL (cumulative)" in r.text
    assert "UNVERIFIED" in r.text


def test_posted_grade_and_refusal(client: TestClient) -> None:
    r = client.post("/calculators/icaht", data={"anc_days_le500": "14", "anc_days_le100": "7"})
    assert 'data-testid="grade-1">Grade 3<' in r.text
    assert "UNVERIFIED table" in r.text
    bad = client.post("/calculators/icaht", data={"anc_days_le500": "x"})
    assert bad.status_code == 400
    assert "is not a number" in bad.text
