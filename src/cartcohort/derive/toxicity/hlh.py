"""Daily grading of secondary HLH by CTCAE v6.0, from clinician-recorded flags.

The same interval arithmetic as :mod:`cartcohort.derive.toxicity.crs`: each flag is a
component whose grade is known when the flag is recorded, and the day's grade is reported
only when the recorded flags determine it. Criteria and sources:
:mod:`cartcohort.derive.toxicity.criteria.ctcae_hlh`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cartcohort.derive.toxicity.criteria import ctcae_hlh
from cartcohort.derive.toxicity.crs import (
    _C,
    _assemble,
    _bool_array,
    _check_frame,
    _deaths,
    _Graded,
    _i8,
    _keys_with_deaths,
    _Obs,
)

_HLH_CAUSES = frozenset(
    {
        "hlh",
        "shlh",
        "secondary hlh",
        "hemophagocytic lymphohistiocytosis",
        "secondary hemophagocytic lymphohistiocytosis",
    }
)
#: Flag column -> the grade it gives (on a day with secondary HLH).
_FLAGS: tuple[tuple[str, str, int], ...] = (
    ("shlh_intervention", "intervention", 2),
    ("shlh_hospitalized", "hospitalisation", 3),
    ("shlh_life_threatening", "life_threatening", 4),
)


def grade_secondary_hlh(
    observations: pd.DataFrame, *, events: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Grade secondary HLH for every patient-day by CTCAE v6.0.

    Parameters
    ----------
    observations
        ``patient_id``, ``day`` and the boolean columns ``shlh`` (secondary HLH present,
        as diagnosed), ``shlh_intervention``, ``shlh_hospitalized``,
        ``shlh_life_threatening`` (see
        :data:`cartcohort.derive.toxicity.criteria.ctcae_hlh.EXTRA_COLUMNS`). An absent
        column is missing on every row.
    events
        Optional ``events`` table; ``event == "death"`` with cause HLH (``"HLH"``,
        ``"secondary HLH"``, ``"hemophagocytic lymphohistiocytosis"`` ..., case-insensitive,
        ``cause`` or ``detail``) gives grade 5 on that day.

    Returns
    -------
    pandas.DataFrame
        One row per patient-day: ``patient_id, day, system`` (``"CTCAE-6.0"``), ``grade``
        (``Int64``; ``<NA>`` = not gradable), ``grade_lower_bound``, ``grade_upper_bound``,
        ``driver``, ``shlh`` (boolean).

    Raises
    ------
    DerivationError
        Missing keys, duplicate patient-days, or flags that are not boolean.

    Notes
    -----
    A day without secondary HLH (``shlh`` False) is grade 0 and its other flags are not
    read. With HLH the grade is 1 ("Asymptomatic or mild symptoms; ... intervention not
    indicated"), 2 with an intervention ("intervention indicated (e.g., immunosuppressive
    agents)"), 3 with hospitalisation ("hospitalization or prolongation of existing
    hospitalization indicated"), 4 when life-threatening ("urgent intervention indicated"):
    the highest flag that is True. A missing flag leaves its grade possible, so the day is
    not gradable unless a higher flag settles it. HLH is never diagnosed from laboratory
    values here. See ``docs/methods/ctcae-lab-grading.md``.

    References
    ----------
    National Cancer Institute. CTCAE v6.0 (2025): Secondary hemophagocytic
    lymphohistiocytosis (MedDRA 10081409).

    Examples
    --------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"patient_id": ["A", "A"], "day": [10, 11], "shlh": [True, False],
    ...                     "shlh_intervention": [True, None], "shlh_hospitalized": [False, None],
    ...                     "shlh_life_threatening": [False, None]})
    >>> grade_secondary_hlh(obs)["grade"].tolist()
    [2, 0]
    """
    frame, keys, death = _keys_with_deaths(_check_frame(observations), _deaths(events, _HLH_CAUSES))
    obs = _Obs(frame, keys)
    n = keys.n
    present, present_na = obs.bool3("shlh")
    possible = present | present_na
    comps = [_C(_i8(present, n), _i8(possible, n)).named("present")]
    for column, name, grade in _FLAGS:
        true, na = obs.bool3(column)
        comps.append(
            _C(
                np.where(present & true, grade, 0),
                np.where(possible & (true | na), grade, 0),
            ).named(name)
        )
    lo = _i8(0, n)
    hi = _i8(0, n)
    for comp in comps:
        lo = np.maximum(lo, comp.lo)
        hi = np.maximum(hi, comp.hi)
    graded = _Graded(lo, hi, tuple(comps), {"shlh": _bool_array(present, present_na)})
    return _assemble(keys, graded, death, ctcae_hlh.VERSION)


__all__ = ["grade_secondary_hlh"]
