"""Legacy CRS scales (Lee 2014, Penn, MSKCC, CARTOX, CTCAE v4.03) and cross-scale concordance.

One parametrized table per scale; each case quotes the scale's sentence (sources in
``cartcohort.derive.toxicity.criteria.legacy_crs``). ``None`` = not gradable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cartcohort.derive.toxicity import (
    CRS_SCALES,
    concordance_table,
    crs_concordance,
    grade_crs,
    summarize_crs,
)
from cartcohort.derive.toxicity.criteria.ctcae_crs import EXTRA_COLUMNS as CTCAE_EXTRA
from cartcohort.derive.toxicity.criteria.legacy_crs import EXTRA_COLUMNS
from cartcohort.errors import DerivationError
from cartcohort.model.standard import TABLE_BY_NAME

# Every input of every scale recorded and normal.
NORMAL: dict[str, Any] = {
    "temp_c": 37.0,
    "hypotension": False,
    "vasopressors": 0,
    "vasopressin": False,
    "o2_device": "none",
    "o2_flow_l_min": np.nan,
    "antipyretic": False,
    "tocilizumab": False,
    "corticosteroids": False,
    "fio2_pct": 21.0,
    "high_dose_vasopressor": False,
    "vasopressor_24h": False,
    "vasopressor_refractory": False,
    "life_threatening_hypotension": False,
    "organ_toxicity_grade": 0,
    "transaminitis_grade": 0,
    "creatinine_grade": 0,
    "hospitalized_for_crs": False,
    "coagulopathy_transfusion": False,
    "multiple_fluid_boluses": False,
    "ctcae_prolonged": False,
}
PRESSOR = {"hypotension": True, "vasopressors": 1}
NC = {"o2_device": "low_flow_nasal_cannula", "o2_flow_l_min": 2.0}


def grade_of(system: str, **changes: Any) -> int | None:
    frame = pd.DataFrame([{"patient_id": "P1", "day": 1, **NORMAL, **changes}])
    g = grade_crs(frame, system=system)["grade"].iloc[0]  # type: ignore[arg-type]
    return None if pd.isna(g) else int(g)


LEE_CASES = [
    # "Symptoms are not life-threatening and require symptomatic treatment only; eg fever,
    # nausea, fatigue, headache, myalgias, malaise"
    pytest.param({"temp_c": 38.0}, 1, id="fever-1"),
    pytest.param({"crs_symptoms": True}, 1, id="symptoms-without-fever-1"),
    pytest.param({}, 0, id="nothing-0"),
    # "Oxygen requirement < 40% or hypotension responsive to fluids or low-dose of one
    # vasopressor or grade 2 organ toxicity"
    pytest.param({"hypotension": True}, 2, id="fluids-2"),
    pytest.param(PRESSOR, 2, id="one-low-dose-pressor-2"),
    pytest.param({"hypotension": True, "vasopressin": True}, 2, id="vasopressin-low-dose-2"),
    pytest.param({**NC, "fio2_pct": 39.0}, 2, id="fio2-39-2"),
    pytest.param({"organ_toxicity_grade": 2}, 2, id="organ-g2-2"),
    # "Oxygen requirement >= 40% or hypotension requiring high-dose or multiple vasopressors
    # or grade 3 organ toxicity or grade 4 transaminitis"
    pytest.param({**NC, "fio2_pct": 40.0}, 3, id="fio2-exactly-40-3"),
    pytest.param({**PRESSOR, "high_dose_vasopressor": True}, 3, id="high-dose-3"),
    pytest.param(
        {"hypotension": True, "vasopressors": 1, "vasopressin": True},
        3,
        id="pressor-plus-vasopressin-multiple-3",
    ),
    pytest.param({"organ_toxicity_grade": 3}, 3, id="organ-g3-3"),
    pytest.param({"transaminitis_grade": 4}, 3, id="transaminitis-g4-3"),
    # "requirement for ventilator support or grade 4 organ toxicity (excluding transaminitis)"
    pytest.param({"o2_device": "mechanical_ventilation"}, 4, id="ventilator-4"),
    pytest.param({"organ_toxicity_grade": 4}, 4, id="organ-g4-4"),
    # Interpretation: CPAP/BiPAP are graded by FiO2, not as "ventilator support".
    pytest.param({"o2_device": "cpap", "fio2_pct": 50.0}, 3, id="cpap-fio2-50-3"),
    # Not gradable: the inputs that decide are missing.
    pytest.param({**PRESSOR, "high_dose_vasopressor": None}, None, id="dose-missing-none"),
    pytest.param({**NC, "fio2_pct": None}, None, id="fio2-missing-on-oxygen-none"),
    pytest.param({"organ_toxicity_grade": None}, None, id="organ-missing-none"),
    pytest.param(
        {"organ_toxicity_grade": None, "o2_device": "mechanical_ventilation"},
        4,
        id="organ-missing-but-ventilated-4",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), LEE_CASES)
def test_lee2014(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of("lee2014", **changes) == expected


PENN_CASES = [
    # "Mild reaction treated with supportive care, such as antipyretics, antiemetics"
    pytest.param({"temp_c": 38.3}, 1, id="fever-1"),
    pytest.param({"hypotension": True}, 1, id="single-bolus-1"),
    # "grade 2 creatinine or grade 3 LFT elevation. Hospitalization for management of
    # CRS-related symptoms"
    pytest.param({"creatinine_grade": 2}, 2, id="creatinine-g2-2"),
    pytest.param({"transaminitis_grade": 3}, 2, id="lft-g3-2"),
    pytest.param({"hospitalized_for_crs": True}, 2, id="hospitalised-2"),
    # "grade 4 LFT elevation or grade 3 creatinine ... hypotension treated with intravenous
    # fluids defined as multiple fluid boluses ... or low-dose vasopressors; Coagulopathy
    # requiring fresh frozen plasma ...; Hypoxia requiring supplemental oxygen (nasal cannula
    # oxygen, high-flow oxygen, CPAP, or BiPAP)"
    pytest.param({"creatinine_grade": 3}, 3, id="creatinine-g3-3"),
    pytest.param({"transaminitis_grade": 4}, 3, id="lft-g4-3"),
    pytest.param({"hypotension": True, "multiple_fluid_boluses": True}, 3, id="boluses-3"),
    pytest.param(PRESSOR, 3, id="low-dose-pressor-3"),
    pytest.param({"coagulopathy_transfusion": True}, 3, id="coagulopathy-3"),
    pytest.param(NC, 3, id="nasal-cannula-3"),
    pytest.param({"o2_device": "bipap"}, 3, id="bipap-3"),
    # "hypotension requiring high-dose vasopressors; hypoxia requiring mechanical ventilation"
    pytest.param({**PRESSOR, "high_dose_vasopressor": True}, 4, id="high-dose-4"),
    pytest.param({"o2_device": "mechanical_ventilation"}, 4, id="ventilator-4"),
    # Not gradable / determined despite missing inputs.
    pytest.param({"hospitalized_for_crs": None}, None, id="hospitalisation-missing-none"),
    pytest.param({**NC, "hospitalized_for_crs": None}, 3, id="hosp-missing-but-oxygen-3"),
    pytest.param({**PRESSOR, "high_dose_vasopressor": None}, None, id="dose-missing-none"),
]


@pytest.mark.parametrize(("changes", "expected"), PENN_CASES)
def test_penn(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of("penn", **changes) == expected


MSKCC_CASES = [
    # "Mild symptoms requiring observation or supportive care only"
    pytest.param({"temp_c": 38.1}, 1, id="fever-1"),
    pytest.param({"hypotension": True}, 1, id="fluids-only-1"),
    # "Hypotension requiring any vasopressors <24 h; Hypoxia/dyspnea requiring O2 <40%"
    pytest.param(PRESSOR, 2, id="pressor-under-24h-2"),
    pytest.param({"hypotension": True, "vasopressin": True}, 2, id="vasopressin-any-pressor-2"),
    pytest.param({**NC, "fio2_pct": 30.0}, 2, id="fio2-30-2"),
    # "Hypotension requiring any vasopressors >=24 h; Hypoxia/dyspnea requiring O2 >=40%"
    pytest.param({**PRESSOR, "vasopressor_24h": True}, 3, id="pressor-24h-3"),
    pytest.param({"o2_device": "facemask", "fio2_pct": 60.0}, 3, id="fio2-60-3"),
    # "Hypotension refractory to high-dose vasopressors; ... requiring mechanical ventilation"
    pytest.param({**PRESSOR, "vasopressor_refractory": True}, 4, id="refractory-4"),
    pytest.param({"o2_device": "mechanical_ventilation"}, 4, id="ventilator-4"),
    pytest.param({**PRESSOR, "vasopressor_24h": None}, None, id="duration-missing-none"),
    pytest.param({**PRESSOR, "vasopressor_refractory": None}, None, id="refractory-missing-none"),
    pytest.param({"vasopressor_refractory": None}, 0, id="refractory-irrelevant-without-pressor"),
]


@pytest.mark.parametrize(("changes", "expected"), MSKCC_CASES)
def test_mskcc(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of("mskcc", **changes) == expected


CARTOX_CASES = [
    # "Temperature >=38 C; Grade 1 organ toxicity"
    pytest.param({"temp_c": 38.0}, 1, id="fever-1"),
    pytest.param({"organ_toxicity_grade": 1}, 1, id="organ-g1-1"),
    # "Hypotension responsive to IV fluids or low-dose vasopressors; Hypoxia requiring FiO2
    # <40%; Grade 2 organ toxicity"
    pytest.param({"hypotension": True}, 2, id="fluids-2"),
    pytest.param(PRESSOR, 2, id="low-dose-pressor-2"),
    pytest.param({**NC, "fio2_pct": 35.0}, 2, id="fio2-35-2"),
    # "Hypotension needing high-dose or multiple vasopressors; Hypoxia requiring FiO2 >=40%;
    # Grade 3 organ toxicity or grade 4 transaminitis"
    pytest.param({**PRESSOR, "high_dose_vasopressor": True}, 3, id="high-dose-3"),
    pytest.param({"hypotension": True, "vasopressors": 2}, 3, id="multiple-3"),
    pytest.param({"transaminitis_grade": 4}, 3, id="transaminitis-g4-3"),
    # "Life-threatening hypotension needing ventilator support; Grade 4 organ toxicity
    # except grade 4 transaminitis"
    pytest.param({**PRESSOR, "life_threatening_hypotension": True}, 4, id="life-threatening-4"),
    pytest.param({"o2_device": "mechanical_ventilation"}, 4, id="ventilator-4"),
    pytest.param({"organ_toxicity_grade": 4}, 4, id="organ-g4-4"),
    pytest.param(
        {**PRESSOR, "life_threatening_hypotension": None},
        None,
        id="life-threatening-missing-on-pressor-none",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), CARTOX_CASES)
def test_cartox(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of("cartox", **changes) == expected


CTCAE_CASES = [
    # "Mild reaction; infusion interruption not indicated; intervention not indicated"
    pytest.param({"temp_c": 38.0}, 1, id="fever-1"),
    # "responds promptly to symptomatic treatment (eg, ... IV fluids)" (interpretation)
    pytest.param({"hypotension": True}, 2, id="fluids-2"),
    # "Prolonged ...; recurrence of symptoms following initial improvement; hospitalization
    # indicated for clinical sequelae"
    pytest.param({"temp_c": 38.0, "ctcae_prolonged": True}, 3, id="prolonged-3"),
    # "Life-threatening consequences; pressor or ventilator support indicated"
    pytest.param(PRESSOR, 4, id="pressor-4"),
    pytest.param({"hypotension": True, "vasopressin": True}, 4, id="vasopressin-is-a-pressor-4"),
    pytest.param({"o2_device": "mechanical_ventilation"}, 4, id="ventilator-4"),
    pytest.param({"temp_c": 38.0, "o2_device": "cpap"}, 1, id="cpap-not-ventilator-1"),
    pytest.param({"temp_c": 38.0, "ctcae_prolonged": None}, None, id="course-missing-none"),
    pytest.param({"ctcae_prolonged": None}, 0, id="course-irrelevant-without-reaction"),
]


@pytest.mark.parametrize(("changes", "expected"), CTCAE_CASES)
def test_ctcae_v403(changes: dict[str, Any], expected: int | None) -> None:
    assert grade_of("ctcae_v4.03", **changes) == expected


@pytest.mark.parametrize("system", sorted(CRS_SCALES))
def test_every_scale_declares_known_inputs_and_grades_death(system: str) -> None:
    scale = CRS_SCALES[system]
    standard = {c.name for c in TABLE_BY_NAME["observations"].columns}
    known = standard | set(EXTRA_COLUMNS) | set(CTCAE_EXTRA)
    assert set(scale.required_inputs) | set(scale.optional_inputs) <= known
    assert all(c.quote and c.source for c in scale.criteria)
    assert grade_of(system) == 0
    keys_only = pd.DataFrame({"patient_id": ["P1"], "day": [1]})
    assert pd.isna(grade_crs(keys_only, system=system)["grade"].iloc[0])  # type: ignore[arg-type]
    events = pd.DataFrame({"patient_id": ["P1"], "day": [1], "event": ["death"], "cause": ["CRS"]})
    out = grade_crs(keys_only, system=system, events=events)  # type: ignore[arg-type]
    assert int(out["grade"].iloc[0]) == 5
    assert out["system"].iloc[0] == scale.version


def test_component_columns_do_not_reuse_input_names() -> None:
    frame = pd.DataFrame([{"patient_id": "P1", "day": 1, **NORMAL, "transaminitis_grade": 4}])
    out = grade_crs(frame, system="penn")
    assert {"renal_grade", "liver_grade", "coagulopathy_grade", "hospitalisation_grade"} <= set(
        out.columns
    )
    assert int(out["liver_grade"].iloc[0]) == 3  # "grade 4 LFT elevation" -> Penn 3
    assert out["driver"].iloc[0] == "liver"


def test_summary_rejects_mixed_systems() -> None:
    frame = pd.DataFrame([{"patient_id": "P1", "day": 1, **NORMAL}])
    mixed = pd.concat([grade_crs(frame), grade_crs(frame, system="lee2014")])
    with pytest.raises(DerivationError, match="mixes systems"):
        summarize_crs(mixed)


def test_empty_observations() -> None:
    empty = pd.DataFrame(
        {"patient_id": pd.Series([], dtype=object), "day": pd.Series([], dtype="int64")}
    )
    assert grade_crs(empty).empty
    assert summarize_crs(grade_crs(empty)).empty
    assert crs_concordance(empty).empty


def test_legacy_scales_have_no_fever_gate() -> None:
    # Lee: "hypotension responsive to fluids" is grade 2 with or without fever;
    # ASTCT requires fever (or the waiver): grade 0.
    assert grade_of("lee2014", hypotension=True) == 2
    assert grade_of("astct", hypotension=True) == 0


# --- Concordance -----------------------------------------------------------------------
def cohort() -> pd.DataFrame:
    rows = [
        {"patient_id": "A", "day": 1, **NORMAL, "temp_c": 38.5},  # fever only
        {"patient_id": "B", "day": 1, **NORMAL, "temp_c": 38.5, **PRESSOR},  # one pressor
        {"patient_id": "C", "day": 1, **NORMAL, "temp_c": 38.5, **NC, "fio2_pct": 28.0},
        {"patient_id": "D", "day": 1, **NORMAL, "temp_c": 38.5, "organ_toxicity_grade": None},
        {"patient_id": "E", "day": 1, **NORMAL},  # no CRS
    ]
    return pd.DataFrame(rows)


def test_crs_concordance_per_patient_max() -> None:
    conc = crs_concordance(cohort())
    expected = {
        # system:        A  B  C  D     E
        "astct": [1, 3, 2, 1, 0],
        "lee2014": [1, 2, 2, None, 0],
        "penn": [1, 3, 3, 1, 0],
        "mskcc": [1, 2, 2, 1, 0],
        "cartox": [1, 2, 2, None, 0],
        "ctcae_v4.03": [1, 4, 1, 1, 0],
    }
    assert conc["patient_id"].tolist() == ["A", "B", "C", "D", "E"]
    for system, grades in expected.items():
        got = [None if pd.isna(g) else int(g) for g in conc[system]]
        assert got == grades, system
    assert conc.attrs["systems"]["astct"] == "ASTCT-2019"


def test_concordance_table_counts_only_patients_gradable_under_both() -> None:
    table = concordance_table(crs_concordance(cohort()))
    assert len(table) == 15
    row = table.set_index(["system_a", "system_b"]).loc[("astct", "lee2014")]
    # D is not gradable under Lee (organ toxicity missing): 4 patients compared.
    assert row["n"] == 4
    assert row["n_same_grade"] == 3  # A 1/1, C 2/2, E 0/0 agree; B is 3 vs 2
    assert row["n_same_presence"] == 4
    assert (row["n_a_higher"], row["n_b_higher"]) == (1, 0)


def test_concordance_table_kappa_hand_worked() -> None:
    # a = [0, 1, 1, 2], b = [0, 1, 2, 2]: p_o = 3/4;
    # p_e = (1/4)(1/4) + (2/4)(1/4) + (1/4)(2/4) = 5/16; kappa = (12/16 - 5/16)/(11/16) = 7/11.
    conc = pd.DataFrame({"patient_id": list("wxyz"), "a": [0, 1, 1, 2], "b": [0, 1, 2, 2]})
    row = concordance_table(conc).iloc[0]
    assert row["prop_same_grade"] == pytest.approx(0.75, rel=1e-12)
    assert row["kappa"] == pytest.approx(7 / 11, rel=1e-12)


def test_concordance_errors() -> None:
    with pytest.raises(DerivationError, match="unknown CRS systems"):
        crs_concordance(cohort(), systems=("astct", "asbmt"))
    with pytest.raises(DerivationError, match="at least two"):
        concordance_table(pd.DataFrame({"patient_id": ["A"], "astct": [1]}))
