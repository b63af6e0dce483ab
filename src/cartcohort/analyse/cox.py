"""Cox proportional-hazards regression that reproduces R ``survival::coxph``.

:func:`cox_ph` fits the model by Newton-Raphson on the partial likelihood (Efron
or Breslow ties, optional strata) and returns a :class:`CoxResult` with the
coefficient table, R's three global tests (likelihood ratio, Wald, score),
Harrell's concordance with its standard error, and
:meth:`CoxResult.check_ph`, the proportional-hazards test of R >= 3.0
``cox.zph``. The numerical work is in :mod:`cartcohort.analyse._cox_engine`
(vectorised, O(n p^2) per Newton step) and :mod:`cartcohort.analyse._coxzph`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import get_args

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import linalg

from cartcohort._results import ChiSquareTest, MethodInfo, WarningCollector, frame_to_ard
from cartcohort._types import PHTransform, Ties
from cartcohort.analyse._cox_engine import (
    ConcordanceCounts,
    CoxEngine,
    NewtonFit,
    build_risk_sets,
    concordance,
    newton_raphson,
)
from cartcohort.analyse._cox_robust import (
    WeightedConcordance,
    pairwise_concordance,
    robust_variance,
)
from cartcohort.analyse._coxzph import zph_table
from cartcohort.analyse._data import (
    Design,
    as_event,
    as_time,
    check_full_rank,
    design_matrix,
    factor_codes,
    prepare,
)
from cartcohort.analyse._dist import chi2_sf, norm_ppf, norm_sf
from cartcohort.analyse._entry import as_start
from cartcohort.analyse._weights import (
    check_column_argument,
    check_robust_arguments,
    check_weights,
    cluster_codes,
    weight_values,
)
from cartcohort.errors import (
    AnalysisError,
    CollinearityError,
    ConvergenceError,
    DegenerateDataError,
)

FloatArray = npt.NDArray[np.float64]

#: R ``coxph.control()`` defaults: relative change in the log likelihood and iterations.
EPS = 1e-9
ITER_MAX = 20

_TABLE_COLUMNS = ["term", "coef", "se", "hr", "lower", "upper", "z", "p_value"]
_ROBUST_NOTE = (
    "the likelihood ratio and score tests assume independence of observations within a "
    "cluster, the Wald and robust score tests do not (R's summary.coxph note)"
)
_REFERENCE = "R survival::coxph (survival 3.5-3); Therneau & Grambsch (2000)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Concordance:
    """Harrell's concordance of the linear predictor, as R's ``concordance(fit)``.

    Attributes
    ----------
    estimate
        ``(concordant + tied_x / 2) / (concordant + discordant + tied_x)``.
    std_err
        Infinitesimal-jackknife standard error (R's ``sqrt(concordance(fit)$var)``);
        with ``cluster``, the influence is summed within clusters first.
    concordant, discordant, tied_x, tied_y, tied_xy
        Pair counts: ``tied_x`` pairs have equal linear predictors; ``tied_y``
        pairs are two deaths at the same time (not comparable); ``tied_xy`` both.
        With case weights a pair counts ``w_i w_j`` (a float), as in R.
    """

    estimate: float
    std_err: float
    concordant: float
    discordant: float
    tied_x: float
    tied_y: float
    tied_xy: float


@dataclass(frozen=True, slots=True)
class _FitState:
    """What :meth:`CoxResult.check_ph` needs from the fit (kept private)."""

    engine: CoxEngine
    beta: FloatArray
    design: Design
    clusters: npt.NDArray[np.int64] | None = None  # sorted row order


@dataclass(frozen=True, slots=True, kw_only=True)
class PHTestResult:
    """Test of proportional hazards for a Cox model (R ``cox.zph``).

    Attributes
    ----------
    table
        Columns ``term, statistic, df, p_value``; one row per covariate (a factor
        is one row on k-1 df) or per design column, then ``GLOBAL``.
    transform
        The time transform ``g(t)``: ``"km"``, ``"rank"``, ``"identity"`` or ``"log"``.
    per_term
        Whether rows are design columns (R ``terms = FALSE``) or covariates.
    method, warnings
        How the numbers were computed, and any warnings raised.
    """

    table: pd.DataFrame
    transform: str
    per_term: bool
    method: MethodInfo
    warnings: tuple[str, ...] = ()

    @property
    def global_test(self) -> ChiSquareTest:
        """The ``GLOBAL`` row as a :class:`ChiSquareTest`."""
        row = self.table.iloc[-1]
        return ChiSquareTest(
            statistic=float(row["statistic"]), df=float(row["df"]), p_value=float(row["p_value"])
        )

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: one row per (term, statistic)."""
        return frame_to_ard(self.table, analysis="cox_ph_check", keys=["term"])

    def __repr__(self) -> str:
        g = self.global_test
        return (
            f"PHTestResult(transform={self.transform!r}, rows={len(self.table) - 1}, "
            f"global={g.statistic:.4g} on {g.df:g} df, p={g.p_value:.3g})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CoxResult:
    """A fitted Cox proportional-hazards model.

    Attributes
    ----------
    table
        Columns ``term, coef, se, hr, lower, upper, z, p_value``: log hazard ratio,
        its standard error, hazard ratio with its confidence interval, Wald z and
        two-sided p-value. One row per design column (``sex[M]``, ``age``).
    covariance
        Variance-covariance matrix of the coefficients (inverse information).
    lr_test, wald_test, score_test
        R's ``summary(coxph)`` likelihood-ratio, Wald and score (log-rank) tests
        that all coefficients are 0; the score test is computed at beta = 0.
    concordance
        Harrell's C with standard error (:class:`Concordance`). Computed on first
        access (an O(n log n) pass over the subjects, about as long as the fit
        itself at 10^6 rows) and kept; the value is the same either way.
    loglik
        Log partial likelihood at beta = 0 and at the estimate.
    n, n_events, n_excluded, exclusions
        Rows used, events, rows dropped for missing values and why.
    iterations, converged
        Newton-Raphson iterations (counted as R does) and convergence.
    confidence_level, ties, strata
        Options used.
    naive_covariance, robust_score_test
        With ``robust`` (or ``cluster``): the model-based variance (R's
        ``fit$naive.var``; ``table`` then also has ``naive_se``) and R's robust score
        test (``fit$rscore``); ``covariance``, ``se``, the intervals, z, p and
        ``wald_test`` then use the robust variance, as R's ``summary``. ``None``
        otherwise.
    weights, cluster
        The case-weight and cluster columns (None when not used).
    method, warnings
        How the numbers were computed, and any warnings raised.
    """

    table: pd.DataFrame
    covariance: FloatArray
    lr_test: ChiSquareTest
    wald_test: ChiSquareTest
    score_test: ChiSquareTest
    loglik: tuple[float, float]
    n: int
    n_events: int
    n_excluded: int
    exclusions: tuple[str, ...]
    iterations: int
    converged: bool
    confidence_level: float
    ties: str
    strata: tuple[str, ...]
    method: MethodInfo
    warnings: tuple[str, ...] = ()
    naive_covariance: FloatArray | None = None
    robust_score_test: ChiSquareTest | None = None
    weights: str | None = None
    cluster: str | None = None
    _state: _FitState = field(repr=False, compare=False)
    _lazy: dict[str, Concordance] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def concordance(self) -> Concordance:
        """Harrell's C with standard error, computed on first access and kept."""
        cached = self._lazy.get("concordance")
        if cached is None:
            state = self._state
            lp = np.einsum("ki,k->i", state.engine.xt, state.beta)
            cc: object
            if state.engine.weights is None and state.clusters is None:
                cc = concordance(state.engine.rs, lp)
            else:
                cc = pairwise_concordance(state.engine.rs, lp, state.engine.weights, state.clusters)
            assert isinstance(cc, ConcordanceCounts | WeightedConcordance)
            cached = Concordance(
                estimate=cc.estimate,
                std_err=cc.std_err,
                concordant=cc.concordant,
                discordant=cc.discordant,
                tied_x=cc.tied_x,
                tied_y=cc.tied_y,
                tied_xy=cc.tied_xy,
            )
            self._lazy["concordance"] = cached
        return cached

    @property
    def terms(self) -> tuple[str, ...]:
        """Names of the coefficients (design columns)."""
        return tuple(self.table["term"])

    def check_ph(self, transform: PHTransform = "km", *, per_term: bool = False) -> PHTestResult:
        """Test proportional hazards as R ``cox.zph(fit, transform, terms = !per_term)``.

        Parameters
        ----------
        transform
            Time transform ``g(t)``: ``"km"`` (R's default, ``1 - KM(t-)`` of all
            rows ignoring strata), ``"rank"``, ``"identity"`` or ``"log"``.
        per_term
            ``False`` (R's default ``terms = TRUE``): one row per covariate, a
            factor with k levels tested jointly on k-1 df. ``True``: one row per
            design column (R ``terms = FALSE``).

        Returns
        -------
        PHTestResult
            Table ``term, statistic, df, p_value`` ending with ``GLOBAL``.

        Raises
        ------
        AnalysisError
            Unknown transform, or ``"log"`` with a time of 0, or a fit with case
            weights (not implemented; R's ``cox.zph`` does support it).

        Notes
        -----
        This is the survival >= 3.0 algorithm: the score test of adding
        ``g(t) * x`` at the fitted coefficients with the full 2p x 2p information
        matrix (Efron or Breslow as fitted, within strata). It differs from the
        survival 2.x / lifelines test, which used scaled Schoenfeld residuals and an
        averaged variance.

        References
        ----------
        Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics
        based on weighted residuals. Biometrika 81:515-526.
        Therneau T (2023). survival: A Package for Survival Analysis in R, 3.5-3.
        """
        if transform not in get_args(PHTransform):
            msg = (
                f"`transform` must be one of {list(get_args(PHTransform))}; got {transform!r}. "
                "R's default is 'km'."
            )
            raise AnalysisError(msg)
        if not isinstance(per_term, bool):
            msg = f"`per_term` must be True or False; got {per_term!r}."
            raise AnalysisError(msg)
        if self.weights is not None:
            msg = (
                f"check_ph() is not available for a fit with case weights ({self.weights!r}): "
                "the weighted cox.zph test is not implemented here. Run R's "
                "cox.zph(coxph(..., weights = ...)) or check proportional hazards on the "
                "unweighted fit."
            )
            raise AnalysisError(msg)
        design = self._state.design
        if per_term:
            groups = [(name, [j]) for j, name in enumerate(design.terms)]
        else:
            variables = list(dict.fromkeys(design.variables))
            groups = [
                (v, [j for j, var in enumerate(design.variables) if var == v]) for v in variables
            ]
        table = zph_table(self._state.engine, self._state.beta, transform, groups)
        method = MethodInfo(
            estimator="Proportional-hazards score test (cox.zph)",
            description=(
                f"Score test for adding g(t)*x to the Cox model, g = {transform} transform of "
                "time, with the full information matrix (R survival >= 3.0 cox.zph)"
            ),
            options={"transform": transform, "per_term": per_term, "ties": self.ties},
            reference="R survival::cox.zph (survival 3.5-3); Grambsch & Therneau (1994)",
        )
        return PHTestResult(table=table, transform=transform, per_term=per_term, method=method)

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (a copy)."""
        return self.table.copy()

    def to_ard(self) -> pd.DataFrame:
        """Long ARD rows: coefficient statistics per term, then model-level statistics."""
        coefs = frame_to_ard(self.table, analysis="cox_ph", keys=["term"])
        model = {
            "n": self.n,
            "n_events": self.n_events,
            "n_excluded": self.n_excluded,
            "loglik_null": self.loglik[0],
            "loglik": self.loglik[1],
            "lr_statistic": self.lr_test.statistic,
            "lr_df": self.lr_test.df,
            "lr_p_value": self.lr_test.p_value,
            "wald_statistic": self.wald_test.statistic,
            "wald_df": self.wald_test.df,
            "wald_p_value": self.wald_test.p_value,
            "score_statistic": self.score_test.statistic,
            "score_df": self.score_test.df,
            "score_p_value": self.score_test.p_value,
            "concordance": self.concordance.estimate,
            "concordance_std_err": self.concordance.std_err,
        }
        if self.robust_score_test is not None:
            model["robust_score_statistic"] = self.robust_score_test.statistic
            model["robust_score_df"] = self.robust_score_test.df
            model["robust_score_p_value"] = self.robust_score_test.p_value
        rows = pd.DataFrame(
            {
                "analysis": "cox_ph",
                "term": "(model)",
                "stat_name": list(model),
                "stat_value": [float(v) for v in model.values()],
            }
        )
        return pd.concat([coefs, rows], ignore_index=True)

    def __repr__(self) -> str:
        return (
            f"CoxResult(n={self.n}, n_events={self.n_events}, terms={len(self.table)}, "
            f"ties={self.ties!r}, concordance={self.concordance.estimate:.3f}, "
            f"lr_test={self.lr_test.statistic:.4g} on {self.lr_test.df:g} df)"
        )


def _as_list(value: str | Sequence[str] | None, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    names = list(value)
    if not all(isinstance(v, str) for v in names):
        msg = f"`{name}` must be a column name or a list of column names; got {value!r}."
        raise AnalysisError(msg)
    return names


def _validate(covariates: object, ties: object, confidence_level: object) -> list[str]:
    if isinstance(covariates, str):
        msg = (
            f"`covariates` must be a list of column names; got the string {covariates!r}. "
            f"Did you mean [{covariates!r}]?"
        )
        raise AnalysisError(msg)
    if not isinstance(covariates, Sequence) or not all(isinstance(c, str) for c in covariates):
        msg = f"`covariates` must be a list of column names; got {covariates!r}."
        raise AnalysisError(msg)
    if len(covariates) == 0:
        msg = "`covariates` is empty; a Cox model needs at least one covariate."
        raise AnalysisError(msg)
    if ties not in get_args(Ties):
        msg = f"`ties` must be 'efron' (R's default) or 'breslow'; got {ties!r}."
        raise AnalysisError(msg)
    if (
        isinstance(confidence_level, bool)
        or not isinstance(confidence_level, int | float)
        or not 0 < confidence_level < 1
    ):
        hint = (
            f" Did you mean {confidence_level / 100:g}?"
            if isinstance(confidence_level, int | float)
            and not isinstance(confidence_level, bool)
            and 1 < confidence_level < 100
            else ""
        )
        msg = f"`confidence_level` must be in (0, 1); got {confidence_level!r}.{hint}"
        raise AnalysisError(msg)
    return list(covariates)


def _check_information(
    information: FloatArray, engine: CoxEngine, terms: Sequence[str], *, stratified: bool
) -> None:
    """Raise CollinearityError when the information at beta = 0 is singular.

    ``check_full_rank`` catches collinear columns; this catches what only the
    risk sets reveal, such as a covariate that is constant within every stratum.
    The information is compared with its scale had each column varied as it does
    overall (``n_events * var(x)``), so the test is unit free.
    """
    xt = engine.xt  # centred design, p x n
    ref = np.sqrt(engine.rs.n_deaths * np.einsum("ki,ki->k", xt, xt) / xt.shape[1])
    scaled = information / np.outer(ref, ref)
    bad = [t for t, v in zip(terms, np.diag(scaled), strict=True) if not v > 1e-10]
    if not bad:
        _, r, piv = linalg.qr(scaled, pivoting=True)
        diag = np.abs(np.diag(r))
        rank = int(np.sum(diag > diag[0] * 1e-10))
        bad = [terms[j] for j in piv[rank:]]
    if bad:
        where = " within strata" if stratified else ""
        msg = (
            f"Covariates carry no information{where}: {', '.join(bad)} "
            f"{'is' if len(bad) == 1 else 'are'} constant or collinear within the risk sets "
            "(R would report NA). Remove them from the model."
        )
        raise CollinearityError(msg)


def _infinite_terms(fit_score: FloatArray, cov: FloatArray, beta: FloatArray) -> list[int]:
    """R's check: the Newton step still wanted is large although the likelihood stopped."""
    step = np.abs(fit_score @ cov)
    flagged = ~np.isfinite(fit_score) | ((step > EPS) & (step > np.sqrt(EPS) * np.abs(beta)))
    return [int(j) for j in np.flatnonzero(flagged)]


def _report_convergence(
    *, converged: bool, infinite: list[str], collector: WarningCollector
) -> None:
    """R's convergence diagnostics: raise, or warn naming the diverging terms."""
    if not converged and not infinite:
        msg = (
            f"The Cox model did not converge in {ITER_MAX} Newton-Raphson iterations "
            "(R: 'Ran out of iterations and did not converge') and no coefficient is "
            "diverging. Check the covariates' scaling and coding."
        )
        raise ConvergenceError(msg)
    for name in infinite:
        stopped = (
            "the partial likelihood converged before it did"
            if converged
            else f"it was still growing after {ITER_MAX} iterations (no convergence)"
        )
        collector.warn(
            f"Coefficient of {name!r} may be infinite: {stopped} (monotone likelihood, e.g. "
            "the covariate separates events from non-events; R: 'Loglik converged before "
            "variable ...' / 'coefficient may be infinite'). Its hazard ratio, standard error "
            "and Wald test are not meaningful; use the likelihood-ratio test, merge levels, or "
            "a penalised (Firth) Cox model."
        )


def _sorted_centred_transpose(matrix: FloatArray, order: npt.NDArray[np.intp]) -> FloatArray:
    """Centred design in the engine's row order, transposed (p x n), one column at a time."""
    means = matrix.mean(axis=0)
    xt = np.empty((matrix.shape[1], matrix.shape[0]))
    for k in range(matrix.shape[1]):  # covariates, not subjects
        np.take(matrix[:, k], order, out=xt[k])
        xt[k] -= means[k]
    return xt


def _strata_codes(frame: pd.DataFrame, strata: list[str]) -> npt.NDArray[np.intp] | None:
    if not strata:
        return None
    # lexicographic in the strata's level orders, as groupby(strata, sort=True).ngroup()
    combined = np.zeros(len(frame), dtype=np.int64)
    for name in strata:
        levels, codes = factor_codes(frame[name])
        combined = combined * len(levels) + codes
    return np.asarray(np.unique(combined, return_inverse=True)[1].ravel(), dtype=np.intp)


def cox_ph(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: Sequence[str],
    strata: str | Sequence[str] | None = None,
    ties: Ties = "efron",
    confidence_level: float = 0.95,
    start: str | None = None,
    weights: str | None = None,
    robust: bool | None = None,
    cluster: str | None = None,
) -> CoxResult:
    """Fit a Cox proportional-hazards model, reproducing R ``survival::coxph``.

    Parameters
    ----------
    data
        One row per subject, or with ``start``, one row per interval of a
        subject's follow-up (counting-process data, see
        :func:`~cartcohort.analyse.counting.to_counting_process`).
    time
        Column of follow-up times (days since infusion; any unit, >= 0); with
        ``start``, the end of each interval.
    event
        Column of event indicators: 1/True = event, 0/False = censored.
    covariates
        Columns entering the model. Numeric columns enter as they are; booleans,
        strings and Categoricals are factors with treatment coding (first level,
        or the first Categorical category, is the reference).
    strata
        Column name(s) defining strata: each stratum has its own baseline hazard
        (R ``+ strata(...)``); no coefficient is estimated for them.
    ties
        ``"efron"`` (R's default) or ``"breslow"`` approximation for tied event
        times.
    confidence_level
        Level of the hazard-ratio confidence intervals.
    start
        Column of entry times (delayed entry, left truncation) or interval starts
        (time-dependent covariates): R's ``Surv(start, time, event)``. A row is
        at risk at ``t`` when ``start < t <= time``. ``None`` (default): everyone
        is at risk from time 0, which gives the same fit as a column of zeros.
    weights
        Column of case weights (R's ``coxph(..., weights = w)``), e.g. inverse
        probability of treatment weights: finite and > 0 (R refuses 0). The
        partial likelihood, its tests and the concordance are weighted; integer
        weights give the fit of the data with each row repeated that many times.
    robust
        ``True``: robust (sandwich) variance, R's ``coxph(..., robust = TRUE)``.
        Default ``None``: ``True`` when ``cluster`` is given, else ``False``.
        Recommended with non-integer (e.g. inverse-probability) weights, whose
        model-based variance is not valid.
    cluster
        Column identifying correlated rows (a patient infused twice, a centre):
        R's ``coxph(..., cluster = id)``; the robust variance sums the dfbeta
        residuals within each cluster. Nothing is clustered by default, also with
        ``start``: with split follow-up (one row per interval) R users write
        ``cluster = id`` so that a subject's intervals are one cluster; do the same.

    Returns
    -------
    CoxResult
        Coefficients, hazard ratios and CIs, LR/Wald/score tests, concordance,
        log likelihoods, counts; ``check_ph()`` tests proportional hazards.

    Raises
    ------
    AnalysisError
        Missing columns, invalid arguments, non-numeric times, a ``start`` not
        below its ``time`` (R: "Stop time must be > start time").
    DegenerateDataError
        No complete rows, or no events.
    CollinearityError
        Collinear or constant covariates (named in the message), including
        covariates constant within every stratum.
    ConvergenceError
        Newton-Raphson did not converge in 20 iterations (R's ``iter.max``).
    AnalysisError
        Weights that are not numbers, infinite, negative, 0 or all 0 (every such
        row is named), ``robust=False`` together with ``cluster``.

    Warns
    -----
    StatisticalWarning
        A coefficient may be infinite (monotone likelihood, e.g. a covariate that
        perfectly separates events): R's "Loglik converged before variable ...".

    Notes
    -----
    Newton-Raphson starts at beta = 0 and stops when the relative change of the
    log partial likelihood is at most 1e-9 (R ``coxph.control()`` defaults
    ``eps = 1e-9``, ``iter.max = 20``); a step that lowers the likelihood is
    shortened as in R's ``coxfit6``. The reported coefficients are those of the
    last evaluated step, as in R, and the variance is the inverse information
    there. The tests are those of ``summary(coxph)``: likelihood ratio
    ``2 (l(beta) - l(0))``, Wald ``beta' V^-1 beta`` and the score test at
    beta = 0. With one binary covariate and no tied event times, the score
    test equals the log-rank statistic of ``survdiff``; with ties it does not
    (the log-rank variance is the hypergeometric one, which corresponds to the
    exact partial likelihood).

    With ``start``, the likelihood, tests and ``check_ph`` are those of R's
    ``coxph(Surv(start, time, event) ~ ...)`` and ``cox.zph`` on that fit (whose
    ``km`` transform is the Kaplan-Meier estimate with entry times); ``n`` counts
    rows (intervals), as R's ``fit$n``. Splitting a subject's follow-up into
    contiguous intervals with unchanged covariates leaves the fit unchanged.
    Concordance follows R's ``concordance()`` for ``(start, stop]`` data: a death
    is compared with the rows at risk at its time (see :class:`Concordance`).

    Rows with a missing value in any used column are excluded (R's
    ``na.omit``), and reported in ``n_excluded`` and ``exclusions``. Unlike R,
    near-identical times are not merged (R's ``timefix``/``aeqSurv``); use
    integer days, as the house data standard does.

    With ``weights``, each death term of Efron's approximation is weighted by the
    mean weight of the tied deaths and the tied deaths' share of the risk set is
    their weighted risk (R's ``coxfit6``/``agfit4``). With ``robust``, ``covariance``
    is R's sandwich ``D'D`` (``D`` the case-weighted dfbeta residuals, summed
    within clusters), ``se``, z, p, intervals and the Wald test use it, and
    ``naive_se`` / ``naive_covariance`` keep the model-based variance; the
    likelihood-ratio and score tests stay model based (R's note: they assume
    independence within a cluster; the Wald and ``robust_score_test`` do not).

    Concordance is Harrell's C as ``concordance(fit)`` in R >= 3.0 (within
    strata, ``timewt = "n"``, ties in the linear predictor count 1/2, censored
    times equal to a death time count as longer), with R's infinitesimal
    jackknife standard error. lifelines' ``concordance_index_`` does not count
    censored-at-the-death-time pairs the same way; statsmodels ``PHReg`` defaults
    to Breslow ties.

    References
    ----------
    Cox DR (1972). Regression models and life-tables. JRSS B 34:187-220.
    Efron B (1977). The efficiency of Cox's likelihood function for censored
    data. JASA 72:557-565.
    Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox
    Model. Springer.
    Therneau T (2023). survival: A Package for Survival Analysis in R, 3.5-3.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "days": [5, 8, 12, 20, 25, 30, 41, 50],
    ...     "died": [1, 1, 0, 1, 1, 0, 1, 0],
    ...     "arm": ["A", "B", "A", "B", "A", "B", "A", "B"],
    ... })
    >>> fit = cox_ph(df, time="days", event="died", covariates=["arm"])
    >>> fit.terms
    ('arm[B]',)
    >>> round(float(fit.table["hr"].iloc[0]), 4)  # R: exp(coef(coxph(...))) = 0.5787373
    0.5787
    """
    cov_names = _validate(covariates, ties, confidence_level)
    strata_names = _as_list(strata, "strata")
    check_column_argument(start, "start")
    use_robust = check_robust_arguments(weights, robust, cluster)
    if use_robust and start is not None and cluster is None:
        msg = (
            "`robust=True` with `start` (counting-process data) needs `cluster`: a subject's "
            "intervals are not independent rows (R: 'one of cluster or id is needed'). "
            "Pass cluster=<subject id column>."
        )
        raise AnalysisError(msg)
    if weights is not None and isinstance(data, pd.DataFrame):
        check_weights(data, weights, zero_allowed=False)
    prep = prepare(
        data,
        {
            "time": time,
            "event": event,
            "covariates": cov_names,
            "strata": strata_names,
            "start": start,
            "weights": weights,
            "cluster": cluster,
        },
    )
    frame = prep.frame
    t = as_time(frame[time], time)
    t0 = None if start is None else as_start(frame[start], t, start=start, time=time)
    d = as_event(frame[event], event)
    n_events = int(d.sum())
    if n_events == 0:
        msg = (
            f"No events among the {len(frame)} complete rows (column {event!r} is all 0); "
            "a Cox model needs at least one event."
        )
        raise DegenerateDataError(msg)
    design = design_matrix(frame, cov_names)
    check_full_rank(design.matrix, design.terms, intercept=False)
    codes = _strata_codes(frame, strata_names)
    rs = build_risk_sets(t, d, codes, efron=ties == "efron", start=t0)
    w = weight_values(frame, weights)
    engine = CoxEngine(
        _sorted_centred_transpose(design.matrix, rs.order), rs, None if w is None else w[rs.order]
    )
    collector = WarningCollector()
    fit = newton_raphson(engine, eps=EPS, iter_max=ITER_MAX)
    _check_information(fit.initial.information, engine, design.terms, stratified=codes is not None)
    cov = np.linalg.inv(fit.final.information)
    cov = (cov + cov.T) / 2.0
    infinite = _infinite_terms(fit.final.score, cov, fit.beta)
    _report_convergence(
        converged=fit.converged,
        infinite=[design.terms[j] for j in infinite],
        collector=collector,
    )
    return _build_result(
        fit=fit,
        cov=cov,
        engine=engine,
        design=design,
        n_events=n_events,
        prep_n_excluded=prep.n_excluded,
        exclusions=prep.exclusions,
        confidence_level=float(confidence_level),
        ties=ties,
        strata=tuple(strata_names),
        collector=collector,
        start=start,
        robust=_Robust(
            on=use_robust,
            weights=weights,
            cluster=cluster,
            codes=_sorted_clusters(frame, cluster, rs.order),
        ),
    )


@dataclass(frozen=True, slots=True)
class _Robust:
    on: bool
    weights: str | None
    cluster: str | None
    codes: npt.NDArray[np.int64] | None


def _sorted_clusters(
    frame: pd.DataFrame, cluster: str | None, order: npt.NDArray[np.intp]
) -> npt.NDArray[np.int64] | None:
    codes = cluster_codes(frame, cluster)
    return None if codes is None else codes[order]


def _build_result(
    *,
    fit: NewtonFit,
    cov: FloatArray,
    engine: CoxEngine,
    design: Design,
    n_events: int,
    prep_n_excluded: int,
    exclusions: tuple[str, ...],
    confidence_level: float,
    ties: str,
    strata: tuple[str, ...],
    collector: WarningCollector,
    start: str | None = None,
    robust: _Robust | None = None,
) -> CoxResult:
    beta = fit.beta
    p = beta.size
    naive = cov
    rscore = None
    if robust is not None and robust.on:
        rv = robust_variance(engine, beta, naive, robust.codes)
        cov = rv.covariance
        rscore = ChiSquareTest(
            statistic=rv.score_statistic, df=p, p_value=float(chi2_sf(rv.score_statistic, p))
        )
    se = np.sqrt(np.diag(cov))
    zcrit = float(norm_ppf(0.5 + confidence_level / 2.0))
    z = beta / se
    with np.errstate(over="ignore"):  # an infinite coefficient gives an infinite limit, as R
        hr, lower, upper = np.exp(beta), np.exp(beta - zcrit * se), np.exp(beta + zcrit * se)
    table = pd.DataFrame(
        {
            "term": list(design.terms),
            "coef": beta,
            "se": se,
            "hr": hr,
            "lower": lower,
            "upper": upper,
            "z": z,
            "p_value": 2.0 * norm_sf(np.abs(z)),
        },
        columns=_TABLE_COLUMNS,
    )
    if rscore is not None:
        table.insert(3, "naive_se", np.sqrt(np.diag(naive)))
    lr = 2.0 * (fit.loglik - fit.loglik_null)
    wald = float(beta @ np.linalg.solve(cov, beta))
    method = _method(ties, confidence_level, strata, start, robust)
    return CoxResult(
        table=table,
        covariance=cov,
        lr_test=ChiSquareTest(statistic=lr, df=p, p_value=float(chi2_sf(lr, p))),
        wald_test=ChiSquareTest(statistic=wald, df=p, p_value=float(chi2_sf(wald, p))),
        score_test=ChiSquareTest(
            statistic=fit.score_test, df=p, p_value=float(chi2_sf(fit.score_test, p))
        ),
        loglik=(fit.loglik_null, fit.loglik),
        n=int(engine.rs.time.size),
        n_events=n_events,
        n_excluded=prep_n_excluded,
        exclusions=exclusions,
        iterations=fit.iterations,
        converged=fit.converged,
        confidence_level=confidence_level,
        ties=ties,
        strata=strata,
        method=method,
        warnings=collector.as_tuple(),
        naive_covariance=naive if rscore is not None else None,
        robust_score_test=rscore,
        weights=None if robust is None else robust.weights,
        cluster=None if robust is None else robust.cluster,
        _state=_FitState(
            engine=engine,
            beta=beta,
            design=design,
            clusters=None if robust is None else robust.codes,
        ),
    )


def _method(
    ties: str,
    confidence_level: float,
    strata: tuple[str, ...],
    start: str | None,
    robust: _Robust | None,
) -> MethodInfo:
    weights = None if robust is None else robust.weights
    on = robust is not None and robust.on
    cluster = None if robust is None else robust.cluster
    if on:
        variance = (
            f"robust sandwich variance, dfbeta residuals summed within {cluster} "
            f"(R coxph(..., cluster = {cluster}))"
            if cluster
            else "robust sandwich variance (R coxph(..., robust = TRUE))"
        )
    else:
        variance = "model-based variance (inverse information)"
    extra: dict[str, str | None] = {}
    if weights:
        extra["weights"] = weights
    if on:
        extra["variance"] = "robust"
        extra["cluster"] = cluster
        extra["note"] = _ROBUST_NOTE
    return MethodInfo(
        estimator="Cox proportional hazards",
        description=(
            f"Cox proportional-hazards regression, partial likelihood with {ties.capitalize()} "
            "ties"
            + (f", weighted by {weights}" if weights else "")
            + (f", stratified by {', '.join(strata)}" if strata else "")
            + (f", at risk from {start} (counting-process data)" if start else "")
            + f"; {variance}; Wald confidence intervals for hazard ratios"
        ),
        options={
            "ties": ties,
            "confidence_level": confidence_level,
            "strata": ", ".join(strata) or None,
            "eps": EPS,
            "iter_max": ITER_MAX,
            **({"start": start} if start else {}),
            **extra,
        },
        reference=_REFERENCE,
    )


__all__ = ["Concordance", "CoxResult", "PHTestResult", "cox_ph"]
