"""cartcohort: CAR-T cell therapy cohorts from raw clinical data to published analyses."""

from __future__ import annotations

from cartcohort.analyse._results import _version

__version__ = _version()

__all__ = ["__version__"]
