"""Time-to-event endpoints of a CD19 CAR-T cohort as one long, ADTTE-shaped table.

One row per patient and parameter with ``patient_id, param, start_day, day, time_days,
event, reason, source``: ``day`` is the end day counted from infusion (day 0), the analysis
time is ``time_days = day - start_day`` (integer days), ``event`` is ``1`` for an event and
``0`` for censoring (for ``CIR``: ``1`` relapse, ``2`` death without relapse), ``reason``
says which event or censoring ended the row and ``source`` the ``table.column`` it came
from. Patients lacking what a parameter needs get no row for it and one row in the
exclusions table with the reason ("never a silently dropped patient").

Definitions, each with its source, are in :data:`PARAMS` and in
``docs/methods/endpoints.md``. In short:

========================  ===========  =======================================================
param                     start        event (censoring: last follow-up)
========================  ===========  =======================================================
OS                        infusion     death from any cause
EFS                       infusion     no response (PR/NR: day 0 or assessment), relapse, death
LFS (= RFS)               response     relapse or death (CR/CRi only)
CIR                       response     1 relapse, 2 death without relapse (CR/CRi only)
PFS                       infusion     relapse/progression or death (non-response is no event)
DOR                       response     relapse or death (``dor_deaths``) (CR/CRi only)
X_CENS_HSCT               as X         as X, censored at a consolidative HSCT in remission
X_CENS_NEWTX              as X         as X, censored at new therapy in remission (events table)
========================  ===========  =======================================================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from cartcohort.derive.response import (
    FAILURE_LEVELS,
    RESPONDER_LEVELS,
    _days,
    _flag,
    _patient_ids,
    _response_levels,
    _text,
)
from cartcohort.errors import DerivationError, DerivationWarning

EfsNonresponse = Literal["day0", "assessment"]
NotEvaluable = Literal["exclude", "failure"]
DorDeaths = Literal["any", "disease"]

#: Columns of the endpoints table, in order.
ENDPOINT_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "param",
    "start_day",
    "day",
    "time_days",
    "event",
    "reason",
    "source",
)
#: Columns of the exclusions table.
EXCLUSION_COLUMNS: tuple[str, ...] = ("patient_id", "param", "reason")
#: ``death_cause`` values (case-insensitive) read as death from leukaemia for ``DOR``.
DISEASE_DEATH_CAUSES: frozenset[str] = frozenset(
    {
        "relapse",
        "leukemia",
        "leukaemia",
        "all",
        "b-all",
        "disease",
        "progression",
        "disease progression",
        "progressive disease",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamSpec:
    """Definition of one endpoint parameter.

    Attributes
    ----------
    param
        Internal name (``param`` column).
    paramcd
        ADaM ``PARAMCD`` (at most 8 characters).
    label
        ADaM ``PARAM`` (description).
    definition
        Start, events and censoring in one sentence, with the source.
    """

    param: str
    paramcd: str
    label: str
    definition: str


def _spec(param: str, paramcd: str, label: str, definition: str) -> tuple[str, ParamSpec]:
    return param, ParamSpec(param=param, paramcd=paramcd, label=label, definition=definition)


_HSCT = (
    " Sensitivity version: responders are censored at a consolidative allogeneic HSCT given "
    "in remission (on or after response_day, before relapse) if it precedes the event "
    "(ZUMA-3, ELIANA 3-year update)."
)
_NEWTX = (
    " Sensitivity version: responders are censored at the first new therapy given in "
    "remission (events table `new_therapy`, on or after response_day, before relapse) if it "
    "precedes the event (ELIANA RFS 'with censoring for subsequent therapy')."
)
_OS = (
    "From infusion (day 0) to death from any cause; alive patients censored at "
    "last_followup_day (seed 000; seed 004)."
)
_EFS = (
    "From infusion to the earliest of no response (PR/NR; at day 0 or at response_day, "
    "setting efs_nonresponse), relapse or death; censored at last_followup_day (seed 000: "
    "'the earliest of no response, relapse, or death')."
)
_LFS = (
    "Responders (CR/CRi) from response_day to relapse or death; censored at "
    "last_followup_day (seed 004: 'from the date of CR to the date of relapse, death, or the "
    "last follow-up')."
)

#: Every parameter this module derives, by ``param``.
PARAMS: Mapping[str, ParamSpec] = dict(
    [
        _spec("OS", "OS", "Overall survival (days)", _OS),
        _spec("EFS", "EFS", "Event-free survival (days)", _EFS),
        _spec("LFS", "LFS", "Leukaemia-free (relapse-free) survival from CR/CRi (days)", _LFS),
        _spec(
            "CIR",
            "CIR",
            "Cumulative incidence of relapse, NRM competing (days)",
            "Responders from response_day: 1 relapse, 2 death without relapse (non-relapse "
            "mortality, competing event), 0 censored at last_followup_day.",
        ),
        _spec(
            "PFS",
            "PFS",
            "Progression-free survival (days)",
            "From infusion to relapse, progression (events table) or death; censored at "
            "last_followup_day. Non-response alone is not an event: non-responders need a "
            "recorded progression day (seed 003 reports PFS without a definition).",
        ),
        _spec(
            "DOR",
            "DOR",
            "Duration of remission (days)",
            "Responders from response_day to relapse or death (dor_deaths='any'), or to "
            "relapse or death from leukaemia with other deaths censored (dor_deaths='disease').",
        ),
        _spec("OS_CENS_HSCT", "OSCHSCT", "Overall survival, censored at HSCT", _OS + _HSCT),
        _spec("EFS_CENS_HSCT", "EFSCHSCT", "Event-free survival, censored at HSCT", _EFS + _HSCT),
        _spec(
            "LFS_CENS_HSCT", "LFSCHSCT", "Leukaemia-free survival, censored at HSCT", _LFS + _HSCT
        ),
        _spec(
            "OS_CENS_NEWTX", "OSCNEWTX", "Overall survival, censored at new therapy", _OS + _NEWTX
        ),
        _spec(
            "EFS_CENS_NEWTX",
            "EFSCNWTX",
            "Event-free survival, censored at new therapy",
            _EFS + _NEWTX,
        ),
        _spec(
            "LFS_CENS_NEWTX",
            "LFSCNWTX",
            "Leukaemia-free survival, censored at new therapy",
            _LFS + _NEWTX,
        ),
    ]
)
#: Parameters of the contract function :func:`derive_endpoints`.
CORE_PARAMS: tuple[str, ...] = ("OS", "EFS", "LFS", "CIR")
#: Parameters that need the events table (``new_therapy`` rows).
NEWTX_PARAMS: tuple[str, ...] = ("OS_CENS_NEWTX", "EFS_CENS_NEWTX", "LFS_CENS_NEWTX")


class EndpointExclusionWarning(DerivationWarning):
    """Some patient-parameter rows could not be derived; see the exclusions table."""


# ------------------------------------------------------------------------------------------
# Per-patient facts and rules
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Patient:
    pid: str
    resp: str | None
    response_day: int | None
    dead: bool | None
    death_day: int | None
    death_cause: str | None
    relapsed: bool | None
    relapse_day: int | None
    hsct: bool | None
    hsct_day: int | None
    lfu: int | None
    progression_day: int | None
    newtx_days: tuple[int, ...]

    @property
    def kind(self) -> str | None:
        """``R`` responder, ``F`` failure (PR/NR), ``NE``, or ``None`` when missing."""
        if self.resp is None:
            return None
        if self.resp in RESPONDER_LEVELS:
            return "R"
        return "F" if self.resp in FAILURE_LEVELS else "NE"


@dataclass(frozen=True, slots=True)
class _Row:
    start: int
    day: int
    event: int
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class _Settings:
    efs_nonresponse: EfsNonresponse
    not_evaluable: NotEvaluable
    dor_deaths: DorDeaths


# A rule returns a row, an exclusion reason (str), or None (patient not in the population).
_Outcome = _Row | str | None
_Rule = Callable[[_Patient, _Settings], _Outcome]

_LFU = "patients.last_followup_day"


def _censor_lfu(p: _Patient, start: int) -> _Outcome:
    if p.lfu is None:
        return "last_followup_day missing"
    return _Row(start, p.lfu, 0, "censored at last follow-up", _LFU)


def _death_known(p: _Patient) -> str | None:
    """Exclusion reason when death status or day is missing, else ``None``."""
    if p.dead is None:
        return "death status missing (death, death_day)"
    if p.dead and p.death_day is None:
        return "death_day missing"
    return None


def _first_disease_event(p: _Patient, *, progression: bool) -> tuple[int, str, str] | str | None:
    """(day, reason, source) of the first relapse/progression after response, or a reason."""
    if p.relapsed is None:
        return "relapse status missing (relapse, relapse_day)"
    if p.relapsed and p.relapse_day is None:
        return "relapse_day missing"
    cands: list[tuple[int, str, str]] = []
    if p.relapsed and p.relapse_day is not None:
        cands.append((p.relapse_day, "relapse", "patients.relapse_day"))
    if progression and p.progression_day is not None:
        cands.append((p.progression_day, "progression", "events.progression"))
    return min(cands) if cands else None


def _remission(
    p: _Patient,
    start: int,
    *,
    progression: bool = False,
    death_code: int = 1,
    death_reason: str = "death",
    death_counts: Callable[[_Patient], bool | str] | None = None,
) -> _Outcome:
    """Follow a responder (or a day-0 start) to relapse/progression, death or last follow-up.

    At ties the disease event wins over death (relapse observed on the day of death).
    """
    disease = _first_disease_event(p, progression=progression)
    if isinstance(disease, str):
        return disease
    if p.dead is None and disease is not None:
        # Death cannot precede an observed relapse (validated), so the relapse ends the row.
        return _Row(start, disease[0], 1, disease[1], disease[2])
    missing = _death_known(p)
    if missing:
        return missing
    if p.dead and p.death_day is not None and (disease is None or p.death_day < disease[0]):
        counts = True if death_counts is None else death_counts(p)
        if isinstance(counts, str):
            return counts
        if not counts:
            return _Row(
                start,
                p.death_day,
                0,
                "censored at death from another cause",
                "patients.death_cause",
            )
        return _Row(start, p.death_day, death_code, death_reason, "patients.death_day")
    if disease is not None:
        return _Row(start, disease[0], 1, disease[1], disease[2])
    return _censor_lfu(p, start)


def _os(p: _Patient, s: _Settings) -> _Outcome:
    missing = _death_known(p)
    if missing:
        return missing
    if p.dead and p.death_day is not None:
        return _Row(0, p.death_day, 1, "death", "patients.death_day")
    return _censor_lfu(p, 0)


def _nonresponse(p: _Patient, s: _Settings) -> _Outcome:
    label = f"no response ({p.resp})"
    if s.efs_nonresponse == "day0":
        return _Row(0, 0, 1, label, "patients.best_response")
    if p.response_day is None:
        return "response_day missing (efs_nonresponse='assessment')"
    return _Row(0, p.response_day, 1, label, "patients.response_day")


def _efs(p: _Patient, s: _Settings) -> _Outcome:
    kind = p.kind
    if kind is None:
        return "best_response missing"
    if kind == "R":
        return _remission(p, 0)
    if kind == "F" or s.not_evaluable == "failure":
        return _nonresponse(p, s)
    if p.dead and p.death_day is not None:
        return _Row(0, p.death_day, 1, "death (response not evaluable)", "patients.death_day")
    return (
        "best_response NE (not evaluable) and no death: EFS not derivable "
        "(not_evaluable='failure' counts NE as treatment failure)"
    )


def _from_response(p: _Patient) -> int | str | None:
    """Start day for responder-only parameters, an exclusion reason, or None (not a responder)."""
    kind = p.kind
    if kind is None:
        return "best_response missing"
    if kind != "R":
        return None
    if p.response_day is None:
        return "response_day missing"
    return p.response_day


def _lfs(p: _Patient, s: _Settings) -> _Outcome:
    start = _from_response(p)
    return start if not isinstance(start, int) else _remission(p, start)


def _cir(p: _Patient, s: _Settings) -> _Outcome:
    start = _from_response(p)
    if not isinstance(start, int):
        return start
    return _remission(p, start, death_code=2, death_reason="death without relapse")


def _disease_death(p: _Patient) -> bool | str:
    if p.death_cause is None:
        return "death_cause missing (dor_deaths='disease')"
    return p.death_cause.strip().lower() in DISEASE_DEATH_CAUSES


def _dor(p: _Patient, s: _Settings) -> _Outcome:
    start = _from_response(p)
    if not isinstance(start, int):
        return start
    rule = _disease_death if s.dor_deaths == "disease" else None
    return _remission(p, start, death_counts=rule)


def _pfs(p: _Patient, s: _Settings) -> _Outcome:
    kind = p.kind
    if kind is None:
        return "best_response missing"
    if kind == "R":
        return _remission(p, 0, progression=True)
    if p.progression_day is None:
        return (
            f"best response {p.resp} without a recorded progression day (events table "
            "`progression`); non-response is not a PFS event"
        )
    if p.dead and p.death_day is not None and p.death_day < p.progression_day:
        return _Row(0, p.death_day, 1, "death", "patients.death_day")
    return _Row(0, p.progression_day, 1, "progression", "events.progression")


def _in_remission(p: _Patient, day: int) -> bool | str:
    """Whether an intervention on ``day`` is consolidative (responder, in remission)."""
    if p.response_day is None:
        return "response_day missing"
    if day < p.response_day:
        return False
    if p.relapsed is None:
        return "relapse status missing (relapse, relapse_day)"
    return not (p.relapsed and p.relapse_day is not None and day >= p.relapse_day)


def _hsct_cut(p: _Patient) -> int | str | None:
    if p.kind != "R":
        return None
    if p.hsct is None:
        return "hsct_after missing"
    if not p.hsct:
        return None
    if p.hsct_day is None:
        return "hsct_day missing"
    ok = _in_remission(p, p.hsct_day)
    return ok if isinstance(ok, str) else (p.hsct_day if ok else None)


def _newtx_cut(p: _Patient) -> int | str | None:
    if p.kind != "R":
        return None
    for day in p.newtx_days:
        ok = _in_remission(p, day)
        if isinstance(ok, str) or ok:
            return ok if isinstance(ok, str) else day
    return None


def _censored_version(
    base: _Rule, cut: Callable[[_Patient], int | str | None], what: str, source: str
) -> _Rule:
    def rule(p: _Patient, s: _Settings) -> _Outcome:
        row = base(p, s)
        if not isinstance(row, _Row):
            return row
        day = cut(p)
        if isinstance(day, str):
            return day
        if day is not None and day < row.day:
            return _Row(row.start, day, 0, f"censored at {what}", source)
        return row

    return rule


_BASE_RULES: dict[str, _Rule] = {
    "OS": _os,
    "EFS": _efs,
    "LFS": _lfs,
    "CIR": _cir,
    "PFS": _pfs,
    "DOR": _dor,
}
_RULES: dict[str, _Rule] = {
    **_BASE_RULES,
    **{
        f"{k}_CENS_HSCT": _censored_version(
            _BASE_RULES[k], _hsct_cut, "consolidative HSCT", "patients.hsct_day"
        )
        for k in ("OS", "EFS", "LFS")
    },
    **{
        f"{k}_CENS_NEWTX": _censored_version(
            _BASE_RULES[k], _newtx_cut, "new therapy in remission", "events.new_therapy"
        )
        for k in ("OS", "EFS", "LFS")
    },
}


# ------------------------------------------------------------------------------------------
# Inputs and validation
# ------------------------------------------------------------------------------------------
def _opt_int(v: object) -> int | None:
    return None if v is pd.NA or v is None or pd.isna(v) else int(v)  # type: ignore[call-overload]


def _opt_bool(v: object) -> bool | None:
    return None if v is pd.NA or v is None or pd.isna(v) else bool(v)


def _implied(*, flag: bool | None, day: int | None) -> bool | None:
    """A recorded day implies the event happened when the flag itself is missing."""
    return True if flag is None and day is not None else flag


def _event_days(events: pd.DataFrame | None) -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
    if events is None:
        return {}, {}
    ids = _patient_ids(events, "events")
    day = _days(events, "day")
    kind = _text(events, "event").str.lower()
    frame = pd.DataFrame({"pid": ids, "day": day, "kind": kind}).dropna(subset=["day"])
    prog = frame[frame["kind"] == "progression"].groupby("pid")["day"].min()
    newtx = frame[frame["kind"] == "new_therapy"].groupby("pid")["day"]
    return (
        {str(k): int(v) for k, v in prog.items()},
        {str(k): tuple(sorted(int(d) for d in v)) for k, v in newtx},
    )


def _facts(patients: pd.DataFrame, events: pd.DataFrame | None) -> list[_Patient]:
    ids = _patient_ids(patients, "patients")
    dup = ids[ids.duplicated()]
    if len(dup):
        msg = f"`patients.patient_id` must be unique; duplicated: {dup.unique()[:5].tolist()}."
        raise DerivationError(msg)
    resp = _response_levels(patients).to_numpy(dtype=object)
    cols = {
        c: _days(patients, c).to_numpy(dtype=object)
        for c in ("response_day", "death_day", "relapse_day", "hsct_day", "last_followup_day")
    }
    flags = {
        c: _flag(patients, c).to_numpy(dtype=object) for c in ("death", "relapse", "hsct_after")
    }
    cause = _text(patients, "death_cause").to_numpy(dtype=object)
    prog, newtx = _event_days(events)
    out: list[_Patient] = []
    for i, pid in enumerate(ids.to_numpy(dtype=object)):
        death_day = _opt_int(cols["death_day"][i])
        relapse_day = _opt_int(cols["relapse_day"][i])
        hsct_day = _opt_int(cols["hsct_day"][i])
        out.append(
            _Patient(
                pid=str(pid),
                resp=None if pd.isna(resp[i]) else str(resp[i]),
                response_day=_opt_int(cols["response_day"][i]),
                dead=_implied(flag=_opt_bool(flags["death"][i]), day=death_day),
                death_day=death_day,
                death_cause=None if pd.isna(cause[i]) or not cause[i] else str(cause[i]),
                relapsed=_implied(flag=_opt_bool(flags["relapse"][i]), day=relapse_day),
                relapse_day=relapse_day,
                hsct=_implied(flag=_opt_bool(flags["hsct_after"][i]), day=hsct_day),
                hsct_day=hsct_day,
                lfu=_opt_int(cols["last_followup_day"][i]),
                progression_day=prog.get(str(pid)),
                newtx_days=newtx.get(str(pid), ()),
            )
        )
    return out


def _problems(p: _Patient) -> Iterable[str]:
    """Contradictions that would give negative or inconsistent analysis times."""
    days = {
        "response_day": p.response_day,
        "death_day": p.death_day,
        "relapse_day": p.relapse_day,
        "hsct_day": p.hsct_day,
        "last_followup_day": p.lfu,
    }
    for name, value in days.items():
        if value is not None and value < 0:
            yield f"{name} = {value} is before infusion (day 0)"
    for flag, value, col in (
        (p.dead, p.death_day, "death"),
        (p.relapsed, p.relapse_day, "relapse"),
        (p.hsct, p.hsct_day, "hsct_after"),
    ):
        if flag is False and value is not None:
            yield f"{col} is False but {col.replace('_after', '')}_day = {value} is recorded"
    yield from _order_problems(p)


def _order_problems(p: _Patient) -> Iterable[str]:
    # (earlier column, its day, later column, its day): earlier must be <= later.
    end_alive = p.lfu if p.dead is False else None
    pairs = [
        ("response_day", p.response_day, "death_day", p.death_day),
        ("response_day", p.response_day, "relapse_day", p.relapse_day),
        ("relapse_day", p.relapse_day, "death_day", p.death_day),
        ("last_followup_day", p.lfu, "death_day", p.death_day),
        ("hsct_day", p.hsct_day, "death_day", p.death_day),
        ("response_day", p.response_day, "last_followup_day (alive)", end_alive),
        ("relapse_day", p.relapse_day, "last_followup_day (alive)", end_alive),
        ("events.progression day", p.progression_day, "death_day", p.death_day),
        ("events.progression day", p.progression_day, "last_followup_day (alive)", end_alive),
    ]
    pairs += [("events.new_therapy day", d, "death_day", p.death_day) for d in p.newtx_days]
    for a, da, b, db in pairs:
        if da is not None and db is not None and da > db:
            yield f"{a} = {da} is after {b} = {db}"


def _validate(facts: Sequence[_Patient]) -> None:
    found = [(p.pid, msg) for p in facts for msg in _problems(p)]
    if found:
        lines = "; ".join(f"patient {pid}: {msg}" for pid, msg in found[:10])
        more = f" (and {len(found) - 10} more)" if len(found) > 10 else ""
        msg = (
            f"Inconsistent follow-up data would give negative or contradictory analysis times: "
            f"{lines}{more}. Fix the patient sheet (the validator reports these too)."
        )
        raise DerivationError(msg)


# ------------------------------------------------------------------------------------------
# Result and public functions
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointsResult:
    """Derived endpoints with the patients who could not be given each parameter.

    Attributes
    ----------
    endpoints
        Long table, columns :data:`ENDPOINT_COLUMNS` (one row per patient and parameter).
    exclusions
        ``patient_id, param, reason`` for every patient-parameter pair that is in the
        parameter's population but could not be derived ("not derivable: ...").
    options
        The settings used (``efs_nonresponse``, ``not_evaluable``, ``dor_deaths``, ``params``).
    definitions
        Parameter -> definition sentence with its source (from :data:`PARAMS`).
    warnings
        Messages raised while deriving.
    """

    endpoints: pd.DataFrame
    exclusions: pd.DataFrame
    options: Mapping[str, str]
    definitions: Mapping[str, str]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n(self) -> int:
        """Number of endpoint rows."""
        return len(self.endpoints)

    @property
    def n_excluded(self) -> int:
        """Number of patient-parameter pairs that could not be derived."""
        return len(self.exclusions)

    def to_frame(self) -> pd.DataFrame:
        """The endpoints table (a copy)."""
        return self.endpoints.copy()

    def __repr__(self) -> str:
        params = ", ".join(self.endpoints["param"].unique().tolist())
        return f"EndpointsResult(n={self.n}, n_excluded={self.n_excluded}, params=[{params}])"


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        msg = f"`{name}` must be one of {', '.join(map(repr, allowed))}; got {value!r}."
        raise DerivationError(msg)


def _resolve_params(params: Sequence[str] | None, events: pd.DataFrame | None) -> tuple[str, ...]:
    if params is None:
        return tuple(k for k in PARAMS if events is not None or k not in NEWTX_PARAMS)
    unknown = [p for p in params if p not in PARAMS]
    if unknown:
        msg = f"Unknown endpoint parameter(s) {unknown}; known: {', '.join(PARAMS)}."
        raise DerivationError(msg)
    return tuple(dict.fromkeys(params))


def _frames(
    rows: list[tuple[object, ...]], excl: list[tuple[str, str, str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    ep = pd.DataFrame(rows, columns=list(ENDPOINT_COLUMNS))
    ep = ep.astype(
        {
            "patient_id": "string",
            "param": "string",
            "start_day": "int64",
            "day": "int64",
            "time_days": "int64",
            "event": "int64",
            "reason": "string",
            "source": "string",
        }
    )
    ex = pd.DataFrame(excl, columns=list(EXCLUSION_COLUMNS)).astype("string")
    return ep, ex


def derive_endpoints_with_exclusions(
    patients: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    params: Sequence[str] | None = None,
    efs_nonresponse: EfsNonresponse = "day0",
    not_evaluable: NotEvaluable = "exclude",
    dor_deaths: DorDeaths = "any",
) -> EndpointsResult:
    """Derive endpoint parameters and report every patient who could not be given one.

    Parameters
    ----------
    patients
        Patient sheet (data standard ``patients``): ``patient_id``, ``best_response``,
        ``response_day``, ``relapse``, ``relapse_day``, ``hsct_after``, ``hsct_day``,
        ``death``, ``death_day``, ``death_cause``, ``last_followup_day``. Days are
        integers since the first infusion; nullable or plain dtypes.
    events
        Optional ``events`` table; its ``progression`` rows feed ``PFS`` and its
        ``new_therapy`` rows the ``*_CENS_NEWTX`` parameters. Relapse, death and HSCT
        are read from the patient sheet only. A patient without rows has no such event.
    params
        Parameters to derive (keys of :data:`PARAMS`); default all, leaving out the
        ``*_CENS_NEWTX`` parameters when ``events`` is not given.
    efs_nonresponse
        ``"day0"`` (default): non-response (PR/NR) is an EFS event at day 0;
        ``"assessment"``: at ``response_day``.
    not_evaluable
        ``"exclude"`` (default): a patient with best response NE has an EFS event only
        if they died (at ``death_day``), otherwise no EFS row (exclusion);
        ``"failure"``: NE counts as treatment failure, timed like non-response.
    dor_deaths
        ``"any"`` (default): ``DOR`` ends at relapse or death from any cause (then equal
        to ``LFS``); ``"disease"``: only deaths whose ``death_cause`` is one of
        :data:`DISEASE_DEATH_CAUSES` are events, other deaths are censored.

    Returns
    -------
    EndpointsResult
        ``endpoints`` (long table), ``exclusions`` (reasons), ``options``, ``definitions``.

    Raises
    ------
    DerivationError
        For contradictory inputs (e.g. ``death_day < response_day``, ``relapse_day <
        response_day``, ``relapse_day > death_day``, last follow-up after death, negative
        days, ``death`` False with a ``death_day``) naming each patient and column; for
        unknown settings, parameters or response codes.

    Notes
    -----
    Tie rules: a relapse (or progression) and death on the same day end the row as the
    disease event (CIR code 1); death on the response day gives ``time_days = 0``; an
    event on the day of HSCT/new therapy stays an event. A recorded ``death_day``,
    ``relapse_day`` or ``hsct_day`` with its flag missing is read as the event having
    happened; a missing flag without a day is unknown, never "no". Patients outside a
    parameter's population (non-responders for ``LFS``, ``CIR``, ``DOR``) get neither a
    row nor an exclusion.

    Examples
    --------
    >>> p = pd.DataFrame({"patient_id": ["a"], "best_response": ["CR"], "response_day": [28],
    ...                   "relapse": [False], "death": [False], "last_followup_day": [400]})
    >>> r = derive_endpoints_with_exclusions(p, params=["OS", "LFS"])
    >>> r.endpoints[["param", "start_day", "day", "event"]].values.tolist()
    [['OS', 0, 400, 0], ['LFS', 28, 400, 0]]
    """
    _check_choice("efs_nonresponse", efs_nonresponse, ("day0", "assessment"))
    _check_choice("not_evaluable", not_evaluable, ("exclude", "failure"))
    _check_choice("dor_deaths", dor_deaths, ("any", "disease"))
    chosen = _resolve_params(params, events)
    facts = _facts(patients, events)
    _validate(facts)
    settings = _Settings(efs_nonresponse, not_evaluable, dor_deaths)
    rows: list[tuple[object, ...]] = []
    excl: list[tuple[str, str, str]] = []
    for p in facts:
        for param in chosen:
            if param in NEWTX_PARAMS and events is None:
                excl.append((p.pid, param, "not derivable: events table (new_therapy) not given"))
                continue
            out = _RULES[param](p, settings)
            if isinstance(out, _Row):
                rows.append(
                    (
                        p.pid,
                        param,
                        out.start,
                        out.day,
                        out.day - out.start,
                        out.event,
                        out.reason,
                        out.source,
                    )
                )
            elif isinstance(out, str):
                excl.append((p.pid, param, f"not derivable: {out}"))
    endpoints, exclusions = _frames(rows, excl)
    return EndpointsResult(
        endpoints=endpoints,
        exclusions=exclusions,
        options={
            "efs_nonresponse": efs_nonresponse,
            "not_evaluable": not_evaluable,
            "dor_deaths": dor_deaths,
            "params": ",".join(chosen),
            "time_unit": "days since first infusion",
        },
        definitions={k: PARAMS[k].definition for k in chosen},
    )


def derive_endpoints(
    patients: pd.DataFrame,
    *,
    efs_nonresponse: EfsNonresponse = "day0",
    not_evaluable: NotEvaluable = "exclude",
) -> pd.DataFrame:
    """OS, EFS, LFS and CIR from a patient sheet, one row per patient and parameter.

    Parameters
    ----------
    patients
        Patient sheet (see :func:`derive_endpoints_with_exclusions`).
    efs_nonresponse
        ``"day0"`` (default) or ``"assessment"``: when non-response is an EFS event.
    not_evaluable
        How a best response of NE enters EFS (``"exclude"`` or ``"failure"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id, param, start_day, day, time_days, event, reason, source``;
        ``param`` in ``OS``, ``EFS``, ``LFS`` (responders, from ``response_day``),
        ``CIR`` (responders; ``event`` 0 censored, 1 relapse, 2 death without relapse).

    Warns
    -----
    EndpointExclusionWarning
        When some patients could not be given a parameter; the reasons are in
        ``derive_endpoints_with_exclusions(...).exclusions``.

    Raises
    ------
    DerivationError
        For contradictory inputs, naming patient and columns.

    Examples
    --------
    >>> p = pd.DataFrame({"patient_id": ["a"], "best_response": ["NR"], "response_day": [28],
    ...                   "death": [True], "death_day": [90], "last_followup_day": [90]})
    >>> derive_endpoints(p)[["param", "day", "event", "reason"]].values.tolist()
    [['OS', 90, 1, 'death'], ['EFS', 0, 1, 'no response (NR)']]
    """
    result = derive_endpoints_with_exclusions(
        patients, params=CORE_PARAMS, efs_nonresponse=efs_nonresponse, not_evaluable=not_evaluable
    )
    if result.n_excluded:
        pids = result.exclusions["patient_id"].unique()
        msg = (
            f"{result.n_excluded} patient-parameter rows could not be derived "
            f"({len(pids)} patients, e.g. {pids[:3].tolist()}); see "
            "derive_endpoints_with_exclusions(...).exclusions for the reasons."
        )
        warnings.warn(msg, EndpointExclusionWarning, stacklevel=2)
    return result.endpoints


def landmark(
    endpoints: pd.DataFrame | EndpointsResult,
    day: int = 28,
    *,
    response: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Landmark an endpoints table at ``day``: keep rows at risk then and start them there.

    Parameters
    ----------
    endpoints
        Output of :func:`derive_endpoints` (or its result object).
    day
        Landmark day after infusion (default 28, the day-28 response assessment).
    response
        Optional patient frame with ``patient_id``, ``best_response`` and
        ``response_day`` (e.g. the output of ``derive_response``); adds
        ``responder_at_landmark``: ``True`` for CR/CRi assessed on or before ``day``,
        ``False`` otherwise (including responses first assessed after the landmark),
        missing when the response is unknown.

    Returns
    -------
    pandas.DataFrame
        Rows with ``start_day <= day < day_end`` (alive, event-free and followed beyond
        the landmark), ``start_day`` set to ``day``, ``time_days`` recomputed, and a
        ``landmark_day`` column.

    Notes
    -----
    Comparing outcomes by response from infusion gives responders a "guaranteed" event-free
    time until their response is assessed (guarantee-time / immortal-time bias). The
    landmark method (Anderson, Cain & Gelber, J Clin Oncol 1983;1:710) fixes the covariate
    at the landmark and counts time only from there. Rows that start after the landmark
    (e.g. LFS of a response assessed on day 35) are not at risk at the landmark and are
    dropped, as are rows ending on or before it.

    Examples
    --------
    >>> ep = pd.DataFrame({"patient_id": ["a", "b"], "param": ["OS", "OS"],
    ...                    "start_day": [0, 0], "day": [20, 300], "time_days": [20, 300],
    ...                    "event": [1, 0], "reason": ["death", "censored"], "source": ["", ""]})
    >>> landmark(ep, 28)[["patient_id", "start_day", "time_days"]].values.tolist()
    [['b', 28, 272]]
    """
    frame = endpoints.endpoints if isinstance(endpoints, EndpointsResult) else endpoints
    if day < 0:
        msg = f"`day` (landmark) must be >= 0; got {day}."
        raise DerivationError(msg)
    keep = (frame["start_day"] <= day) & (frame["day"] > day)
    out = frame.loc[keep].copy()
    out["start_day"] = np.int64(day)
    out["start_day"] = out["start_day"].astype("int64")
    out["time_days"] = (out["day"] - out["start_day"]).astype("int64")
    out["landmark_day"] = np.int64(day)
    if response is not None:
        resp = _response_levels(response).to_numpy(dtype=object)
        rday = _days(response, "response_day").to_numpy(dtype=object)
        status = [
            pd.NA
            if pd.isna(r) or r == "NE"
            else bool(r in RESPONDER_LEVELS and pd.notna(d) and int(d) <= day)
            for r, d in zip(resp, rday, strict=True)
        ]
        lookup = pd.Series(
            pd.array(status, dtype="boolean"),
            index=_patient_ids(response, "response").to_numpy(dtype=object),
        )
        out["responder_at_landmark"] = pd.array(
            lookup.reindex(out["patient_id"].to_numpy(dtype=object)).to_numpy(), dtype="boolean"
        )
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------------
# CDISC ADTTE export: the one place where event <-> CNSR is flipped
# ------------------------------------------------------------------------------------------
def event_to_cnsr(event: pd.Series) -> pd.Series:
    """CDISC ``CNSR`` from cartcohort's ``event``: 0 for any event (codes >= 1), 1 if censored.

    Parameters
    ----------
    event
        0 = censored; 1 (or a competing cause 2, 3 ...) = event.

    Returns
    -------
    pandas.Series
        ``int64`` CNSR: ``0`` event, ``1`` censored.

    Examples
    --------
    >>> event_to_cnsr(pd.Series([0, 1, 2])).tolist()
    [1, 0, 0]
    """
    values = pd.to_numeric(event, errors="raise")
    if values.isna().any() or (values < 0).any():
        msg = "`event` must be 0 (censored) or a positive event code; found missing/negative."
        raise DerivationError(msg)
    return (values == 0).astype("int64")


def cnsr_to_event(cnsr: pd.Series) -> pd.Series:
    """cartcohort's ``event`` (``bool``) from CDISC ``CNSR`` (0 event, >= 1 censored).

    Parameters
    ----------
    cnsr
        ADaM censoring flag: 0 = event, 1 or more = censored (reason codes).

    Returns
    -------
    pandas.Series
        ``bool``: ``True`` for an event. Competing causes cannot be recovered from CNSR
        alone; read ``EVNTDESC``.

    Examples
    --------
    >>> cnsr_to_event(pd.Series([1, 0, 2])).tolist()
    [False, True, False]
    """
    values = pd.to_numeric(cnsr, errors="raise")
    if values.isna().any() or (values < 0).any():
        msg = "`CNSR` must be 0 (event) or >= 1 (censored); found missing/negative."
        raise DerivationError(msg)
    return values == 0


def to_adtte(endpoints: pd.DataFrame | EndpointsResult) -> pd.DataFrame:
    """ADaM ADTTE-like export of an endpoints table.

    Parameters
    ----------
    endpoints
        Output of :func:`derive_endpoints` / :func:`derive_endpoints_with_exclusions`.

    Returns
    -------
    pandas.DataFrame
        ``USUBJID, PARAMCD, PARAM, STARTDY, ADY, AVAL, CNSR, EVNTDESC, CNSDTDSC, SRCDOM,
        SRCVAR``: ``AVAL = ADY - STARTDY`` in days; ``CNSR`` 0 event / 1 censored (via
        :func:`event_to_cnsr`); ``EVNTDESC`` names the event (for ``CIR`` the competing
        death is ``CNSR = 0`` with ``EVNTDESC`` "death without relapse"); ``CNSDTDSC``
        describes the censoring date. Write CSV with ``.to_csv(path, index=False)``.

    Notes
    -----
    ``STARTDY`` and ``ADY`` are cartcohort study days (infusion = day 0), *not* SDTM
    ``--DY`` (which has no day 0); ``AVAL`` is unaffected. ``SRCDOM``/``SRCVAR`` name the
    cartcohort table and column the end day came from.

    Examples
    --------
    >>> ep = pd.DataFrame({"patient_id": ["a"], "param": ["OS"], "start_day": [0],
    ...                    "day": [90], "time_days": [90], "event": [1], "reason": ["death"],
    ...                    "source": ["patients.death_day"]})
    >>> to_adtte(ep)[["USUBJID", "PARAMCD", "AVAL", "CNSR", "SRCVAR"]].values.tolist()
    [['a', 'OS', 90, 0, 'DEATH_DAY']]
    """
    ep = endpoints.endpoints if isinstance(endpoints, EndpointsResult) else endpoints
    unknown = sorted(set(ep["param"].astype(str)) - set(PARAMS))
    if unknown:
        msg = f"to_adtte: unknown param values {unknown}; known: {', '.join(PARAMS)}."
        raise DerivationError(msg)
    cnsr = event_to_cnsr(ep["event"])
    is_event = cnsr == 0
    src = ep["source"].astype("string").str.split(".", n=1)
    reason = ep["reason"].astype("string")
    return pd.DataFrame(
        {
            "USUBJID": ep["patient_id"].astype("string"),
            "PARAMCD": ep["param"].map(lambda k: PARAMS[str(k)].paramcd).astype("string"),
            "PARAM": ep["param"].map(lambda k: PARAMS[str(k)].label).astype("string"),
            "STARTDY": ep["start_day"].astype("int64"),
            "ADY": ep["day"].astype("int64"),
            "AVAL": (ep["day"] - ep["start_day"]).astype("int64"),
            "CNSR": cnsr,
            "EVNTDESC": reason.where(is_event, pd.NA),
            "CNSDTDSC": reason.where(~is_event, pd.NA),
            "SRCDOM": src.str.get(0).astype("string").str.upper(),
            "SRCVAR": src.str.get(1).astype("string").str.upper(),
        }
    ).reset_index(drop=True)


__all__ = [
    "CORE_PARAMS",
    "DISEASE_DEATH_CAUSES",
    "ENDPOINT_COLUMNS",
    "EXCLUSION_COLUMNS",
    "NEWTX_PARAMS",
    "PARAMS",
    "EndpointExclusionWarning",
    "EndpointsResult",
    "ParamSpec",
    "cnsr_to_event",
    "derive_endpoints",
    "derive_endpoints_with_exclusions",
    "event_to_cnsr",
    "landmark",
    "to_adtte",
]
