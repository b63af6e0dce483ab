"""Write the two SYNTHETIC example plates in this folder (run from anywhere).

    python src/cartcohort/assay/example/make_examples.py

Every value is simulated from the curves below with a fixed seed; no patient data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
RNG = np.random.default_rng(20240601)
WELLS = iter(f"{r}{c}" for r in "ABCDEFGH" for c in range(1, 13))


def fpl(x: np.ndarray, a: float, b: float, c: float, d: float) -> np.ndarray:
    return d + (a - d) / (1 + (x / c) ** b)


def qpcr_plate() -> pd.DataFrame:
    """Plasmid standards 1e6..1e1 copies in triplicate; Ct = 38.3 - 3.35 log10(copies)."""
    rows: list[tuple[object, ...]] = []
    for copies in 10.0 ** np.arange(6, 0, -1):
        for _ in range(3):
            ct = 38.3 - 3.35 * np.log10(copies) + RNG.normal(0, 0.12)
            rows.append(("standard", f"STD-{copies:.0e}", "", "", copies, f"{ct:.2f}"))
    samples = {  # sample_id: (patient, day, Ct of three wells)
        "SYN-001-D007": ("SYN-001", 7, ["23.91", "24.05", "24.12"]),
        "SYN-001-D014": ("SYN-001", 14, ["27.48", "27.61", "27.40"]),
        "SYN-001-D028": ("SYN-001", 28, ["Undetermined", "Undetermined", "39.6"]),
        "SYN-002-D007": ("SYN-002", 7, ["16.71", "16.85", "16.78"]),
        "SYN-002-D014": ("SYN-002", 14, ["21.33", "21.20", "21.41"]),
        "SYN-002-D028": ("SYN-002", 28, ["33.9", "34.7", "Undetermined"]),
    }
    for sid, (pid, day, cts) in samples.items():
        rows += [("sample", sid, pid, day, None, ct) for ct in cts]
    rows += [("ntc", "NTC", "", "", None, "Undetermined")] * 2
    frame = pd.DataFrame(
        rows, columns=["Task", "Sample Name", "patient_id", "day", "Quantity", "Ct"]
    )
    frame.insert(0, "Well", [next(WELLS) for _ in range(len(frame))])
    frame.insert(0, "Plate", "SYN-QPCR-01")
    frame["Target Name"] = "CAR"
    return frame


def cba_plate() -> pd.DataFrame:
    """CBA standards 5000 pg/mL, 1:2 to 19.5 pg/mL + blank, duplicates; two analytes."""
    truth = {"IL-6": (30.0, 1.05, 1500.0, 22000.0), "IL-10": (25.0, 1.0, 2500.0, 18000.0)}
    conc = {  # sample_id: (patient, day, dilution, true pg/mL in the well per analyte)
        "SYN-001-D003": ("SYN-001", 3, 1, {"IL-6": 850.0, "IL-10": 120.0}),
        "SYN-001-D007": ("SYN-001", 7, 10, {"IL-6": 2400.0, "IL-10": 640.0}),
        "SYN-002-D003": ("SYN-002", 3, 1, {"IL-6": 6.0, "IL-10": 3.0}),
        "SYN-002-D007": ("SYN-002", 7, 1, {"IL-6": 9000.0, "IL-10": 45.0}),
    }
    rows: list[tuple[object, ...]] = []
    for analyte, pars in truth.items():
        for nominal in [*(5000.0 / 2 ** np.arange(9)), 0.0]:
            for _ in range(2):
                mfi = fpl(np.array([max(nominal, 1e-9)]), *pars)[0] * np.exp(RNG.normal(0, 0.04))
                role = "standard" if nominal > 0 else "blank"
                rows.append((analyte, role, f"STD-{nominal:g}", "", "", nominal, 1, mfi))
        for sid, (pid, day, dil, values) in conc.items():
            for _ in range(2):
                mfi = fpl(np.array([values[analyte]]), *pars)[0] * np.exp(RNG.normal(0, 0.04))
                rows.append((analyte, "sample", sid, pid, day, None, dil, mfi))
    frame = pd.DataFrame(
        rows,
        columns=[
            "Analyte",
            "Type",
            "Sample",
            "patient_id",
            "day",
            "Conc (pg/mL)",
            "Dilution",
            "MFI",
        ],
    )
    frame["MFI"] = frame["MFI"].round(1)
    frame.insert(
        0, "Well", [f"{r}{c}" for r in "ABCDEFGHIJKLMNOP" for c in range(1, 25)][: len(frame)]
    )
    frame.insert(0, "Plate", "SYN-CBA-01")
    return frame


if __name__ == "__main__":
    qpcr_plate().to_csv(HERE / "qpcr_plate.csv", index=False)
    cba_plate().to_csv(HERE / "cba_plate.csv", index=False)
