"""qPCR and immunoassay quantification, the plate reader and conversion to cohort tables."""

from __future__ import annotations

import json
import math
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartcohort.assay.quantify import (
    add_assay_results,
    quantify_immunoassay,
    quantify_qpcr,
)
from cartcohort.assay.read import read_plate
from cartcohort.errors import AnalysisError, IngestError, StatisticalWarning
from cartcohort.model.cohort import Cohort

EXAMPLE = files("cartcohort.assay") / "example"
CASES = json.loads((Path(__file__).parents[2] / "reference" / "cases" / "assay.json").read_text())


def _perfect_standards(plate: str = "P1") -> pd.DataFrame:
    copies = np.repeat(10.0 ** np.arange(6, 0, -1), 3)
    return pd.DataFrame({"plate": plate, "nominal": copies, "signal": 40.0 - np.log2(copies)})


def _ct(copies: float) -> float:
    return 40.0 - math.log2(copies)


# ---- qPCR ------------------------------------------------------------------------------------


def test_qpcr_copies_per_ug_by_hand() -> None:
    samples = pd.DataFrame(
        {
            "plate": "P1",
            "sample_id": ["s1", "s1", "s1", "s2", "s2"],
            "signal": [_ct(1000), _ct(1000), _ct(1000), np.nan, np.nan],
        }
    )
    res = quantify_qpcr(samples, _perfect_standards(), dna_ng_per_reaction=200)
    s1, s2 = res.table.iloc[0], res.table.iloc[1]
    # 1000 copies in 200 ng = 0.2 µg -> 5000 copies/µg
    assert s1["value"] == pytest.approx(5000.0, rel=1e-12)
    assert s1["copies_per_reaction"] == pytest.approx(1000.0, rel=1e-12)
    assert s1["cv_percent"] == pytest.approx(0.0, abs=1e-9)
    assert s1["flag"] == ""
    assert s1["lloq"] == pytest.approx(10 / 0.2)
    # undetermined wells: below the LLOQ, never a number
    assert s2["flag"] == "<LLOQ"
    assert math.isnan(s2["value"])
    assert s2["limit"] == pytest.approx(50.0)
    assert s2["n_undetermined"] == 2


def test_qpcr_matches_r_copies_per_ug() -> None:
    case = CASES["cases"]["plasmid_qpcr"]
    std = pd.DataFrame(case["input"]["standards"])
    cts = case["input"]["sample_signal"]
    samples = pd.DataFrame({"sample_id": [f"s{i}" for i in range(len(cts))], "signal": cts})
    res = quantify_qpcr(samples, std, dna_ng_per_reaction=case["input"]["dna_ng_per_reaction"])
    expected = np.array(case["expected"]["sample_copies_per_ug"])
    inside = res.table["flag"] == ""
    np.testing.assert_allclose(res.table.loc[inside, "value"], expected[inside], rtol=1e-10)
    # Ct 18.2 -> 9.3e5 copies, just inside the top standard (1e6)
    assert list(res.table["flag"]) == ["", "", "", "<LLOQ", "<LLOQ"]


def test_qpcr_dna_input_from_column_and_errors() -> None:
    samples = pd.DataFrame(
        {"plate": "P1", "sample_id": ["a", "b"], "signal": [_ct(100)] * 2,
         "dna_ng_per_reaction": [100.0, 50.0]}
    )  # fmt: skip
    res = quantify_qpcr(samples, _perfect_standards(), dna_ng_per_reaction=None)
    assert list(res.table["value"]) == pytest.approx([1000.0, 2000.0])
    with pytest.raises(AnalysisError, match="dna_ng_per_reaction"):
        quantify_qpcr(samples.drop(columns="dna_ng_per_reaction"), _perfect_standards(),
                      dna_ng_per_reaction=None)  # fmt: skip
    with pytest.raises(AnalysisError, match="> 0"):
        quantify_qpcr(samples, _perfect_standards(), dna_ng_per_reaction=0)


def test_replicate_cv_and_disagreement_flags() -> None:
    samples = pd.DataFrame(
        {
            "plate": "P1",
            "sample_id": ["hi_cv"] * 2 + ["mixed"] * 3,
            "signal": [_ct(100), _ct(300), _ct(1000), _ct(1000), np.nan],
        }
    )
    res = quantify_qpcr(samples, _perfect_standards(), dna_ng_per_reaction=1000)
    table = res.table.set_index("sample_id")
    # copies 100 and 300: mean 200, SD 141.4 -> CV 70.7 % > 30 %
    assert table.loc["hi_cv", "cv_percent"] == pytest.approx(100 * math.sqrt(2) / 2, rel=1e-9)
    assert table.loc["hi_cv", "flag"] == "high_cv"
    assert table.loc["mixed", "flag"] == "replicates_disagree"
    assert table.loc["mixed", "value"] == pytest.approx(1000.0)
    assert table.loc["mixed", "n_quantified"] == 2


def test_missing_curve_for_a_plate_is_named() -> None:
    samples = pd.DataFrame({"plate": "P2", "sample_id": ["a"], "signal": [30.0]})
    with pytest.raises(AnalysisError, match="plate=P2"):
        quantify_qpcr(samples, _perfect_standards(), dna_ng_per_reaction=100)


def test_rejected_curve_flags_every_sample() -> None:
    std = _perfect_standards()
    std["signal"] = 40 - 4.0 * np.log10(std["nominal"])
    samples = pd.DataFrame({"plate": "P1", "sample_id": ["a"], "signal": [30.0]})
    with pytest.warns(StatisticalWarning, match="fails acceptance"):
        res = quantify_qpcr(samples, std, dna_ng_per_reaction=100)
    assert res.table["flag"].iloc[0] == "curve_rejected"
    assert any("fails acceptance" in w for w in res.warnings)


# ---- immunoassay -----------------------------------------------------------------------------


def _il6_standards(plate: str = "P1") -> pd.DataFrame:
    a, b, c, d = 30.0, 1.1, 1000.0, 25000.0
    x = np.repeat(5000 / 2.0 ** np.arange(9), 2)
    sig = d + (a - d) / (1 + (x / c) ** b)
    return pd.DataFrame({"plate": plate, "analyte": "IL-6", "nominal": x, "signal": sig})


def _il6_signal(conc: float) -> float:
    return 25000.0 + (30.0 - 25000.0) / (1 + (conc / 1000.0) ** 1.1)


def test_immunoassay_dilution_and_flags() -> None:
    samples = pd.DataFrame(
        {
            "plate": "P1",
            "analyte": "IL-6",
            "sample_id": ["a", "a", "b", "c", "d"],
            "dilution": [10, 10, 1, 1, 1],
            "signal": [_il6_signal(400)] * 2 + [_il6_signal(5), _il6_signal(9000), 20.0],
            "patient_id": ["P-1", "P-1", "P-1", "P-2", "P-2"],
            "day": [1, 1, 3, 3, 7],
        }
    )
    res = quantify_immunoassay(samples, _il6_standards())
    t = res.table.set_index("sample_id")
    assert t.loc["a", "value"] == pytest.approx(4000.0, rel=1e-6)
    assert t.loc["a", "lloq"] == pytest.approx(10 * 5000 / 2**8)
    assert t.loc["b", "flag"] == "<LLOQ"
    assert t.loc["c", "flag"] == ">ULOQ"
    assert t.loc["c", "limit"] == pytest.approx(5000.0)
    assert t.loc["d", "flag"] == "below_fit"
    assert t.loc[["b", "c", "d"], "value"].isna().all()
    labs = res.to_labs()
    assert list(labs.columns) == [
        "patient_id", "day", "analyte", "value", "unit", "plate", "fit_id", "flag",
    ]  # fmt: skip
    assert set(labs["analyte"]) == {"il6"}
    assert labs["value"].isna().sum() == 3
    half = res.to_labs(below_lloq="half_lloq").set_index("flag")
    assert half.loc["<LLOQ", "value"] == pytest.approx(5000 / 2**8 / 2)
    with pytest.raises(AnalysisError, match="to_labs"):
        res.to_kinetics()


def test_one_curve_per_plate_and_analyte() -> None:
    std = pd.concat([_il6_standards("P1"), _il6_standards("P2")])
    samples = pd.DataFrame(
        {"plate": ["P1", "P2"], "analyte": "IL-6", "sample_id": ["x", "y"],
         "signal": [_il6_signal(100)] * 2}
    )  # fmt: skip
    res = quantify_immunoassay(samples, std, model="5pl")
    assert sorted(res.fits) == ["P1/IL-6/5pl", "P2/IL-6/5pl"]
    assert list(res.table["fit_id"]) == ["P1/IL-6/5pl", "P2/IL-6/5pl"]
    np.testing.assert_allclose(res.table["value"], 100.0, rtol=1e-5)


def test_qpcr_model_refused_for_immunoassay() -> None:
    with pytest.raises(AnalysisError, match="quantify_qpcr"):
        quantify_immunoassay(pd.DataFrame(), _il6_standards(), model="qpcr")


# ---- plate exports, end to end ------------------------------------------------------------


def test_example_qpcr_plate_to_kinetics() -> None:
    plate = read_plate(Path(str(EXAMPLE / "qpcr_plate.csv")))
    assert (len(plate.standards), len(plate.samples), len(plate.other)) == (18, 18, 2)
    res = quantify_qpcr(plate.samples, plate.standards, dna_ng_per_reaction=100)
    flags = dict(zip(res.table["sample_id"], res.table["flag"], strict=True))
    assert flags["SYN-001-D028"] == "<LLOQ"
    assert flags["SYN-002-D007"] == ">ULOQ"
    assert flags["SYN-002-D028"].startswith("replicates_disagree")
    kin = res.to_kinetics()
    assert list(kin.columns) == [
        "patient_id", "day", "value", "unit", "lloq", "plate", "fit_id", "flag",
    ]  # fmt: skip
    blq = kin["flag"] == "<LLOQ"
    assert (kin.loc[blq, "value"] == 0).all()
    assert (kin["lloq"] == 100.0).all()  # 10 copies / 0.1 µg
    cohort = add_assay_results(Cohort(tables={}), res)
    assert len(cohort.table("kinetics")) == 6
    assert cohort.extra_columns["kinetics"] == ("plate", "fit_id", "flag")


def test_example_cba_plate_to_labs() -> None:
    plate = read_plate(Path(str(EXAMPLE / "cba_plate.csv")))
    res = quantify_immunoassay(plate.samples, plate.standards, weighting="1/y^2")
    assert all(f.accepted for f in res.fits.values())
    labs = res.to_labs()
    assert set(labs["analyte"]) == {"il6", "il10"}
    diluted = res.table[res.table["dilution"] == 10]
    assert (diluted["lloq"] == 10 * 5000 / 2**8).all()
    cohort = add_assay_results(Cohort(tables={}), res)
    assert len(cohort.table("labs")) == 8


def test_reader_names_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "plate.csv"
    path.write_text(
        "Well,Task,Sample Name,Quantity,Ct\n"
        "A1,standard,S1,1000,20.1\n"
        "A2,unknown,X,,Undetermined\n"
        "A3,unknown,Y,,>40\n"
        "A4,unknown,Z,,oops\n"
    )
    with pytest.raises(IngestError, match=r"plate.csv, row 5, column `signal`: 'oops'"):
        read_plate(path)
    path.write_text(path.read_text().replace("oops", "31.2"))
    plate = read_plate(path)
    assert list(plate.samples["undetermined"]) == [True, True, False]
    assert plate.samples["signal"].isna().sum() == 2


def test_reader_errors(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        read_plate(tmp_path / "missing.csv")
    bad = tmp_path / "plate.json"
    bad.write_text("{}")
    with pytest.raises(IngestError, match="unsupported extension"):
        read_plate(bad)
    nosig = tmp_path / "nosig.csv"
    nosig.write_text("Well,Sample\nA1,X\n")
    with pytest.raises(IngestError, match="no signal column"):
        read_plate(nosig)


def test_reader_xlsx(tmp_path: Path) -> None:
    frame = pd.read_csv(Path(str(EXAMPLE / "cba_plate.csv")))
    path = tmp_path / "cba.xlsx"
    frame.to_excel(path, index=False)
    plate = read_plate(path)
    assert len(plate.standards) == 36
    assert plate.standards["nominal"].max() == 5000.0
