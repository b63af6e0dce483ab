"""Versioned grading criteria for CRS and ICANS, each stored with its source text.

The graders in :mod:`cartcohort.derive.toxicity` read their thresholds and
vocabularies from these modules, never from literals in the code, so that a
rule, the sentence that justifies it and the code that applies it can be read
side by side. Every :class:`Criterion` carries

* ``quote`` -- the sentence of the grading table or footnote it implements, as
  reproduced in the cited source;
* ``source`` -- where that sentence was read (a primary paper or a verbatim
  reproduction of its table, with the address);
* ``status`` -- how sure we are that the quote is the primary wording:
  ``"secondary"`` (read in a verbatim reproduction of the primary table),
  ``"interpretation"`` (the text does not settle the case; the coded rule is our
  documented reading and, where it matters, a user setting) or
  ``"unconfirmed"`` (not found in any source we could read; a setting).

Modules: :mod:`.astct_crs`, :mod:`.astct_icans`, :mod:`.legacy_crs` (Lee 2014,
Penn, MSKCC, CARTOX, CTCAE v4.03).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["secondary", "interpretation", "unconfirmed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Criterion:
    """One row (or footnote) of a grading table.

    Attributes
    ----------
    id
        Stable identifier, e.g. ``"astct-crs-hypoxia-3"``.
    grade
        The grade the criterion assigns (``None`` for a rule that is not a grade,
        e.g. a definition or a footnote).
    component
        The domain the criterion belongs to (``"fever"``, ``"hypotension"`` ...).
    rule
        The rule as coded, in words and with the observation columns it reads.
    quote
        The source sentence.
    source
        Where the quote was read.
    status
        ``"secondary"``, ``"interpretation"`` or ``"unconfirmed"`` (see module doc).
    """

    id: str
    grade: int | None
    component: str
    rule: str
    quote: str
    source: str
    status: Status = "secondary"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scale:
    """A grading system: version, inputs it needs and its criteria.

    Attributes
    ----------
    key
        The ``system=`` value that selects it (``"astct"``, ``"lee2014"`` ...).
    version
        Provenance string written into every graded row (``"ASTCT-2019"``).
    title
        Human-readable name.
    reference
        Citation of the primary publication.
    required_inputs
        Observation columns the scale reads. When one is absent (or missing on a
        row) the grades it could change are not gradable (``None``).
    optional_inputs
        Columns that refine the grade when present; when absent the documented
        operational definition applies (see ``notes``).
    criteria
        The criteria, with quotes and sources.
    notes
        Interpretations and settings that are not settled by the source text.
    """

    key: str
    version: str
    title: str
    reference: str
    required_inputs: tuple[str, ...]
    optional_inputs: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    notes: tuple[str, ...] = ()

    def criterion(self, id_: str) -> Criterion:
        """Return the criterion called ``id_``."""
        for c in self.criteria:
            if c.id == id_:
                return c
        raise KeyError(id_)


__all__ = ["Criterion", "Scale", "Status"]
