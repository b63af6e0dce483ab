"""Assay quantification: qPCR and immunoassay standard curves to copies and concentrations.

Raw plate read-outs (:func:`read_plate`) -> one standard curve per plate and analyte
(:func:`fit_standard_curve`) -> quantified samples with flags (:func:`quantify_qpcr`,
:func:`quantify_immunoassay`) -> rows of the cohort's ``kinetics`` and ``labs`` tables
with provenance (:func:`add_assay_results`). Nothing outside a curve's validated range is
extrapolated: such values are NaN with a flag and the limit they lie beyond.
"""

from cartcohort.assay.curves import (
    IMMUNOASSAY_ACCEPTANCE,
    QPCR_ACCEPTANCE,
    RANGE_FLAGS,
    AcceptanceCriteria,
    StandardCurveResult,
    fit_standard_curve,
)
from cartcohort.assay.quantify import (
    EXTRA_FLAGS,
    QuantificationResult,
    add_assay_results,
    quantify_immunoassay,
    quantify_qpcr,
)
from cartcohort.assay.read import PlateExport, read_plate

__all__ = [
    "EXTRA_FLAGS",
    "IMMUNOASSAY_ACCEPTANCE",
    "QPCR_ACCEPTANCE",
    "RANGE_FLAGS",
    "AcceptanceCriteria",
    "PlateExport",
    "QuantificationResult",
    "StandardCurveResult",
    "add_assay_results",
    "fit_standard_curve",
    "quantify_immunoassay",
    "quantify_qpcr",
    "read_plate",
]
