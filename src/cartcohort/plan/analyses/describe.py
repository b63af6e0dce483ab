"""Single-arm descriptive results (``type: describe``): one compact table of the numbers a
paper gives for its whole cohort (or per group with ``by``).

Each item of the plan entry becomes one or more rows of a tidy table (``kind``,
``statistic``, ``x``, ``n``, ``estimate``, ``std_err``, ``lower``, ``upper``, ``interval``,
``unit``, ``note``), rendered by :mod:`cartcohort.render.describe`:

- ``rate``: x/n and the exact Clopper-Pearson 95 % CI
  (:func:`cartcohort.analyse.contingency.proportion_ci`, R ``binom.test``);
- ``km``: Kaplan–Meier estimates at fixed times with the Greenwood SE and pointwise CI
  (R ``summary(survfit(...), times = )``) and the median with its CI
  (:func:`cartcohort.analyse.km.kaplan_meier`);
- ``median``: median with range (min–max) and/or IQR (quartiles as R ``quantile``'s
  default, type 7);
- ``followup``: median follow-up by reverse Kaplan–Meier
  (:func:`cartcohort.analyse.km.median_follow_up`) or the median (range) of observed
  follow-up times, of all patients or of those censored (``among``);
- ``onset``: median (range) day of CRS or ICANS onset among patients with the event;
- ``incidence``: any and severe CRS or ICANS (x/n, exact CI), on the data's grading scale.

An item the cohort cannot give (a missing column or endpoint, no patient in a
denominator, a time after the last follow-up) is a row with the reason in ``note``
("not computed: ..."), shown in the table; the analysis is skipped only when no item can
be computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cartcohort._results import MethodInfo
from cartcohort.analyse.contingency import proportion_ci
from cartcohort.analyse.km import kaplan_meier, median_follow_up
from cartcohort.ard import AnalysisOutput, TableOutput
from cartcohort.derive.dates import DAYS_PER_MONTH
from cartcohort.errors import CartcohortError
from cartcohort.plan.analyses._common import (
    Ard,
    Skip,
    present_levels,
    require_columns,
    require_endpoint,
)
from cartcohort.plan.context import Context
from cartcohort.plan.schema import (
    Describe,
    DescribeItem,
    FollowupItem,
    IncidenceItem,
    KmItem,
    MedianItem,
    OnsetItem,
    RateItem,
)
from cartcohort.render.describe import DESCRIBE_COLUMNS

#: The group label of the whole population.
ALL = "All patients"

_QUANTILES = MethodInfo(
    estimator="Median and quantiles",
    description=(
        "Continuous variables are given as median with range (minimum–maximum) or "
        "interquartile range (quartiles by linear interpolation, R quantile type 7)."
    ),
    reference="R stats::median, stats::quantile (type = 7)",
)
_OBSERVED_FU = MethodInfo(
    estimator="Observed follow-up",
    description=(
        "Median follow-up as the median (range) of observed follow-up times (days from "
        "infusion to the last contact or the event)."
    ),
    reference="R stats::median, range",
)


@dataclass
class _Rows:
    """Rows, methods and warnings collected over the items."""

    rows: list[dict[str, object]] = field(default_factory=list)
    methods: list[MethodInfo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, group: str, kind: str, statistic: str, **values: object) -> None:
        row: dict[str, object] = {
            "group": group,
            "kind": kind,
            "statistic": statistic,
            "x": np.nan,
            "n": np.nan,
            "estimate": np.nan,
            "std_err": np.nan,
            "lower": np.nan,
            "upper": np.nan,
            "interval": "",
            "unit": "",
            "note": "",
        }
        row.update(values)
        self.rows.append(row)

    def missing(self, group: str, kind: str, statistic: str, reason: str) -> None:
        # the row itself says why (in the report table and the CSV); not repeated as a
        # warning under the table
        self.add(group, kind, statistic, note=f"not computed: {reason}")

    def method(self, info: MethodInfo) -> None:
        if info not in self.methods:
            self.methods.append(info)


# ----------------------------------------------------------------------------------------
# items
# ----------------------------------------------------------------------------------------


def _flags(patients: pd.DataFrame, column: str) -> pd.Series:
    """A yes/no column as a nullable boolean Series (skips for any other column)."""
    values = patients[column]
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    shown = ", ".join(map(str, values.dropna().unique()[:4]))
    msg = f"{column!r} is not a yes/no column (values: {shown}); `rate` counts yes/no columns"
    raise Skip(msg)


def _rate(out: _Rows, group: str, flags: pd.Series, statistic: str, *, kind: str = "rate") -> None:
    known = flags.dropna()
    n_missing = len(flags) - len(known)
    note = f"{n_missing} without a value, not counted" if n_missing else ""
    if known.empty:
        out.missing(group, kind, statistic, "no patient has a value")
        return
    res = proportion_ci(int(known.sum()), len(known))
    out.method(res.method)
    out.add(
        group,
        kind,
        statistic,
        x=res.x,
        n=res.n,
        estimate=res.estimate,
        lower=res.lower,
        upper=res.upper,
        interval="95% CI",
        unit="proportion",
        note=note,
    )


def _run_rate(item: RateItem, ctx: Context, patients: pd.DataFrame, group: str, out: _Rows) -> None:
    label = item.label or ctx.title_of(item.rate)
    if item.of is not None:
        label = item.label or f"{ctx.title_of(item.rate)} of {ctx.title_of(item.of)}"
    try:
        require_columns(ctx, item.rate, item.of)
        flags = _flags(patients, item.rate)
        if item.of is not None:
            of = _flags(patients, item.of)
            flags = flags[of.fillna(value=False).astype(bool)]
    except Skip as exc:
        out.missing(group, "rate", label, str(exc))
        return
    _rate(out, group, flags, label)


def _endpoint_rows(ctx: Context, param: str, patients: pd.DataFrame) -> pd.DataFrame:
    """Endpoint rows of ``patients``; skip when some patients' endpoint could not be derived.

    A Kaplan–Meier estimate or a follow-up from the others would be biased: which
    patients lack an endpoint depends on what was recorded (on the published seed-002
    sheet only the three who relapsed have an EFS). Patients to whom the endpoint does
    not apply (LFS of non-responders) are not counted as missing.
    """
    rows = require_endpoint(ctx, param)
    ids = set(patients["patient_id"])
    rows = rows[rows["patient_id"].isin(ids)]
    excl = ctx.dataset.endpoint_exclusions
    excl = excl[(excl["param"] == param) & excl["patient_id"].isin(ids)]
    excl = excl[excl["reason"].astype(str).str.startswith("not derivable")]
    if not excl.empty:
        counts = excl.drop_duplicates("patient_id")["reason"].value_counts()
        reasons = "; ".join(
            f"{n} {str(r).removeprefix('not derivable: ')}" for r, n in counts.items()
        )
        msg = (
            f"{excl['patient_id'].nunique()} of {len(ids)} patients have no {param} "
            f"({reasons}); an estimate from the other {rows['patient_id'].nunique()} would "
            "leave patients out by what was recorded. Add the missing values"
        )
        raise Skip(msg)
    if rows.empty:
        msg = f"no patient of this group has the endpoint {param}"
        raise Skip(msg)
    return rows


def _run_km(item: KmItem, ctx: Context, patients: pd.DataFrame, group: str, out: _Rows) -> None:
    param = item.km.upper()
    name = item.label or param
    times = [(m * DAYS_PER_MONTH, f"{m:g} months") for m in item.at_months]
    times += [(float(d), f"day {d}") for d in item.at_days]
    try:
        rows = _endpoint_rows(ctx, param, patients)
    except Skip as exc:
        for _, when in times:
            out.missing(group, "km", f"{name} at {when}", str(exc))
        if item.median:
            out.missing(group, "km_median", f"Median {name}", str(exc))
        return
    km = kaplan_meier(rows, time="time_days", event="event", ci_method=item.ci_method)
    out.method(km.method)
    out.warnings.extend(km.warnings)
    at = km.at([t for t, _ in times]) if times else pd.DataFrame()
    last = float(rows["time_days"].max())
    for t, when in times:
        hit = at[np.isclose(at["time"].astype(float), t)] if not at.empty else at
        statistic = f"{name} at {when}"
        if hit.empty:
            out.missing(group, "km", statistic, f"follow-up ends at day {last:g}, before day {t:g}")
            continue
        rec = hit.iloc[0]
        out.add(
            group,
            "km",
            statistic,
            n=km.n,
            estimate=float(rec["estimate"]),
            std_err=float(rec["std_err"]) if item.se else np.nan,
            lower=float(rec["lower"]),
            upper=float(rec["upper"]),
            interval="95% CI",
            unit="proportion",
        )
    if item.median:
        med = km.median.iloc[0]
        out.add(
            group,
            "km_median",
            f"Median {name}",
            n=km.n,
            x=km.n_events,
            estimate=float(med["estimate"]),
            lower=float(med["lower"]),
            upper=float(med["upper"]),
            interval="95% CI",
            unit="days",
        )


def _distribution(
    out: _Rows,
    group: str,
    kind: str,
    statistic: str,
    values: pd.Series,
    *,
    use_range: bool,
    use_iqr: bool,
    unit: str,
    note: str = "",
) -> None:
    numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype="float64")
    if numbers.size == 0:
        out.missing(group, kind, statistic, "no patient has a value")
        return
    median = float(np.median(numbers))
    intervals: list[tuple[str, float, float]] = []
    if use_range:
        intervals.append(("range", float(numbers.min()), float(numbers.max())))
    if use_iqr:
        q1, q3 = np.quantile(numbers, [0.25, 0.75])
        intervals.append(("IQR", float(q1), float(q3)))
    if not intervals:
        intervals.append(("", np.nan, np.nan))
    for interval, lo, hi in intervals:
        out.add(
            group,
            kind,
            statistic,
            n=int(numbers.size),
            estimate=median,
            lower=lo,
            upper=hi,
            interval=interval,
            unit=unit,
            note=note,
        )


def _run_median(
    item: MedianItem, ctx: Context, patients: pd.DataFrame, group: str, out: _Rows
) -> None:
    label = item.label or ctx.title_of(item.median)
    try:
        require_columns(ctx, item.median)
    except Skip as exc:
        out.missing(group, "median", label, str(exc))
        return
    raw = patients[item.median]
    numeric = pd.to_numeric(raw, errors="coerce")
    if bool((numeric.isna() & raw.notna()).any()):
        out.missing(group, "median", label, f"{item.median!r} is not numeric")
        return
    n_missing = int(numeric.isna().sum())
    note = f"{n_missing} without a value" if n_missing else ""
    out.method(_QUANTILES)
    _distribution(
        out,
        group,
        "median",
        label,
        numeric,
        use_range=item.range,
        use_iqr=item.iqr,
        unit="days" if item.median.endswith(("_day", "_days")) else "",
        note=note,
    )


def _run_followup(
    item: FollowupItem, ctx: Context, patients: pd.DataFrame, group: str, out: _Rows
) -> None:
    param = item.followup.upper()
    who = "censored (event-free) patients" if item.among == "censored" else "all patients"
    if item.method == "reverse_km":
        statistic = item.label or f"Median follow-up ({param}, reverse Kaplan–Meier)"
    else:
        statistic = item.label or f"Median observed follow-up ({param}, {who})"
    try:
        rows = _endpoint_rows(ctx, param, patients)
    except Skip as exc:
        out.missing(group, "followup", statistic, str(exc))
        return
    if item.method == "reverse_km":
        if item.among == "censored":
            out.missing(
                group,
                "followup",
                statistic,
                "the reverse Kaplan–Meier uses every patient; `among: censored` is for "
                "method observed_median_range",
            )
            return
        try:
            fu = median_follow_up(rows, time="time_days", event="event")
        except CartcohortError as exc:
            out.missing(group, "followup", statistic, str(exc).rstrip("."))
            return
        out.method(fu.method)
        out.warnings.extend(fu.warnings)
        out.add(
            group,
            "followup",
            statistic,
            n=fu.n,
            x=fu.n_censored,
            estimate=fu.estimate,
            lower=fu.lower,
            upper=fu.upper,
            interval="95% CI",
            unit="days",
        )
        return
    times = rows if item.among == "all" else rows[rows["event"] == 0]
    out.method(_OBSERVED_FU)
    _distribution(
        out,
        group,
        "followup",
        statistic,
        times["time_days"],
        use_range=True,
        use_iqr=False,
        unit="days",
    )


def _onset_days(ctx: Context, patients: pd.DataFrame, event: str) -> pd.Series:
    """Onset day of CRS or ICANS of each patient with the event (NaN when unknown)."""
    if event == "crs":
        if "crs_onset_day" not in patients.columns:
            return pd.Series(np.nan, index=patients["patient_id"], dtype="float64")
        onset = pd.to_numeric(patients["crs_onset_day"], errors="coerce")
        return pd.Series(onset.to_numpy(dtype="float64"), index=patients["patient_id"])
    daily = ctx.dataset.icans_daily
    days = pd.Series(np.nan, index=patients["patient_id"], dtype="float64")
    if daily is None or daily.empty:
        return days
    graded = daily[(pd.to_numeric(daily["grade"], errors="coerce") >= 1) & (daily["day"] >= 0)]
    first = graded.groupby("patient_id")["day"].min()
    return days.index.to_series().map(first).astype("float64")


def _run_onset(
    item: OnsetItem, ctx: Context, patients: pd.DataFrame, group: str, out: _Rows
) -> None:
    name = "CRS" if item.onset == "crs" else "ICANS"
    flag = "any_crs" if item.onset == "crs" else "any_icans"
    statistic = item.label or f"Day of {name} onset (patients with {name})"
    try:
        require_columns(ctx, flag)
    except Skip as exc:
        out.missing(group, "onset", statistic, str(exc))
        return
    with_event = patients[_flags(patients, flag).fillna(value=False).to_numpy(dtype=bool)]
    if with_event.empty:
        out.missing(group, "onset", statistic, f"no patient had {name}")
        return
    days = _onset_days(ctx, with_event, item.onset)
    unknown = int(days.isna().sum())
    note = f"{unknown} of {len(days)} with {name} without an onset day" if unknown else ""
    if unknown == len(days):
        source = (
            "crs_onset_day or daily CRS grades" if item.onset == "crs" else "daily ICANS grades"
        )
        out.missing(group, "onset", statistic, f"no onset day is known (needs {source})")
        return
    out.method(_QUANTILES)
    _distribution(
        out,
        group,
        "onset",
        statistic,
        days,
        use_range=True,
        use_iqr=False,
        unit="days",
        note=note,
    )


#: Display names of grading scales (the data standard's codes and the daily grades' names).
_SCALES = {
    "astct": "ASTCT 2019",
    "ASTCT-2019": "ASTCT 2019",
    "lee2014": "Lee 2014",
    "penn": "Penn",
    "mskcc": "MSKCC",
    "cartox": "CARTOX",
    "ctcae_v4.03": "CTCAE v4.03",
    "ctcae_v5.0": "CTCAE v5.0",
    "ctcae_v6.0": "CTCAE v6.0",
}


def _scale(ctx: Context, patients: pd.DataFrame, event: str) -> str:
    """The grading scale(s) of the grades counted, as the data say."""
    systems: list[str] = []
    if event == "crs" and "crs_grading_system" in patients.columns:
        systems = patients["crs_grading_system"].dropna().astype(str).unique().tolist()
    daily = ctx.dataset.crs_daily if event == "crs" else ctx.dataset.icans_daily
    if not systems and daily is not None and not daily.empty:
        systems = daily["system"].dropna().astype(str).unique().tolist()
    if not systems:
        return "scale not recorded"
    return " / ".join(sorted(dict.fromkeys(_SCALES.get(s, s) for s in systems)))


def _run_incidence(
    item: IncidenceItem, ctx: Context, patients: pd.DataFrame, group: str, out: _Rows
) -> None:
    name = "CRS" if item.incidence == "crs" else "ICANS"
    column = f"{item.incidence}_grade"
    label = item.label or name
    try:
        require_columns(ctx, column)
    except Skip as exc:
        out.missing(group, "incidence", f"Any {label}", str(exc))
        return
    grades = pd.to_numeric(patients[column], errors="coerce")
    known = grades.notna()
    scale = _scale(ctx, patients[known.to_numpy(dtype=bool)], item.incidence)
    any_flags = (grades >= 1).astype("boolean").mask(~known)
    severe = (grades >= item.severe_grade).astype("boolean").mask(~known)
    _rate(out, group, any_flags, f"Any {label} (grade ≥ 1; {scale})", kind="incidence")
    _rate(
        out,
        group,
        severe,
        f"Severe {label} (grade ≥ {item.severe_grade}; {scale})",
        kind="incidence",
    )


def _run_item(
    item: DescribeItem, ctx: Context, patients: pd.DataFrame, group: str, out: _Rows
) -> None:
    if isinstance(item, RateItem):
        _run_rate(item, ctx, patients, group, out)
    elif isinstance(item, KmItem):
        _run_km(item, ctx, patients, group, out)
    elif isinstance(item, MedianItem):
        _run_median(item, ctx, patients, group, out)
    elif isinstance(item, FollowupItem):
        _run_followup(item, ctx, patients, group, out)
    elif isinstance(item, OnsetItem):
        _run_onset(item, ctx, patients, group, out)
    else:
        _run_incidence(item, ctx, patients, group, out)


# ----------------------------------------------------------------------------------------
# the analysis
# ----------------------------------------------------------------------------------------


def _subsets(
    spec: Describe, ctx: Context
) -> tuple[list[tuple[str, pd.DataFrame]], tuple[str, ...]]:
    """The whole population, then each group of ``by`` (with patients)."""
    subsets = [(ALL, ctx.patients)]
    exclusions: tuple[str, ...] = ()
    if spec.by is not None:
        require_columns(ctx, spec.by)
        column = ctx.patients[spec.by]
        for level in present_levels(column):
            subsets.append((str(level), ctx.patients[column == level]))
        n_missing = int(column.isna().sum())
        if n_missing:
            exclusions = (
                f"{n_missing} patients without a {ctx.title_of(spec.by)!r} group are counted "
                "in 'All patients' only",
            )
    return subsets, exclusions


def _ard(spec: Describe, frame: pd.DataFrame) -> Ard:
    ard = Ard(spec.id)
    for rec in frame.to_dict(orient="records"):
        if rec["note"].startswith("not computed"):
            continue
        level = f"{rec['kind']}:{rec['interval']}" if rec["interval"] else str(rec["kind"])
        for stat in ("x", "n", "estimate", "std_err", "lower", "upper"):
            value = rec[stat]
            if isinstance(value, float) and np.isnan(value) and stat in ("x", "std_err"):
                continue
            ard.add(stat, value, group=rec["group"], variable=str(rec["statistic"]), level=level)
    return ard


def run(spec: Describe, ctx: Context) -> AnalysisOutput:
    """Descriptive results of the whole population (and of each group of ``spec.by``)."""
    subsets, exclusions = _subsets(spec, ctx)
    out = _Rows()
    for group, patients in subsets:
        for item in spec.items:
            _run_item(item, ctx, patients, group, out)
    frame = pd.DataFrame(out.rows, columns=list(DESCRIBE_COLUMNS))
    if spec.by is None:
        frame = frame.drop(columns=["group"])
    done = ~frame["note"].str.startswith("not computed")
    if not bool(done.any()):
        reasons = dict.fromkeys(
            n.removeprefix("not computed: ") for n in frame["note"] if n.startswith("not")
        )
        raise Skip("no item could be computed: " + "; ".join(reasons))
    table = TableOutput(
        name="describe",
        caption=f"{spec.title}: x/n (%) with exact 95% CI, Kaplan–Meier estimates ± SE, "
        "medians with range or IQR.",
        frame=frame,
        formats={},
    )
    return AnalysisOutput(
        id=spec.id,
        kind=spec.type,
        title=spec.title,
        status="done",
        summary=_summary(frame),
        ard=_ard(spec, frame if spec.by is not None else frame.assign(group=ALL)).frame(),
        tables=(table,),
        methods=tuple(out.methods),
        n=len(ctx.patients),
        exclusions=exclusions,
        warnings=tuple(dict.fromkeys(out.warnings)),
    )


def _summary(frame: pd.DataFrame) -> str:
    done = frame[~frame["note"].str.startswith("not computed")]
    missing = len(frame) - len(done)
    text = f"{len(done)} result{'s' if len(done) != 1 else ''}"
    if missing:
        text += f"; {missing} not computed (reasons in the table)"
    return text + "."


__all__: Sequence[str] = ["ALL", "DESCRIBE_COLUMNS", "run"]
