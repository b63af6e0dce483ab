"""Built-in demo cohorts shipped inside the package.

Two datasets, in ``cartcohort/demo/data/``:

``seed002_mrd``
    The 14 MRD-positive B-ALL patients of Lu W et al., Cancer Immunol Immunother 2021,
    Table 2: **published individual data of real patients**, values as printed, missing
    where the paper gives none (:mod:`cartcohort.demo.seed002`).
``synthetic``
    **SYNTHETIC — simulated patients, not real data.** 150 simulated relapsed/refractory
    B-ALL patients with all eight tables of the data standard, from a seeded generator
    calibrated to the seed papers' published figures (:mod:`cartcohort.demo.generator`,
    :mod:`cartcohort.demo.calibration`).

:func:`write_demo` writes both as files a user can open (CSV, Excel or Parquet);
:func:`demo_path` gives the folder of the shipped CSV files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from cartcohort.demo.generator import (
    DEFAULT_N,
    DEFAULT_SEED,
    SYNTHETIC_LABEL,
    generate_synthetic,
    regenerate,
    write_demo,
)
from cartcohort.demo.seed002 import seed002_patients

DemoName = Literal["synthetic", "seed002_mrd"]
DEMO_NAMES: tuple[str, ...] = ("synthetic", "seed002_mrd")


def demo_path(name: DemoName = "synthetic") -> Path:
    """Folder of a shipped demo dataset inside the installed package.

    Parameters
    ----------
    name
        ``"synthetic"`` (simulated cohort, all tables) or ``"seed002_mrd"`` (the 14
        published MRD-positive patients, patients table only).

    Returns
    -------
    pathlib.Path
        The folder holding the dataset's CSV files, ``cohort.yaml`` and ``README.md``.

    Raises
    ------
    ValueError
        If ``name`` is not a demo dataset.
    FileNotFoundError
        If the package was installed without its data files.

    Examples
    --------
    >>> (demo_path("synthetic") / "cohort.yaml").is_file()
    True
    """
    if name not in DEMO_NAMES:
        msg = f"`name` must be one of {', '.join(DEMO_NAMES)}; got {name!r}."
        raise ValueError(msg)
    folder = Path(str(resources.files("cartcohort.demo").joinpath("data", name)))
    if not folder.is_dir():
        msg = f"Demo data folder {folder} is missing; reinstall cartcohort with its data files."
        raise FileNotFoundError(msg)
    return folder


__all__ = [
    "DEFAULT_N",
    "DEFAULT_SEED",
    "DEMO_NAMES",
    "SYNTHETIC_LABEL",
    "demo_path",
    "generate_synthetic",
    "regenerate",
    "seed002_patients",
    "write_demo",
]
