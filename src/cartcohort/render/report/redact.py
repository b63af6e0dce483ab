"""Patient pseudonyms in free text: moved out of sentences into listings.

Pseudonyms appear in the report only in *listings* (elements with the CSS class
``listing``); :class:`Redactor` shortens any other sentence that names a patient and keeps
the names for a listing beside it (see :mod:`cartcohort.render.report.build`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


_PAREN = re.compile(r"\s*\(([^()]*)\)")


@dataclass(frozen=True, slots=True)
class Note:
    """A sentence with the patient pseudonyms it named moved into a listing."""

    text: str
    patients: str = ""


class Redactor:
    """Move patient pseudonyms out of free text (see module docstring).

    Parameters
    ----------
    ids
        Every patient pseudonym of the cohort.

    Notes
    -----
    Pseudonyms made of letters, digits, ``_``, ``.`` and ``-`` (``SYN-001``, ``P.12``) are
    found as whole tokens by one scan and a set look-up, so a 10,000-patient cohort costs
    no more than a small one; any other pseudonym is matched literally.
    """

    _TOKEN = re.compile(r"(?<![\w-])\w(?:[\w.-]*\w)?(?![\w-])")
    _PLAIN = re.compile(r"\w(?:[\w.-]*\w)?")

    def __init__(self, ids: Iterable[str]) -> None:
        names = {str(i) for i in ids if str(i)}
        self._plain = frozenset(n for n in names if self._PLAIN.fullmatch(n))
        odd = sorted(names - self._plain, key=len, reverse=True)
        self._odd = (
            re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, odd)) + r")(?![\w-])")
            if odd
            else None
        )

    def _find(self, text: str) -> list[tuple[int, int]]:
        spans = [m.span() for m in self._TOKEN.finditer(text) if m.group(0) in self._plain]
        if self._odd is not None:
            spans += [m.span() for m in self._odd.finditer(text)]
        return sorted(spans)

    def has_id(self, text: str) -> bool:
        """Whether ``text`` names a patient."""
        return bool(self._find(text))

    def _replace(self, text: str, spans: list[tuple[int, int]]) -> tuple[str, list[str]]:
        out, found, last = [], [], 0
        for a, b in spans:
            if a < last:
                continue
            out += [text[last:a], "[patient]"]
            found.append(text[a:b])
            last = b
        out.append(text[last:])
        return "".join(out), found

    def note(self, text: object) -> Note:
        """Split ``text`` into a sentence without pseudonyms and the pseudonyms it named."""
        body = "" if text is None else str(text)
        if not self.has_id(body):
            return Note(body)
        listed: list[str] = []

        def lift(match: re.Match[str]) -> str:
            inner = match.group(1)
            if not self.has_id(inner):
                return match.group(0)
            listed.append(inner)
            return ""

        body = _PAREN.sub(lift, body)
        body, found = self._replace(body, self._find(body))
        if found:
            listed.append(", ".join(found))
        return Note(body.strip(), "; ".join(listed))
