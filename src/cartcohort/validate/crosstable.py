"""Rules across rows and tables: keys, duplicates, references between tables and time logic.

These rules run on the clean values produced by the column rules
(:func:`cartcohort.validate.rules.check_table`); a value that broke a column rule
is missing here and is not reported twice. Times are integer days since the
first infusion (day 0). Death is taken from ``patients.death_day`` or, when that
is empty, from the first ``death`` event in the events table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from cartcohort._types import Severity
from cartcohort.ingest.readers import Issue
from cartcohort.validate.report import TableIssues
from cartcohort.validate.rules import CheckedTable

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Tables whose days may be negative (baseline assessments before the infusion).
BASELINE_TABLES = ("observations", "labs", "kinetics", "marrow")
#: Patient-sheet day columns checked against death and follow-up.
PATIENT_DAYS = ("crs_onset_day", "response_day", "relapse_day", "hsct_day", "last_followup_day")
#: Tables where several rows with the same key are a warning, not an error
#: (two CRP values or two tocilizumab doses on one day are real).
REPEATABLE_TABLES = ("labs", "treatments")
#: (event in the events table, flag column, day column) in the patient sheet.
EVENT_COLUMNS = (
    ("death", "death", "death_day"),
    ("relapse", "relapse", "relapse_day"),
    ("hsct", "hsct_after", "hsct_day"),
)
#: Best responses after which a relapse is impossible.
NO_RESPONSE = ("NR", "PR", "NE")


def _num(frame: pd.DataFrame, column: str) -> FloatArray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[column], errors="coerce")
    out: FloatArray = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _flag(frame: pd.DataFrame, column: str) -> tuple[BoolArray, BoolArray]:
    """(is true, is false) of a boolean column; both false where missing or absent."""
    if column not in frame.columns:
        none = np.zeros(len(frame), dtype=bool)
        return none, none
    values = frame[column].astype("boolean")
    yes: BoolArray = values.fillna(value=False).to_numpy(dtype=bool)
    no: BoolArray = (~values).fillna(value=False).to_numpy(dtype=bool)
    return yes, no


def _text(frame: pd.DataFrame, column: str) -> npt.NDArray[np.object_]:
    if column not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    return np.array(
        [None if v is None or v is pd.NA or v != v else str(v) for v in frame[column].tolist()],
        dtype=object,
    )


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


def _day(value: float) -> str:
    return f"{value:g}"


class _Patients:
    """Per-patient facts from the patient sheet and the events table, by patient_id."""

    def __init__(self, tables: Mapping[str, CheckedTable]) -> None:
        self.table = tables["patients"]
        frame = self.table.frame
        ids = _text(frame, "patient_id")
        valid = np.array([i is not None for i in ids], dtype=bool)
        first = valid & ~pd.Series(ids).duplicated().to_numpy()
        self.ids = set(ids[valid].tolist())
        self.position = pd.Series(np.flatnonzero(first), index=ids[first])
        self.frame = frame
        self.pids = ids
        death = pd.Series(_num(frame, "death_day")[first], index=ids[first])
        self.event_days = _first_event_days(tables.get("events"))
        event_death = self.event_days.get("death", pd.Series(dtype=np.float64))
        self.death = death.dropna().combine_first(event_death).dropna()
        self.death_from_events = set(event_death.index) - set(death.dropna().index)

    def per_row(self, pids: npt.NDArray[np.object_], facts: pd.Series) -> FloatArray:
        """``facts`` (indexed by patient_id) looked up for each row's patient."""
        mapped = pd.Series(pids, dtype=object).map(facts)
        out: FloatArray = pd.to_numeric(mapped, errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        return out


def _first_event_days(events: CheckedTable | None) -> dict[str, pd.Series]:
    if events is None or not {"event", "day", "patient_id"} <= set(events.frame.columns):
        return {}
    frame = pd.DataFrame(
        {
            "pid": _text(events.frame, "patient_id"),
            "event": _text(events.frame, "event"),
            "day": _num(events.frame, "day"),
        }
    ).dropna()
    return {str(k): g.groupby("pid")["day"].min() for k, g in frame.groupby("event")}


# ---------------------------------------------------------------------------------------------
# Keys and references
# ---------------------------------------------------------------------------------------------
def _duplicate_keys(table: CheckedTable, sink: TableIssues) -> None:
    key = list(table.spec.key)
    frame = table.frame
    if not set(key) <= set(frame.columns):
        key = [k for k in key if k in frame.columns and table.spec.column(k).required]
        if "patient_id" not in key:
            return
    keys = frame[key].copy()
    if "infusion" in key and table.name == "kinetics":
        keys["infusion"] = keys["infusion"].fillna(1)  # the default infusion is the first
    valid = keys.notna().all(axis=1).to_numpy()
    if not valid.any():
        return
    positions = np.flatnonzero(valid)
    sub = keys.iloc[positions].astype(object)
    groups = sub.groupby(key, sort=False, dropna=True).ngroup().to_numpy()
    order = pd.Series(positions).groupby(groups).transform("min").to_numpy()
    later = positions[positions != order]
    if len(later) == 0:
        return
    first_of = dict(zip(positions.tolist(), order.tolist(), strict=True))
    severity: Severity = "warning" if table.name in REPEATABLE_TABLES else "error"

    def describe(pos: int) -> str:
        parts = [f"{k} {_shown(frame[k].iloc[pos])}" for k in key]
        return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"

    what = " + ".join(key)
    sink.per_row(
        severity,
        "duplicate.key",
        later,
        column=key[-1] if len(key) > 1 else key[0],
        message=lambda p: (
            f"{describe(p)} appears more than once; the first is at row {sink.row_of(first_of[p])}."
        ),
        value=lambda p: str(frame[key[-1]].iloc[p]),
        hint=(
            f"Each {what} must be unique in {table.name}: merge the rows or correct the key."
            if severity == "error"
            else f"Several rows share {what}; check they are real repeats, not copies."
        ),
        what=f"a repeated {what}",
    )


def _references(patients: _Patients, table: CheckedTable, sink: TableIssues) -> None:
    pids = _text(table.frame, "patient_id")
    valid = np.array([p is not None for p in pids], dtype=bool)
    orphan = valid & ~pd.Series(pids, dtype=object).isin(patients.ids).to_numpy()
    if not orphan.any():
        return
    orphan_ids = pd.Series(pids[orphan], index=np.flatnonzero(orphan))
    counts = orphan_ids.value_counts()
    firsts = orphan_ids.groupby(orphan_ids.to_numpy(), sort=False).head(1).index.to_numpy()
    source = patients.table.source or "the patients table"
    sink.per_row(
        "error",
        "reference.patient",
        np.sort(firsts),
        column="patient_id",
        message=lambda p: (
            f"patient {pids[p]!r} is not in the patients table ({source}); "
            f"{counts[pids[p]]} row(s) of {table.name} refer to it."
        ),
        value=lambda p: str(pids[p]),
        hint="Add the patient to the patients table, or correct the patient_id "
        "(spaces and case count).",
        what="patient_ids that are not in the patients table",
    )


# ---------------------------------------------------------------------------------------------
# Time logic
# ---------------------------------------------------------------------------------------------
def _rows(
    sink: TableIssues,
    rule: str,
    mask: BoolArray,
    *,
    column: str,
    message: Callable[[int], str],
    value: Callable[[int], str | None],
    hint: str,
    what: str,
    severity: Severity = "error",
) -> None:
    sink.per_row(
        severity,
        rule,
        np.flatnonzero(mask),
        column=column,
        message=message,
        value=value,
        hint=hint,
        what=what,
    )


def _negative_days(table: CheckedTable, sink: TableIssues, column: str) -> None:
    days = _num(table.frame, column)
    with np.errstate(invalid="ignore"):
        mask = days < 0
    _rows(
        sink,
        "time.before_infusion",
        mask,
        column=column,
        message=lambda p: f"day {_day(days[p])} is before the first infusion (day 0).",
        value=lambda p: _day(days[p]),
        hint=f"{column} counts days since the first infusion; only observations, labs, "
        "kinetics and marrow may be negative (baseline). Check the sign or the date.",
        what="days before the first infusion",
    )


def _before_infusion(table: CheckedTable, sink: TableIssues) -> None:
    if table.name in BASELINE_TABLES:
        return
    columns = ("day",) if table.name != "patients" else (*PATIENT_DAYS, "death_day")
    for column in columns:
        _negative_days(table, sink, column)


def _after_death_column(
    patients: _Patients, table: CheckedTable, sink: TableIssues, column: str
) -> None:
    frame = table.frame
    pids = _text(frame, "patient_id")
    death = patients.per_row(pids, patients.death)
    days = _num(frame, column)
    with np.errstate(invalid="ignore"):
        mask = days > death
    if table.name == "events":
        mask &= _text(frame, "event") != "death"

    def message(p: int) -> str:
        source = (
            "the death event in the events table"
            if pids[p] in patients.death_from_events
            else "death_day in the patients table"
        )
        return (
            f"day {_day(days[p])} is after the death of patient {pids[p]!r} on day "
            f"{_day(death[p])} ({source})."
        )

    _rows(
        sink,
        "time.after_death",
        mask,
        column=column,
        message=message,
        value=lambda p: _day(days[p]),
        hint="Nothing can happen after death: check this day and the death day.",
        what="days after the patient's death",
    )


def _after_death(patients: _Patients, table: CheckedTable, sink: TableIssues) -> None:
    columns = PATIENT_DAYS if table.name == "patients" else ("day",)
    for column in columns:
        _after_death_column(patients, table, sink, column)


def _followup_column(sink: TableIssues, frame: pd.DataFrame, column: str) -> None:
    followup = _num(frame, "last_followup_day")
    days = _num(frame, column)
    with np.errstate(invalid="ignore"):
        mask = followup < days
    _rows(
        sink,
        "time.followup_before_event",
        mask,
        column="last_followup_day",
        message=lambda p: (
            f"last_followup_day {_day(followup[p])} is before {column} {_day(days[p])}."
        ),
        value=lambda p: _day(followup[p]),
        hint="last_followup_day is the last day the patient was known alive (or the day of "
        "death); it cannot precede an event. Update the follow-up.",
        what=f"a last_followup_day before {column}",
    )


def _followup(patients: _Patients, events: CheckedTable | None) -> list[Issue]:
    sink = patients.table.sink()
    frame = patients.table.frame
    for column in ("response_day", "relapse_day", "hsct_day", "death_day"):
        _followup_column(sink, frame, column)
    if events is None:
        return sink.issues
    esink = events.sink()
    pids = _text(events.frame, "patient_id")
    followup = pd.Series(_num(frame, "last_followup_day"), index=patients.pids)
    last = patients.per_row(pids, followup.dropna().groupby(level=0).first())
    days = _num(events.frame, "day")
    with np.errstate(invalid="ignore"):
        mask = days > last
    _rows(
        esink,
        "time.followup_before_event",
        mask,
        column="day",
        message=lambda p: (
            f"event day {_day(days[p])} is after the last follow-up of patient {pids[p]!r} "
            f"(last_followup_day {_day(last[p])} in the patients table)."
        ),
        value=lambda p: _day(days[p]),
        hint="Update last_followup_day in the patients table, or correct the event day.",
        what="events after the last follow-up",
    )
    return [*sink.issues, *esink.issues]


# ---------------------------------------------------------------------------------------------
# Clinical logic in the patient sheet
# ---------------------------------------------------------------------------------------------
def _flag_pair(table: CheckedTable, sink: TableIssues, flag: str, column: str) -> None:
    frame = table.frame
    yes, no = _flag(frame, flag)
    days = _num(frame, column)
    has_day = ~np.isnan(days) | table.is_invalid(column)  # an invalid day is not an empty one
    _rows(
        sink,
        "logic.day_without_flag",
        ~np.isnan(days) & no,
        column=column,
        message=lambda p: f"{column} is {_day(days[p])} but {flag} is 'no'.",
        value=lambda p: _day(days[p]),
        hint=f"Either {flag} is 'yes', or {column} must be empty.",
        what=f"a {column} while {flag} is 'no'",
    )
    _rows(
        sink,
        "logic.day_without_flag",
        yes & ~has_day,
        column=column,
        message=lambda _p: (
            f"{flag} is 'yes' but {column} is empty; this patient cannot be used for "
            "time-to-event analyses of it."
        ),
        value=lambda _p: None,
        hint=f"Fill in {column} (days since the first infusion, or an ISO date).",
        what=f"{flag} 'yes' without {column}",
        severity="warning",
    )


def _flags(patients: _Patients, sink: TableIssues) -> None:
    for _event, flag, column in EVENT_COLUMNS:
        if flag in patients.frame.columns:
            _flag_pair(patients.table, sink, flag, column)


def _response_logic(patients: _Patients, sink: TableIssues) -> None:
    frame = patients.frame
    best = _text(frame, "best_response")
    no_response = pd.Series(best, dtype=object).isin(NO_RESPONSE).to_numpy()
    relapse, _ = _flag(frame, "relapse")
    _rows(
        sink,
        "logic.relapse_without_response",
        relapse & no_response,
        column="relapse",
        message=lambda p: f"relapse is 'yes' but best_response is {best[p]!r}.",
        value=lambda _p: "yes",
        hint="A relapse follows a complete response (CR or CRi); with PR, NR or NE it is "
        "progression. Check best_response and relapse.",
        what="a relapse without a complete response",
    )
    relapse_day = _num(frame, "relapse_day")
    response_day = _num(frame, "response_day")
    with np.errstate(invalid="ignore"):
        early = relapse_day < response_day
    _rows(
        sink,
        "logic.relapse_without_response",
        early,
        column="relapse_day",
        message=lambda p: (
            f"relapse_day {_day(relapse_day[p])} is before response_day {_day(response_day[p])}."
        ),
        value=lambda p: _day(relapse_day[p]),
        hint="A relapse can only follow the response; check both days.",
        what="a relapse_day before the response_day",
    )
    mrd_negative, _ = _flag(frame, "mrd_negative")
    _rows(
        sink,
        "logic.mrd_negative_without_cr",
        mrd_negative & (best == "NR"),
        column="mrd_negative",
        message=lambda _p: "mrd_negative is 'yes' but best_response is 'NR'.",
        value=lambda _p: "yes",
        hint="MRD negativity is assessed in remission; check best_response and mrd_negative.",
        what="MRD negativity without a response",
        severity="warning",
    )


def _event_kind(
    patients: _Patients, events: CheckedTable, sink: TableIssues, kind: tuple[str, str, str]
) -> None:
    event, flag, column = kind
    frame = events.frame
    pids = _text(frame, "patient_id")
    is_event = _text(frame, "event") == event
    if not is_event.any():
        return
    days = _num(frame, "day")
    pframe = patients.frame
    position = patients.position
    first = patients.per_row(pids, patients.event_days.get(event, pd.Series(dtype=np.float64)))
    own = pd.Series(_num(pframe, column)[position.to_numpy()], index=position.index)
    sheet_day = patients.per_row(pids, own.dropna())
    differs = is_event & (days == first) & ~np.isnan(sheet_day) & (days != sheet_day)

    def patient_row(p: int) -> int:
        return patients.table.row_of(int(position[pids[p]]))

    _rows(
        sink,
        "events.disagree",
        differs,
        column="day",
        message=lambda p: (
            f"the {event} event of patient {pids[p]!r} is on day {_day(days[p])}, but {column} "
            f"in the patients table (row {patient_row(p)}) is {_day(sheet_day[p])}."
        ),
        value=lambda p: _day(days[p]),
        hint="The events table and the patient sheet must agree; correct one of them.",
        what=f"{event} events that disagree with {column}",
    )
    _, flag_no = _flag(pframe, flag)
    said_no = pd.Series(flag_no[position.to_numpy()], index=position.index)
    mapped = pd.Series(pids, dtype=object).map(said_no)
    contradicted = is_event & (mapped == True).to_numpy(dtype=bool)  # noqa: E712
    _rows(
        sink,
        "events.disagree",
        contradicted,
        column="event",
        message=lambda p: (
            f"the events table has a {event} event for patient {pids[p]!r}, but {flag} is "
            f"'no' in the patients table (row {patient_row(p)})."
        ),
        value=lambda _p: event,
        hint="The events table and the patient sheet must agree; correct one of them.",
        what=f"{event} events for patients with {flag} 'no'",
    )


def _events_vs_patients(patients: _Patients, events: CheckedTable, sink: TableIssues) -> None:
    for kind in EVENT_COLUMNS:
        _event_kind(patients, events, sink, kind)
    pids = _text(events.frame, "patient_id")
    position = patients.position
    best = pd.Series(
        _text(patients.frame, "best_response")[position.to_numpy()], index=position.index
    )
    best_row = pd.Series(pids, dtype=object).map(best)
    relapse_nr = (_text(events.frame, "event") == "relapse") & best_row.isin(NO_RESPONSE).to_numpy(
        dtype=bool
    )
    _rows(
        sink,
        "logic.relapse_without_response",
        relapse_nr,
        column="event",
        message=lambda p: (
            f"relapse event for patient {pids[p]!r}, whose best_response is {best_row[p]!r}."
        ),
        value=lambda _p: "relapse",
        hint="A relapse follows a complete response (CR or CRi); with PR, NR or NE it is "
        "progression.",
        what="relapse events without a complete response",
    )


# ---------------------------------------------------------------------------------------------
# Infusions
# ---------------------------------------------------------------------------------------------
def _infusions(patients: _Patients, infusions: CheckedTable, sink: TableIssues) -> list[Issue]:
    frame = infusions.frame
    pids = _text(frame, "patient_id")
    number = _num(frame, "infusion")
    days = _num(frame, "day")
    first = number == 1
    with np.errstate(invalid="ignore"):
        not_zero = first & ~np.isnan(days) & (days != 0)
    _rows(
        sink,
        "infusions.first_day",
        not_zero,
        column="day",
        message=lambda p: f"infusion 1 is on day {_day(days[p])}, not day 0.",
        value=lambda p: _day(days[p]),
        hint="Day 0 is the day of the first infusion by definition; count every day from it.",
        what="a first infusion not on day 0",
    )
    data = pd.DataFrame({"pid": pids, "n": number, "day": days}).dropna(subset=["pid"])
    has_first = data.groupby("pid")["n"].apply(lambda s: bool((s == 1).any()))
    missing_first = has_first[~has_first].index
    lacking = pd.Series(pids, dtype=object).isin(missing_first).to_numpy()
    lacking = lacking & ~pd.Series(pids, dtype=object).duplicated().to_numpy()
    _rows(
        sink,
        "infusions.first_day",
        lacking,
        column="infusion",
        message=lambda p: f"patient {pids[p]!r} has infusions but no infusion 1.",
        value=lambda p: _day(number[p]),
        hint="Number infusions 1, 2, 3 ... with infusion 1 on day 0.",
        what="patients without infusion 1",
    )
    ordered = data.dropna().sort_values(["pid", "n"], kind="stable")
    previous = ordered.groupby("pid")["day"].shift()
    bad_order = ordered.index[(ordered["day"] <= previous).to_numpy()]
    _rows(
        sink,
        "infusions.order",
        np.isin(np.arange(len(frame)), bad_order),
        column="day",
        message=lambda p: (
            f"infusion {_day(number[p])} is on day {_day(days[p])}, not after the previous "
            "infusion."
        ),
        value=lambda p: _day(days[p]),
        hint="Each later infusion must come after the one before it.",
        what="infusions not after the previous one",
    )
    counts = data.groupby("pid")["n"].size()
    psink = patients.table.sink()
    stated = _num(patients.frame, "n_infusions")
    found = patients.per_row(patients.pids, counts.astype(np.float64))
    with np.errstate(invalid="ignore"):
        disagree = ~np.isnan(stated) & ~np.isnan(found) & (stated != found)
    _rows(
        psink,
        "infusions.n_infusions",
        disagree,
        column="n_infusions",
        message=lambda p: (
            f"n_infusions is {_day(stated[p])} but the infusions table has {_day(found[p])} "
            f"row(s) for patient {patients.pids[p]!r}."
        ),
        value=lambda p: _day(stated[p]),
        hint="Make n_infusions match the infusions table (the table is used for analyses).",
        what="n_infusions that disagree with the infusions table",
        severity="warning",
    )
    return psink.issues


# ---------------------------------------------------------------------------------------------
# All cross-table rules
# ---------------------------------------------------------------------------------------------
def check_crosstable(tables: Mapping[str, CheckedTable]) -> list[Issue]:
    """Run every rule across rows and tables.

    Parameters
    ----------
    tables
        Checked tables by name; must include ``patients`` (the caller builds it
        from the other tables' ids when the source has none).

    Returns
    -------
    list of Issue
        Problems found, table by table.
    """
    patients = _Patients(tables)
    issues: list[Issue] = []
    for table in tables.values():
        sink = table.sink()
        _duplicate_keys(table, sink)
        if table.name != "patients":
            _references(patients, table, sink)
        _before_infusion(table, sink)
        _after_death(patients, table, sink)
        if table.name == "patients":
            _flags(patients, sink)
            _response_logic(patients, sink)
        if table.name == "events":
            _events_vs_patients(patients, table, sink)
        if table.name == "infusions":
            issues.extend(_infusions(patients, table, sink))
        issues.extend(sink.issues)
    issues.extend(_followup(patients, tables.get("events")))
    return issues


__all__ = [
    "BASELINE_TABLES",
    "EVENT_COLUMNS",
    "NO_RESPONSE",
    "PATIENT_DAYS",
    "REPEATABLE_TABLES",
    "check_crosstable",
]
