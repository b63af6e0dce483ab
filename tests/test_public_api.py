"""The public API is a contract: this test fails when a name is added or removed by accident.

To change the API on purpose, update ``EXPECTED`` in the same commit and say why.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import cartcohort

EXPECTED = sorted(
    [
        "__version__",
        # data standard, cohort, store
        "Cohort", "json_schema", "STANDARD_VERSION", "read_cohort", "write_cohort",
        "export_cohort", "MethodInfo",
        # reading and validation, demo data
        "read_source", "read_mapping", "validate_cohort", "load_cohort", "load_cohort_with_report",
        "ValidationReport", "Issue", "demo_path",
        # survival
        "kaplan_meier", "median_follow_up", "KaplanMeierResult", "FollowUpResult",
        "logrank_test", "logrank_trend_test", "LogRankResult", "LogRankTrendResult",
        "cumulative_incidence", "fine_gray", "CumulativeIncidenceResult", "FineGrayResult",
        # tables and group comparisons
        "fisher_exact", "chi_square_test", "cochran_armitage_test", "FisherExactResult",
        "ChiSquareTestResult", "TrendTestResult", "t_test", "mann_whitney_test", "anova",
        "kruskal_wallis_test", "correlation", "TTestResult", "MannWhitneyResult", "AnovaResult",
        "KruskalWallisResult", "CorrelationResult", "logistic_regression", "LogisticResult",
        "cox_ph", "CoxResult", "PHTestResult",
        # counting-process data, delayed entry, restricted mean survival (issue 16)
        "to_counting_process", "mantel_byar_test", "simon_makuch", "rmst", "milestone_difference",
        "RMSTResult", "MilestoneResult",
        # clinical derivations
        "grade_crs", "summarize_crs", "grade_icans", "summarize_icans", "crs_concordance",
        "concordance_table", "derive_burden", "derive_response", "derive_endpoints",
        "derive_endpoints_with_exclusions", "EndpointsResult", "landmark", "to_adtte",
        "kinetics_nca", "compare_infusions", "KineticsResult", "BLQPolicy", "summarize_labs",
        "peak_table", "DAYS_PER_MONTH", "derive", "AnalysisDataset", "grade_lab_aes",
        "grade_clinical_aes", "worst_lab_aes", "ae_grade_table", "easix", "simplified_easix",
        "m_easix",
        # haematotoxicity (ICAHT) and B-ALL relapse / B-cell aplasia rules
        "grade_icaht", "IcahtResult", "derive_bcell_aplasia", "BCellAplasiaResult",
        # assay quantification
        "fit_standard_curve", "quantify_qpcr", "quantify_immunoassay", "StandardCurveResult",
        "QuantificationResult", "read_plate",
    ]
)  # fmt: skip


def test_all_is_exactly_the_expected_public_api() -> None:
    assert cartcohort.__all__ == EXPECTED


def test_every_public_name_resolves() -> None:
    for name in cartcohort.__all__:
        assert getattr(cartcohort, name) is not None, name


def test_estimators_take_keyword_only_arguments_after_data() -> None:
    for name in cartcohort.__all__:
        obj = getattr(cartcohort, name)
        if not inspect.isfunction(obj) or name in {"json_schema", "read_cohort"}:
            continue
        params = list(inspect.signature(obj).parameters.values())
        positional = [p for p in params if p.kind is not p.KEYWORD_ONLY]
        assert len(positional) <= 2, (name, [p.name for p in positional])


def test_import_is_lazy_and_fast() -> None:
    code = "import sys, cartcohort; print('scipy' in sys.modules, 'statsmodels' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
