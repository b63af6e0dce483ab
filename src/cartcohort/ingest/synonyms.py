"""Clinical synonyms: the headers centres write, and the standard's column each one means.

The dictionary is the data file ``synonyms.yaml`` next to this module: every entry names
the column (``table.column``, or ``identifier`` for a direct identifier that is refused),
the headers, their language and the source of the spelling. ``docs/mapping.md`` lists it.

Headers are matched by :func:`synonym_key`: case, accents, punctuation and a unit in
brackets do not matter (``"Age (years)"`` matches ``"AGE"``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from cartcohort.model.standard import TABLE_BY_NAME

#: The target of a header that names a direct identifier (refused, never mapped).
IDENTIFIER = "identifier"

_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOT_WORD = re.compile(r"[^0-9a-z+]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Synonym:
    """One header of the dictionary and what it means.

    Attributes
    ----------
    header
        The header as listed in the dictionary.
    table, column
        The standard column it means; ``column`` is :data:`IDENTIFIER` (and ``table``
        empty) for a direct identifier.
    lang
        Language code(s) of the entry (``en``, ``de/fr/es/it``).
    source
        Where the spelling comes from.
    """

    header: str
    table: str
    column: str
    lang: str
    source: str

    @property
    def is_identifier(self) -> bool:
        """Whether the header names a direct identifier (refused)."""
        return self.column == IDENTIFIER


def synonym_key(header: str) -> str:
    """The matching key of a header: no accents, units in brackets, case or punctuation.

    Examples
    --------
    >>> synonym_key("Age (years)")
    'age'
    >>> synonym_key("Max Grade CRS")
    'max_grade_crs'
    """
    text = unicodedata.normalize("NFKD", header)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    stripped = _BRACKETS.sub(" ", text)
    if stripped.strip():
        text = stripped
    return _NOT_WORD.sub("_", text).strip("_")


@cache
def synonyms() -> Mapping[str, Synonym]:
    """The dictionary: matching key -> synonym (read once from ``synonyms.yaml``)."""
    text = resources.files("cartcohort.ingest").joinpath("synonyms.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    out: dict[str, Synonym] = {}
    for entry in data["entries"]:
        target = str(entry["column"])
        table, _, column = target.rpartition(".")
        if target != IDENTIFIER and (
            table not in TABLE_BY_NAME or column not in TABLE_BY_NAME[table].column_names
        ):
            msg = f"synonyms.yaml: {target!r} is not a column of the standard"
            raise ValueError(msg)
        for header in entry["headers"]:
            key = synonym_key(str(header))
            out.setdefault(
                key,
                Synonym(
                    header=str(header),
                    table=table,
                    column=column if target != IDENTIFIER else IDENTIFIER,
                    lang=str(entry.get("lang", "en")),
                    source=str(entry["source"]),
                ),
            )
    return out


def synonym_for(header: str, *, table: str | None = None) -> Synonym | None:
    """The dictionary entry for ``header`` (in ``table`` if given), or ``None``.

    Examples
    --------
    >>> synonym_for("Gender").column
    'sex'
    >>> synonym_for("DOB").is_identifier
    True
    """
    found = synonyms().get(synonym_key(header))
    if found is None or (table is not None and not found.is_identifier and found.table != table):
        return None
    return found


def suggest_columns(header: str, table: str, *, n: int = 3) -> tuple[str, ...]:
    """Standard columns of ``table`` that ``header`` may mean: the dictionary first, then
    string similarity to the standard's names."""
    found = synonym_for(header, table=table)
    if found is not None and not found.is_identifier:
        return (found.column,)
    names = list(TABLE_BY_NAME[table].column_names)
    key = synonym_key(header)
    return tuple(difflib.get_close_matches(key, names, n=n, cutoff=0.6))


__all__ = [
    "IDENTIFIER",
    "Synonym",
    "suggest_columns",
    "synonym_for",
    "synonym_key",
    "synonyms",
]
