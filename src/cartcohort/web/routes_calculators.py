"""Bedside calculators (no upload needed): CRS, ICANS, secondary HLH, EASIX and m-EASIX.

Forms are posted back to the same page; the answer comes from
:mod:`cartcohort.web.calculators` (the library's graders) and is shown with the
criterion that decided it and its source.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cartcohort.derive.toxicity import CRS_SCALES, ICANS_SCALES
from cartcohort.derive.toxicity.criteria import ctcae_hlh
from cartcohort.model.standard import (
    CEREBRAL_EDEMA,
    CONSCIOUSNESS,
    MOTOR_WEAKNESS,
    O2_DEVICE,
    SEIZURE,
)
from cartcohort.web import calculators
from cartcohort.web._common import render

_LABELS = {
    "none": "None",
    "low_flow_nasal_cannula": "Low-flow nasal cannula (≤ 6 L/min)",
    "blow_by": "Blow-by oxygen",
    "high_flow_nasal_cannula": "High-flow nasal cannula (> 6 L/min)",
    "facemask": "Facemask",
    "non_rebreather_mask": "Non-rebreather mask",
    "venturi_mask": "Venturi mask",
    "cpap": "CPAP",
    "bipap": "BiPAP",
    "mechanical_ventilation": "Intubation and mechanical ventilation",
    "alert": "Alert",
    "awakens_spontaneously": "Awakens spontaneously",
    "awakens_to_voice": "Awakens to voice",
    "awakens_to_tactile": "Awakens only to tactile stimulus",
    "unarousable": "Unarousable, or needs vigorous/repetitive stimuli; stupor or coma",
    "resolved_rapidly": "Seizure that resolved rapidly (or EEG seizure resolved with treatment)",
    "prolonged_or_repetitive": "Life-threatening prolonged (> 5 min) or repetitive seizures",
    "deep_focal": "Deep focal motor weakness (hemiparesis, paraparesis)",
    "focal": "Focal/local oedema on neuroimaging",
    "diffuse": "Diffuse oedema, posturing, CN VI palsy, papilloedema or Cushing's triad",
}

Calculator = Callable[[dict[str, str]], object]


def _options(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, _LABELS.get(v, v)) for v in values]


def _common() -> dict[str, object]:
    return {
        "section": "calculators",
        "o2_devices": _options(O2_DEVICE),
        "consciousness": _options(CONSCIOUSNESS),
        "seizures": _options(SEIZURE),
        "motor": _options(MOTOR_WEAKNESS),
        "edema": _options(CEREBRAL_EDEMA),
        "ice_items": calculators.ICE_ITEMS,
        "ice_source": calculators.ICE_SOURCE,
        "lab_fields": [
            (name, label, calculators.lab_units(analyte))
            for name, analyte, label in calculators.LAB_FIELDS
        ],
        "crs_scales": [
            (key, CRS_SCALES[key].title, CRS_SCALES[key].reference)
            for key in calculators.CRS_CALCULATOR_SCALES
        ],
        "hlh_reference": ctcae_hlh.SCALE.reference,
        "icans_scales": [
            (key, ICANS_SCALES[key].title, ICANS_SCALES[key].reference)
            for key in calculators.ICANS_CALCULATOR_SCALES
        ],
    }


async def index(request: Request) -> Response:
    """The list of calculators."""
    return render(request, "calculators.html", _common())


async def _calculator(request: Request, template: str, compute: Calculator) -> Response:
    context = _common()
    form: dict[str, str] = {}
    result: object = None
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        async with request.form(max_files=0, max_fields=60) as data:
            form = {k: v for k, v in data.items() if isinstance(v, str)}
        try:
            result = compute(form)
        except calculators.CalculatorInputError as exc:
            errors = exc.errors
            status = 400
    context.update({"form": form, "result": result, "errors": errors})
    return render(request, template, context, status=status)


async def crs(request: Request) -> Response:
    """CRS grade (ASTCT 2019, CTCAE v5.0 or v6.0) from temperature, blood pressure, oxygen."""
    return await _calculator(request, "calc_crs.html", calculators.crs_grade)


async def icans(request: Request) -> Response:
    """ICANS grade (ASTCT 2019 or CTCAE v6.0) from ICE or CAPD and the other domains."""
    return await _calculator(request, "calc_icans.html", calculators.icans_grade)


async def hlh(request: Request) -> Response:
    """CTCAE v6.0 secondary HLH grade from the clinician's flags."""
    return await _calculator(request, "calc_hlh.html", calculators.hlh_grade)


async def risk(request: Request) -> Response:
    """EASIX and m-EASIX from LDH, creatinine, CRP and platelets."""
    return await _calculator(request, "calc_easix.html", calculators.risk_scores)


ROUTES: list[BaseRoute] = [
    Route("/calculators", index, methods=["GET"], name="calculators"),
    Route("/calculators/crs", crs, methods=["GET", "POST"]),
    Route("/calculators/icans", icans, methods=["GET", "POST"]),
    Route("/calculators/easix", risk, methods=["GET", "POST"]),
    Route("/calculators/hlh", hlh, methods=["GET", "POST"]),
]

__all__ = ["ROUTES"]
