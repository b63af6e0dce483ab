"""The report's methods section, written from the numbers' own ``MethodInfo``.

Nothing here is typed by hand per analysis: every sentence comes from the
:class:`~cartcohort.analyse._results.MethodInfo` that the estimator attached to its
result (estimator, description, options such as the CI transform or tie handling, the R
function it reproduces, the software version), and from the derivation conventions of the
analysis dataset (``AnalysisDataset.options`` and ``provenance``). So the methods text
cannot drift from what was computed.

* :func:`method_groups` collects the methods of every *done* analysis, grouped by
  estimator, each with the analyses that used it.
* :func:`method_footnote` is the one-line footnote under an analysis.
* :func:`derivation_sentences` states the derivation conventions in words.
* :func:`software_versions` lists the versions of the numerical stack.
* :func:`lock_status` says whether the installed packages are the project's lock.
"""

from __future__ import annotations

import hashlib
import platform
import re
from dataclasses import dataclass, field
from importlib import metadata, resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import pandas as pd

    from cartcohort._results import MethodInfo, OptionValue
    from cartcohort.ard import AnalysisOutput, PlanResult

#: How an option key reads in a sentence.
OPTION_LABELS: dict[str, str] = {
    "ci_method": "confidence-interval transform",
    "confidence_level": "confidence level",
    "ties": "ties",
    "alternative": "alternative hypothesis",
    "correction": "correction",
    "continuity_correction": "continuity correction",
    "variance": "variance",
    "p_value": "p-value",
    "rho": "weight exponent rho",
    "strata": "strata",
    "extend": "extend beyond last time",
    "r_default_ci_method": "R survfit default transform",
    "relative_tolerance": "relative tolerance",
    "algorithm": "algorithm",
    "method": "method",
    "time_unit": "time unit",
}

#: How a derivation option reads in the methods section: key -> value -> sentence.
DERIVATION_TEXT: dict[str, dict[str, str]] = {
    "crs_system": {
        "astct": "CRS grades derived from daily observations follow the ASTCT 2019 consensus "
        "(Lee et al., Biol Blood Marrow Transplant 2019).",
        "ctcae_v5.0": "CRS grades derived from daily observations follow NCI CTCAE v5.0 "
        "'Cytokine release syndrome' (no fever gate; two or more pressors and mechanical "
        "ventilation read as grade 4).",
        "ctcae_v6.0": "CRS grades derived from daily observations follow NCI CTCAE v6.0 "
        "'Cytokine release syndrome' (oxygen by the ASTCT devices; no fever gate; two or more "
        "pressors and positive pressure read as grade 4).",
    },
    "icans_system": {
        "astct": "ICANS grades derived from daily observations follow the ASTCT 2019 consensus "
        "(ICE for adults, CAPD for children and patients with developmental delay).",
        "ctcae_v6.0": "ICANS grades derived from daily observations follow NCI CTCAE v6.0 "
        "'Immune effector cell-associated neurotoxicity syndrome' (ICE bands; CAPD with the "
        "level of consciousness for children).",
    },
    "relapse_rule": {
        "bbmt2010": "Relapse after CR read from marrow aspirates as >= 25 % blasts (BBMT 2010 "
        "ALL response criteria), or as reported.",
        "ponte_di_legno_2022": "Relapse after CR read from marrow aspirates by the "
        "Ponte-di-Legno 2022 consensus (Buchmann et al., Blood 2022) as far as the marrow "
        "table carries it, or as reported.",
        "threshold": "Relapse after CR read from marrow aspirates as blasts at or above a "
        "user-set threshold (not a published rule), or as reported.",
    },
    "efs_nonresponse": {
        "day0": "Primary non-response counted as an event-free-survival event at day 0.",
        "assessment": "Primary non-response counted as an event-free-survival event at the day "
        "of the response assessment.",
    },
    "not_evaluable": {
        "exclude": "Patients not evaluable for response were excluded from response analyses.",
        "failure": "Patients not evaluable for response were counted as treatment failures, "
        "timed like non-response.",
    },
    "dor_deaths": {
        "any": "Duration of response counted death from any cause as an event.",
        "disease": "Duration of response counted only disease-related death as an event.",
    },
}

#: Packages whose versions the reproducibility footer lists.
STACK = ("numpy", "scipy", "pandas", "statsmodels", "matplotlib", "jinja2")


@dataclass(frozen=True, slots=True)
class MethodGroup:
    """One estimator with every distinct way it was used and the analyses using it.

    Attributes
    ----------
    estimator
        The estimator name (``MethodInfo.estimator``).
    variants
        Per distinct (description, reference): the options of each use, in order.
    analyses
        Titles of the analyses using the estimator, ``"plan: title"``, in report order.
    """

    estimator: str
    variants: dict[tuple[str, str], list[Mapping[str, OptionValue]]] = field(default_factory=dict)
    analyses: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        """Write the methods paragraph for this estimator, in words.

        Options with the same value in every use are stated; options that differ
        between analyses (the groups compared, a stratum ...) are named as varying and
        given in each analysis's footnote.
        """
        parts: list[str] = []
        for (description, reference), uses in self.variants.items():
            text = _sentence_case(description.rstrip("."))
            keys = list(dict.fromkeys(k for use in uses for k in use))
            fixed = [format_option(k, uses[0][k]) for k in keys if _constant(uses, k)]
            varying = [
                OPTION_LABELS.get(k, k.replace("_", " ")) for k in keys if not _constant(uses, k)
            ]
            details = fixed + ([f"per analysis: {', '.join(varying)}"] if varying else [])
            if details:
                text += f" ({'; '.join(details)})"
            text += "."
            if reference:
                text += f" Reproduces {reference}."
            parts.append(text)
        return " ".join(parts)


def _constant(uses: list[Mapping[str, OptionValue]], key: str) -> bool:
    values = [use.get(key, _MISSING) for use in uses]
    return all(v == values[0] for v in values)


_MISSING = object()


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def format_option(key: str, value: OptionValue) -> str:
    """One option as ``"label: value"`` (``ci_method='log-log'`` -> CI transform: log-log).

    Parameters
    ----------
    key
        Option name.
    value
        Its value.

    Returns
    -------
    str
        The option in words; ``None`` shows as "none", booleans as yes/no.
    """
    label = OPTION_LABELS.get(key, key.replace("_", " "))
    if value is None:
        shown = "none"
    elif isinstance(value, bool):
        shown = "yes" if value else "no"
    else:
        shown = str(value)
    return f"{label}: {shown}"


def options_text(options: Mapping[str, OptionValue]) -> str:
    """All options of a method in their given order, separated by semicolons."""
    return "; ".join(format_option(k, v) for k, v in options.items())


def method_footnote(method: MethodInfo) -> str:
    """Write the footnote of one method: estimator, options, the R function it reproduces.

    Parameters
    ----------
    method
        The method of a result.

    Returns
    -------
    str
        E.g. ``"Kaplan-Meier (confidence-interval transform: log-log; ...); reproduces R
        survival::survfit; cartcohort 0.1.0."``
    """
    text = method.estimator
    if method.options:
        text += f" ({options_text(method.options)})"
    if method.reference:
        text += f"; reproduces {method.reference}"
    return f"{text}; {method.software}."


def method_groups(results: Sequence[PlanResult]) -> list[MethodGroup]:
    """Methods of every done analysis, grouped by estimator in order of first use.

    Parameters
    ----------
    results
        The plan results of the report.

    Returns
    -------
    list[MethodGroup]
        One group per estimator name.
    """
    groups: dict[str, MethodGroup] = {}
    for result in results:
        for output in _done(result.outputs):
            for method in output.methods:
                group = groups.setdefault(method.estimator, MethodGroup(method.estimator))
                key = (method.description, method.reference)
                group.variants.setdefault(key, []).append(dict(method.options))
                label = f"{result.plan_title}: {output.title}"
                if label not in group.analyses:
                    group.analyses.append(label)
    return list(groups.values())


def _done(outputs: Iterable[AnalysisOutput]) -> Iterable[AnalysisOutput]:
    return (o for o in outputs if o.status == "done")


def software_names(results: Sequence[PlanResult]) -> list[str]:
    """Distinct ``MethodInfo.software`` strings of every done analysis, sorted."""
    return sorted(
        {m.software for r in results for o in _done(r.outputs) for m in o.methods if m.software}
    )


def derivation_sentences(options: Mapping[str, str], provenance: pd.DataFrame | None) -> list[str]:
    """State the derivation conventions of the analysis dataset in words.

    Parameters
    ----------
    options
        ``AnalysisDataset.options`` (``crs_system``, ``efs_nonresponse`` ...).
    provenance
        ``AnalysisDataset.provenance`` (column, reported, derived, missing, method), or
        ``None``.

    Returns
    -------
    list[str]
        Sentences: each known option, then the time scale, then the derived columns with
        the rule that derived them.
    """
    sentences: list[str] = []
    for key, value in options.items():
        if key in ("params", "time_unit"):
            continue
        known = DERIVATION_TEXT.get(key, {}).get(str(value))
        sentences.append(known or f"Derivation option {key.replace('_', ' ')}: {value}.")
    if "time_unit" in options:
        sentences.append(
            f"Times are integer days ({options['time_unit']}); months are days / (365.25 / 12)."
        )
    if "params" in options:
        sentences.append("Endpoints derived: " + ", ".join(str(options["params"]).split(",")) + ".")
    if provenance is not None and not provenance.empty:
        derived = provenance[provenance["derived"].fillna(0).astype(int) > 0]
        if not derived.empty:
            items = "; ".join(
                f"{row.column} ({row.method})" for row in derived.itertuples(index=False)
            )
            sentences.append(
                "Where the patient sheet did not report a value it was derived from the "
                f"detailed tables: {items}. Reported values were kept as given."
            )
    return sentences


def software_versions() -> list[tuple[str, str]]:
    """``[(name, version), ...]`` for cartcohort, Python and the numerical stack."""
    rows = [("cartcohort", _version("cartcohort")), ("Python", platform.python_version())]
    rows += [(name, _version(name)) for name in STACK]
    return rows


#: Where the lock lives in the source tree; the package carries the same file as ``locked.txt``.
LOCK_PATH = "constraints/locked.txt"


@dataclass(frozen=True, slots=True)
class LockStatus:
    """How the installed packages compare with the project's lock (``constraints/locked.txt``).

    Attributes
    ----------
    path
        The lock's path in the source tree, as a user passes it to ``pip install -c``.
    sha256
        SHA-256 of the lock file this cartcohort was built with.
    n_packages
        Packages pinned by the lock.
    differing
        ``(name, installed, locked)`` for each pinned package whose installed version differs
        (``installed`` is ``"not installed"`` for one that is absent), sorted by name.
    """

    path: str
    sha256: str
    n_packages: int
    differing: tuple[tuple[str, str, str], ...]

    @property
    def matches(self) -> bool:
        """True when every package of the lock is installed at its locked version."""
        return not self.differing

    def sentence(self) -> str:
        """One sentence for the report's software section."""
        if self.matches:
            return (
                f"Installed from the lock {self.path} (SHA-256 {self.sha256[:12]}): all "
                f"{self.n_packages} pinned packages are at their locked versions, so "
                f"'pip install -c {self.path}' reproduces this software."
            )
        shown = ", ".join(f"{n} {i} (locked {lk})" for n, i, lk in self.differing[:5])
        more = f" and {len(self.differing) - 5} more" if len(self.differing) > 5 else ""
        return (
            f"Not the locked set: {len(self.differing)} of the {self.n_packages} packages "
            f"pinned by {self.path} (SHA-256 {self.sha256[:12]}) differ: {shown}{more}. "
            "The versions above are what was used."
        )

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``results.json``."""
        return {
            "path": self.path,
            "sha256": self.sha256,
            "n_packages": self.n_packages,
            "matches": self.matches,
            "differing": [list(d) for d in self.differing],
        }


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def lock_status(text: str | None = None) -> LockStatus | None:
    """Compare the installed versions with the lock this cartcohort ships; None without one.

    The lock pins the exact releases the test suite last passed with (regenerated by
    ``bash constraints/update-lock``). A report made where every pinned package is at its
    locked version says so and names the lock, so a centre can rebuild the same software years
    later; otherwise it lists what differs. ``text`` is a lock's content (default: the lock
    packaged with cartcohort, a copy of ``constraints/locked.txt``).
    """
    if text is None:
        try:
            text = (resources.files("cartcohort") / "locked.txt").read_text(encoding="utf-8")
        except OSError:
            return None
    pins = [m.groups() for m in map(_PIN.match, text.splitlines()) if m is not None]
    if not pins:
        return None
    differing = []
    for name, locked in pins:
        installed = _version(name)
        if installed != locked:
            differing.append((name, installed, locked))
    return LockStatus(
        path=LOCK_PATH,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        n_packages=len(pins),
        differing=tuple(sorted(differing, key=lambda d: d[0].lower())),
    )


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


__all__ = [
    "DERIVATION_TEXT",
    "LOCK_PATH",
    "OPTION_LABELS",
    "LockStatus",
    "MethodGroup",
    "derivation_sentences",
    "format_option",
    "lock_status",
    "method_footnote",
    "method_groups",
    "options_text",
    "software_names",
    "software_versions",
]
