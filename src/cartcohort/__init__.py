"""cartcohort: CAR-T cell therapy cohorts from raw clinical data to published analyses.

The public API is this module's ``__all__`` (guarded by ``tests/test_public_api.py``).
Names are imported lazily on first use, so ``import cartcohort`` and the command line
start fast even though the statistics pull in SciPy and statsmodels.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cartcohort._results import _version

__version__ = _version()

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # data standard, cohort, store
    "Cohort": "cartcohort.model.cohort",
    "json_schema": "cartcohort.model.standard",
    "STANDARD_VERSION": "cartcohort.model.standard",
    "read_cohort": "cartcohort.store",
    "write_cohort": "cartcohort.store",
    "export_cohort": "cartcohort.store",
    "MethodInfo": "cartcohort._results",
    # reading and validation
    "read_source": "cartcohort.ingest",
    "read_mapping": "cartcohort.ingest",
    "validate_cohort": "cartcohort.validate",
    "load_cohort": "cartcohort.validate",
    "load_cohort_with_report": "cartcohort.validate",
    "ValidationReport": "cartcohort.validate",
    "Issue": "cartcohort.validate",
    # demo data
    "demo_path": "cartcohort.demo",
    # survival
    "kaplan_meier": "cartcohort.analyse.km",
    "median_follow_up": "cartcohort.analyse.km",
    "KaplanMeierResult": "cartcohort.analyse.km",
    "FollowUpResult": "cartcohort.analyse.km",
    "logrank_test": "cartcohort.analyse.logrank",
    "logrank_trend_test": "cartcohort.analyse.logrank",
    "LogRankResult": "cartcohort.analyse.logrank",
    "LogRankTrendResult": "cartcohort.analyse.logrank",
    "cumulative_incidence": "cartcohort.analyse.competing",
    "fine_gray": "cartcohort.analyse.competing",
    "CumulativeIncidenceResult": "cartcohort.analyse.competing",
    "FineGrayResult": "cartcohort.analyse.competing",
    # contingency tables and group comparisons
    "fisher_exact": "cartcohort.analyse.contingency",
    "chi_square_test": "cartcohort.analyse.contingency",
    "cochran_armitage_test": "cartcohort.analyse.contingency",
    "FisherExactResult": "cartcohort.analyse.contingency",
    "ChiSquareTestResult": "cartcohort.analyse.contingency",
    "TrendTestResult": "cartcohort.analyse.contingency",
    "t_test": "cartcohort.analyse.compare",
    "mann_whitney_test": "cartcohort.analyse.compare",
    "anova": "cartcohort.analyse.compare",
    "kruskal_wallis_test": "cartcohort.analyse.compare",
    "correlation": "cartcohort.analyse.compare",
    "TTestResult": "cartcohort.analyse.compare",
    "MannWhitneyResult": "cartcohort.analyse.compare",
    "AnovaResult": "cartcohort.analyse.compare",
    "KruskalWallisResult": "cartcohort.analyse.compare",
    "CorrelationResult": "cartcohort.analyse.compare",
    "cox_ph": "cartcohort.analyse.cox",
    "CoxResult": "cartcohort.analyse.cox",
    "PHTestResult": "cartcohort.analyse.cox",
    "logistic_regression": "cartcohort.analyse.logistic",
    "LogisticResult": "cartcohort.analyse.logistic",
    # counting-process data, delayed entry, restricted mean survival (issue 16)
    "to_counting_process": "cartcohort.analyse.counting",
    "mantel_byar_test": "cartcohort.analyse.counting",
    "simon_makuch": "cartcohort.analyse.counting",
    "rmst": "cartcohort.analyse.rmst",
    "milestone_difference": "cartcohort.analyse.rmst",
    "RMSTResult": "cartcohort.analyse.rmst",
    "MilestoneResult": "cartcohort.analyse.rmst",
    # clinical derivations
    "grade_crs": "cartcohort.derive.toxicity",
    "summarize_crs": "cartcohort.derive.toxicity",
    "grade_icans": "cartcohort.derive.toxicity",
    "summarize_icans": "cartcohort.derive.toxicity",
    "crs_concordance": "cartcohort.derive.toxicity",
    "concordance_table": "cartcohort.derive.toxicity",
    "derive_burden": "cartcohort.derive.burden",
    "derive_response": "cartcohort.derive.response",
    "derive_endpoints": "cartcohort.derive.endpoints",
    "derive_endpoints_with_exclusions": "cartcohort.derive.endpoints",
    "EndpointsResult": "cartcohort.derive.endpoints",
    "landmark": "cartcohort.derive.endpoints",
    "to_adtte": "cartcohort.derive.endpoints",
    "kinetics_nca": "cartcohort.derive.kinetics",
    "compare_infusions": "cartcohort.derive.kinetics",
    "KineticsResult": "cartcohort.derive.kinetics",
    "BLQPolicy": "cartcohort.derive.kinetics",
    "summarize_labs": "cartcohort.derive.labs",
    "peak_table": "cartcohort.derive.labs",
    "DAYS_PER_MONTH": "cartcohort.derive.dates",
    "grade_lab_aes": "cartcohort.derive.toxicity.ctcae",
    "grade_clinical_aes": "cartcohort.derive.toxicity.ctcae",
    "worst_lab_aes": "cartcohort.derive.toxicity.ctcae",
    "ae_grade_table": "cartcohort.derive.toxicity.ctcae",
    "easix": "cartcohort.derive.risk_scores",
    "simplified_easix": "cartcohort.derive.risk_scores",
    "m_easix": "cartcohort.derive.risk_scores",
    "fit_standard_curve": "cartcohort.assay",
    "quantify_qpcr": "cartcohort.assay",
    "quantify_immunoassay": "cartcohort.assay",
    "StandardCurveResult": "cartcohort.assay",
    "QuantificationResult": "cartcohort.assay",
    "read_plate": "cartcohort.assay",
    "derive": "cartcohort.derive.dataset",
    "AnalysisDataset": "cartcohort.derive.dataset",
    # haematotoxicity (ICAHT) and B-ALL relapse / B-cell aplasia rules
    "grade_icaht": "cartcohort.derive.toxicity.icaht",
    "IcahtResult": "cartcohort.derive.toxicity.icaht",
    "derive_bcell_aplasia": "cartcohort.derive.bcell_aplasia",
    "BCellAplasiaResult": "cartcohort.derive.bcell_aplasia",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'cartcohort' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # let type checkers and IDEs see the real objects
    from cartcohort._results import MethodInfo
    from cartcohort.analyse.compare import (
        AnovaResult,
        CorrelationResult,
        KruskalWallisResult,
        MannWhitneyResult,
        TTestResult,
        anova,
        correlation,
        kruskal_wallis_test,
        mann_whitney_test,
        t_test,
    )
    from cartcohort.analyse.competing import (
        CumulativeIncidenceResult,
        FineGrayResult,
        cumulative_incidence,
        fine_gray,
    )
    from cartcohort.analyse.contingency import (
        ChiSquareTestResult,
        FisherExactResult,
        TrendTestResult,
        chi_square_test,
        cochran_armitage_test,
        fisher_exact,
    )
    from cartcohort.analyse.counting import mantel_byar_test, simon_makuch, to_counting_process
    from cartcohort.analyse.cox import CoxResult, PHTestResult, cox_ph
    from cartcohort.analyse.km import (
        FollowUpResult,
        KaplanMeierResult,
        kaplan_meier,
        median_follow_up,
    )
    from cartcohort.analyse.logistic import LogisticResult, logistic_regression
    from cartcohort.analyse.logrank import (
        LogRankResult,
        LogRankTrendResult,
        logrank_test,
        logrank_trend_test,
    )
    from cartcohort.analyse.rmst import MilestoneResult, RMSTResult, milestone_difference, rmst
    from cartcohort.assay import (
        QuantificationResult,
        StandardCurveResult,
        fit_standard_curve,
        quantify_immunoassay,
        quantify_qpcr,
        read_plate,
    )
    from cartcohort.demo import demo_path
    from cartcohort.derive.bcell_aplasia import BCellAplasiaResult, derive_bcell_aplasia
    from cartcohort.derive.burden import derive_burden
    from cartcohort.derive.dataset import AnalysisDataset, derive
    from cartcohort.derive.dates import DAYS_PER_MONTH
    from cartcohort.derive.endpoints import (
        EndpointsResult,
        derive_endpoints,
        derive_endpoints_with_exclusions,
        landmark,
        to_adtte,
    )
    from cartcohort.derive.kinetics import (
        BLQPolicy,
        KineticsResult,
        compare_infusions,
        kinetics_nca,
    )
    from cartcohort.derive.labs import peak_table, summarize_labs
    from cartcohort.derive.response import derive_response
    from cartcohort.derive.risk_scores import easix, m_easix, simplified_easix
    from cartcohort.derive.toxicity import (
        concordance_table,
        crs_concordance,
        grade_crs,
        grade_icans,
        summarize_crs,
        summarize_icans,
    )
    from cartcohort.derive.toxicity.ctcae import (
        ae_grade_table,
        grade_clinical_aes,
        grade_lab_aes,
        worst_lab_aes,
    )
    from cartcohort.derive.toxicity.icaht import IcahtResult, grade_icaht
    from cartcohort.ingest import read_mapping, read_source
    from cartcohort.model.cohort import Cohort
    from cartcohort.model.standard import STANDARD_VERSION, json_schema
    from cartcohort.store import export_cohort, read_cohort, write_cohort
    from cartcohort.validate import (
        Issue,
        ValidationReport,
        load_cohort,
        load_cohort_with_report,
        validate_cohort,
    )
