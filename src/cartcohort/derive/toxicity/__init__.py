"""CRS and ICANS grading from daily bedside observations.

Public entry points (re-exported from :mod:`cartcohort`):

* :func:`grade_crs` / :func:`summarize_crs` -- ASTCT 2019 (default), Lee 2014,
  Penn, MSKCC, CARTOX, CTCAE v4.03, v5.0 and v6.0;
* :func:`grade_icans` / :func:`summarize_icans` -- ASTCT 2019 (default) and CTCAE
  v6.0, with ICE (adults) and CAPD (children, developmental delay), and the seeds'
  ``severe_neurotoxicity`` flag;
* :func:`grade_secondary_hlh` -- CTCAE v6.0 secondary HLH from clinician-recorded
  flags (this package only, not re-exported from :mod:`cartcohort`);
* :func:`crs_concordance` / :func:`concordance_table` -- the same cohort under
  several CRS scales and their pairwise agreement.

The rules live, with their source sentences, in
:mod:`cartcohort.derive.toxicity.criteria`. Grades are ``Int64`` with ``<NA>``
for "not gradable" -- never 0.
"""

from __future__ import annotations

from cartcohort.derive.toxicity.concordance import concordance_table, crs_concordance
from cartcohort.derive.toxicity.crs import (
    CRS_METHOD,
    CRS_SCALES,
    GradingWarning,
    grade_crs,
    summarize_crs,
)
from cartcohort.derive.toxicity.hlh import grade_secondary_hlh
from cartcohort.derive.toxicity.icans import (
    ICANS_METHOD,
    ICANS_SCALES,
    grade_icans,
    summarize_icans,
)

__all__ = [
    "CRS_METHOD",
    "CRS_SCALES",
    "ICANS_METHOD",
    "ICANS_SCALES",
    "GradingWarning",
    "concordance_table",
    "crs_concordance",
    "grade_crs",
    "grade_icans",
    "grade_secondary_hlh",
    "summarize_crs",
    "summarize_icans",
]
