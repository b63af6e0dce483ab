"""Safe defaults of the bedside calculators, through the web routes.

An unanswered field is *not assessed*: never the best or the worst value. So

* the pages pre-select nothing (every select starts at "not answered", every box is empty);
* the form exactly as the browser sends it untouched, and an empty post, are "not gradable"
  (EASIX: "not computable") and list what is missing;
* with one single field answered, a grade is shown only when that field alone decides it
  (a grade-4 finding of ICANS; never for CRS, whose grade needs the fever gate), and the
  other fields are listed as missing.

The issue this guards against: the ICANS page once graded an empty form as Grade 3, because
its ICE assessment defaulted to "done" with no points ticked (ICE 0).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cartcohort.model.standard import (
    CEREBRAL_EDEMA,
    CONSCIOUSNESS,
    MOTOR_WEAKNESS,
    O2_DEVICE,
    SEIZURE,
)
from cartcohort.web import create_app
from cartcohort.web.calculators import (
    CRS_CALCULATOR_SCALES,
    CRS_FIELDS,
    CRS_SCALE_FIELDS,
    HLH_FIELDS,
    ICANS_CALCULATOR_SCALES,
    ICANS_FIELDS,
    ICANS_SCALE_FIELDS,
    ICE_ITEMS,
)

BASE = "http://127.0.0.1"
PAGES = ("/calculators/crs", "/calculators/icans", "/calculators/easix", "/calculators/hlh")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    work: Path = tmp_path_factory.mktemp("calc") / "work"
    with TestClient(create_app(work), base_url=BASE) as c:
        page = c.get("/").text
        match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
        assert match is not None
        c.headers["X-CSRF-Token"] = match.group(1)
        yield c


class _Form(HTMLParser):
    """The fields a browser would submit for the page's calculator form, untouched."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.preselected: list[tuple[str, str]] = []
        self._select: str | None = None
        self._first: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a.get("type") != "submit":
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields[a["name"]] = "on"
            elif a["name"] != "csrf_token":
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
            self._first = None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first is None:
                self._first = value
                self.fields[self._select] = value
            if "selected" in a:
                self.fields[self._select] = value
                if value != "":
                    self.preselected.append((self._select, value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _untouched(client: TestClient, path: str) -> _Form:
    parser = _Form()
    parser.feed(client.get(path).text)
    return parser


def _missing(page: str) -> list[str]:
    block = re.search(r'data-testid="missing">(.*?)</div>', page, re.S)
    assert block is not None, "the page does not list what is missing"
    return [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", block.group(1))]


def _grade(page: str) -> str:
    match = re.search(r'data-testid="grade">([^<]+)<', page)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("path", PAGES)
def test_pages_preselect_no_answer(client: TestClient, path: str) -> None:
    form = _untouched(client, path)
    # Only the choice of scale and the EASIX unit selectors start with a value.
    settings = [(n, v) for n, v in form.preselected if n.endswith("_unit") or n == "scale"]
    assert form.preselected == settings
    assert all(v == "" for n, v in form.fields.items() if (n, v) not in settings)


@pytest.mark.parametrize("path", ["/calculators/crs", "/calculators/icans", "/calculators/hlh"])
@pytest.mark.parametrize("how", ["as-the-browser-sends-it", "empty-post"])
def test_empty_form_is_not_gradable_and_lists_what_is_missing(
    client: TestClient, path: str, how: str
) -> None:
    data = _untouched(client, path).fields if how == "as-the-browser-sends-it" else {}
    r = client.post(path, data=data)
    assert r.status_code == 200
    assert _grade(r.text) == "Not gradable (0–4)"
    assert "Not gradable from what was entered" in r.text
    missing = _missing(r.text)
    fields = {"crs": CRS_FIELDS, "icans": ICANS_FIELDS, "hlh": HLH_FIELDS}[path.rsplit("/")[-1]]
    assert all(label in missing for _, label in fields)
    if path.endswith("icans"):
        assert "ICE assessment (done or not)" in missing
        assert "Age (decides ICE or CAPD)" in missing
        assert "Developmental delay (CAPD at any age)" in missing
        assert "Grade 3" not in r.text  # the old default: ICE "done" with nothing ticked


@pytest.mark.parametrize("how", ["as-the-browser-sends-it", "empty-post"])
def test_empty_easix_form_is_not_computable_and_names_the_labs(
    client: TestClient, how: str
) -> None:
    data = _untouched(client, "/calculators/easix").fields if how != "empty-post" else {}
    r = client.post("/calculators/easix", data=data)
    assert r.status_code == 200
    assert 'data-testid="score-EASIX">not computable<' in r.text
    assert 'data-testid="score-m-EASIX">not computable<' in r.text
    assert "not entered: LDH, creatinine, platelets" in r.text
    assert "not entered: LDH, CRP, platelets" in r.text


# -----------------------------------------------------------------------------------------
# One field answered at a time
# -----------------------------------------------------------------------------------------
YES_NO = ("yes", "no")
CRS_VALUES: dict[str, tuple[str, ...]] = {
    "temp_c": ("37.0", "38.0", "40.1"),
    "tocilizumab": YES_NO,
    "corticosteroids": YES_NO,
    "antipyretic": YES_NO,
    "hypotension": YES_NO,
    "vasopressors": ("0", "1", "2"),
    "vasopressin": YES_NO,
    "o2_device": O2_DEVICE,
    "o2_flow_l_min": ("0", "4", "8"),
}
CRS_SINGLE = [
    pytest.param(name, value, id=f"{name}={value}")
    for name, values in CRS_VALUES.items()
    for value in values
]


@pytest.mark.parametrize(("name", "value"), CRS_SINGLE)
def test_crs_one_field_is_never_enough(client: TestClient, name: str, value: str) -> None:
    # ASTCT grades hypotension and hypoxia only with fever or after the waiver, and any
    # one field leaves the other components open: no single answer decides a grade.
    r = client.post("/calculators/crs", data={name: value})
    assert r.status_code == 200, r.text[:300]
    assert _grade(r.text).startswith("Not gradable")
    missing = _missing(r.text)
    assert all(label in missing for n, label in CRS_FIELDS if n != name)
    assert all(label not in missing for n, label in CRS_FIELDS if n == name)


# ICANS: a domain at grade 4 decides the grade on its own (the grade is the worst domain).
_GRADE4 = {"unarousable", "prolonged_or_repetitive", "deep_focal", "diffuse"}
ICANS_VALUES: dict[str, tuple[str, ...]] = {
    "age_years": ("8", "40"),
    "developmental_delay": YES_NO,
    "ice_assessed": ("yes", "no"),
    **{name: YES_NO for name, _, _ in ICE_ITEMS},
    "capd_score": ("0", "12"),
    "consciousness": CONSCIOUSNESS,
    "seizure": SEIZURE,
    "motor_weakness": MOTOR_WEAKNESS,
    "cerebral_edema": CEREBRAL_EDEMA,
}
ICANS_SINGLE = [
    pytest.param(name, value, id=f"{name}={value}")
    for name, values in ICANS_VALUES.items()
    for value in values
]


@pytest.mark.parametrize(("name", "value"), ICANS_SINGLE)
def test_icans_one_field_grades_only_what_it_decides(
    client: TestClient, name: str, value: str
) -> None:
    r = client.post("/calculators/icans", data={name: value})
    assert r.status_code == 200, r.text[:300]
    expected = "Grade 4" if value in _GRADE4 else "Not gradable"
    assert _grade(r.text).startswith(expected)
    missing = _missing(r.text)
    assert all(label in missing for n, label in ICANS_FIELDS if n != name)
    if name != "age_years":
        assert "Age (decides ICE or CAPD)" in missing


def test_ice_done_with_an_unanswered_point_is_not_ice_zero(client: TestClient) -> None:
    # Nine points answered "not scored", one left unanswered: ICE is unknown (not 0, which
    # would be grade 3), and the page names the unanswered point.
    items = {name: "no" for name, _, _ in ICE_ITEMS[:-1]}
    data = {"age_years": "40", "developmental_delay": "no", "ice_assessed": "yes", **items}
    r = client.post("/calculators/icans", data=data)
    assert _grade(r.text).startswith("Not gradable")
    assert f"ICE item: {ICE_ITEMS[-1][1]}" in _missing(r.text)


@pytest.mark.parametrize(
    ("name", "value"),
    [("ldh", "300"), ("creatinine", "1.2"), ("platelets", "150"), ("crp", "50")],
)
def test_easix_one_lab_is_not_computable(client: TestClient, name: str, value: str) -> None:
    r = client.post("/calculators/easix", data={name: value})
    assert r.status_code == 200
    assert 'data-testid="score-EASIX">not computable<' in r.text
    assert 'data-testid="score-m-EASIX">not computable<' in r.text
    assert "Missing: no " in r.text


@pytest.mark.parametrize("scale", CRS_CALCULATOR_SCALES)
def test_every_crs_scale_grades_an_empty_form_as_not_gradable(
    client: TestClient, scale: str
) -> None:
    r = client.post("/calculators/crs", data={"scale": scale})
    assert _grade(r.text) == "Not gradable (0–4)"
    missing = _missing(r.text)
    assert missing == [label for _, label in CRS_SCALE_FIELDS[scale]]


@pytest.mark.parametrize("scale", ICANS_CALCULATOR_SCALES)
def test_every_icans_scale_grades_an_empty_form_as_not_gradable(
    client: TestClient, scale: str
) -> None:
    r = client.post("/calculators/icans", data={"scale": scale})
    assert _grade(r.text).startswith("Not gradable")
    missing = _missing(r.text)
    assert missing[:4] == [
        "Age (decides ICE or CAPD)",
        "Developmental delay (CAPD at any age)",
        "ICE assessment (done or not)",
        "CAPD score",
    ]
    assert missing[4:] == [label for _, label in ICANS_SCALE_FIELDS[scale]]


# Secondary HLH: "no HLH" decides grade 0 alone, "life-threatening" with HLH is 4; any other
# single answer leaves the grade open.
HLH_SINGLE = [
    pytest.param(name, value, id=f"{name}={value}") for name, _ in HLH_FIELDS for value in YES_NO
]


@pytest.mark.parametrize(("name", "value"), HLH_SINGLE)
def test_hlh_one_field_grades_only_what_it_decides(
    client: TestClient, name: str, value: str
) -> None:
    r = client.post("/calculators/hlh", data={name: value})
    assert r.status_code == 200, r.text[:300]
    expected = "Grade 0" if (name, value) == ("shlh", "no") else "Not gradable"
    assert _grade(r.text).startswith(expected)
    missing = _missing(r.text)
    assert missing == [label for n, label in HLH_FIELDS if n != name]


@pytest.mark.parametrize(
    ("answers", "grade"),
    [
        # "Moderate symptoms; intervention indicated (e.g., immunosuppressive agents)" (2)
        pytest.param(("yes", "yes", "no", "no"), "Grade 2", id="intervention-2"),
        # "... hospitalization or prolongation of existing hospitalization indicated" (3)
        pytest.param(("yes", "yes", "yes", "no"), "Grade 3", id="hospital-3"),
        pytest.param(("yes", "no", "no", "no"), "Grade 1", id="present-1"),
        pytest.param(("yes", "", "", "yes"), "Grade 4", id="life-threatening-4"),
    ],
)
def test_hlh_calculator(client: TestClient, answers: tuple[str, ...], grade: str) -> None:
    data = {name: a for (name, _), a in zip(HLH_FIELDS, answers, strict=True)}
    r = client.post("/calculators/hlh", data=data)
    assert _grade(r.text) == grade
    assert "Secondary hemophagocytic lymphohistiocytosis (MedDRA 10081409)" in r.text
