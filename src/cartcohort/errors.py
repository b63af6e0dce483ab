"""Exceptions and warnings raised by cartcohort.

Every error a user can meet is a subclass of :class:`CartcohortError`, so one
``except CartcohortError`` catches them all, and the command line turns each
into a readable message instead of a traceback::

    CartcohortError
    ├── IngestError            a file cannot be read at all (empty, binary, wrong format)
    ├── ValidationError        the data were read but break rules; carries the ValidationReport
    ├── StoreError             the cohort database cannot be written or read
    ├── DerivationError        a clinical derivation cannot be computed from the inputs
    ├── AnalysisError          a statistic cannot be computed from the inputs
    │   ├── DegenerateDataError    no events, a single group, empty data ...
    │   ├── SeparationError        complete separation in ML logistic regression
    │   ├── CollinearityError      collinear covariates (named in the message)
    │   └── ConvergenceError       an iterative fit did not converge
    └── PlanError              an analysis plan is invalid

    StatisticalWarning (UserWarning)
    └── DegenerateWarning      a statistic is defined but uninformative (e.g. no events in a group)
    DerivationWarning (UserWarning)
    ├── GradingWarning         bedside observations are inconsistent; graded conservatively
    └── EndpointExclusionWarning  some patients could not be given an endpoint (see exclusions)

Messages name the argument or column, the value, and how to fix it.
"""

from __future__ import annotations

from typing import Any


class CartcohortError(Exception):
    """Base class of every error raised by cartcohort."""


class IngestError(CartcohortError):
    """A file cannot be read as a table (empty, binary, unknown format)."""


class ValidationError(CartcohortError):
    """The data were read but break one or more rules of the data standard.

    The full :class:`~cartcohort.validate.ValidationReport` is in ``report``; every
    problem is listed there, not only the first.
    """

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


class StoreError(CartcohortError):
    """The cohort database cannot be written or read."""


class DerivationError(CartcohortError):
    """A clinical derivation cannot be computed from its inputs."""


class AnalysisError(CartcohortError):
    """A statistic cannot be computed from its inputs."""


class DegenerateDataError(AnalysisError):
    """The data make the statistic undefined (no events, one group, no rows)."""


class SeparationError(AnalysisError):
    """Complete or quasi-complete separation in maximum-likelihood logistic regression."""


class CollinearityError(AnalysisError):
    """The design matrix is rank deficient; the message names the collinear terms."""


class ConvergenceError(AnalysisError):
    """An iterative fit did not converge."""


class PlanError(CartcohortError):
    """An analysis plan is invalid."""


class StatisticalWarning(UserWarning):
    """A statistic was computed but something about it deserves attention."""


class DegenerateWarning(StatisticalWarning):
    """A statistic is defined but uninformative (e.g. a group without events)."""


class DerivationWarning(UserWarning):
    """Inputs to a clinical derivation are incomplete or inconsistent; see the message."""


__all__ = [
    "AnalysisError",
    "CartcohortError",
    "CollinearityError",
    "ConvergenceError",
    "DegenerateDataError",
    "DegenerateWarning",
    "DerivationError",
    "DerivationWarning",
    "IngestError",
    "PlanError",
    "SeparationError",
    "StatisticalWarning",
    "StoreError",
    "ValidationError",
]
