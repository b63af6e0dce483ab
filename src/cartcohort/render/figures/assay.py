"""Standard-curve figure: standards, fitted curve, range limits and samples on the curve.

The figure draws numbers already computed by :mod:`cartcohort.assay`; it computes
nothing itself. It uses Matplotlib's object-oriented API only (no pyplot state) and the
Okabe-Ito palette, which stays distinguishable with colour-vision deficiency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from cartcohort.assay.curves import StandardCurveResult

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}

_LOW = ("<LLOQ", "below_fit")
_HIGH = (">ULOQ", "above_fit")


def _sample_positions(
    samples: pd.DataFrame, fit: StandardCurveResult, x_min: float, x_max: float
) -> pd.DataFrame:
    """x for each sample well: its value if in range, else the limit (or the axis edge)."""
    flag = samples["flag"].astype(str).str.split(";").str[0]
    x = samples["value"].to_numpy(float).copy()
    lloq = fit.lloq if np.isfinite(fit.lloq) else x_min
    uloq = fit.uloq if np.isfinite(fit.uloq) else x_max
    x[flag.isin(["<LLOQ"]).to_numpy()] = lloq
    x[flag.isin([">ULOQ"]).to_numpy()] = uloq
    x[(flag == "below_fit").to_numpy()] = x_min
    x[(flag == "above_fit").to_numpy()] = x_max
    return pd.DataFrame({"x": x, "signal": samples["signal"].to_numpy(float), "flag": flag})


def plot_standard_curve(
    fit_result: StandardCurveResult,
    samples: pd.DataFrame | None = None,
    *,
    y_scale: Literal["auto", "linear", "log"] = "auto",
) -> Figure:
    """Plot a fitted standard curve with its standards, range and samples.

    Parameters
    ----------
    fit_result
        A :class:`~cartcohort.assay.curves.StandardCurveResult`.
    samples
        Sample wells to place on the curve, with columns ``signal``, ``value`` (in the
        curve's unit) and ``flag`` — the ``wells`` table of a
        :class:`~cartcohort.assay.quantify.QuantificationResult` (filtered to this
        ``fit_id``) or the output of ``fit_result.predict``. In-range wells are drawn at
        their value; ``<LLOQ``/``>ULOQ`` wells at the limit with an open triangle pointing
        out of the range; wells off the fit at the axis edge; undetermined Ct wells are
        counted in the legend.
    y_scale
        ``"auto"`` (log for 4PL/5PL signals spanning more than a factor of 20, else linear),
        ``"linear"`` or ``"log"``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: log concentration on x, signal on y.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from cartcohort.assay.curves import fit_standard_curve
    >>> copies = np.repeat(10.0 ** np.arange(6, 0, -1), 2)
    >>> fit = fit_standard_curve(
    ...     pd.DataFrame({"nominal": copies, "signal": 40 - np.log2(copies)}), model="qpcr")
    >>> fig = plot_standard_curve(fit, fit.predict([20.0, 39.0]))
    >>> len(fig.axes)
    1
    """
    fig = Figure(figsize=(6.4, 4.6), layout="constrained")
    ax = fig.add_subplot()
    curve = fit_result.curve()
    rec = fit_result.recovery
    used = rec[rec["used_in_fit"]]
    x_min, x_max = float(curve["concentration"].min()), float(curve["concentration"].max())

    ax.plot(
        curve["concentration"],
        curve["signal"],
        color=OKABE_ITO["blue"],
        lw=1.8,
        label=f"{fit_result.model.upper()} fit",
        zorder=2,
    )
    passed = _passed(fit_result, used)
    ax.scatter(
        used.loc[passed, "nominal"],
        used.loc[passed, "signal"],
        s=28,
        color=OKABE_ITO["black"],
        label="standards",
        zorder=3,
    )
    if (~passed).any():
        ax.scatter(
            used.loc[~passed, "nominal"],
            used.loc[~passed, "signal"],
            s=40,
            marker="x",
            color=OKABE_ITO["vermillion"],
            label="standards outside recovery limits",
            zorder=3,
        )
    if np.isfinite(fit_result.lloq):
        label = f"range: LLOQ {fit_result.lloq:.4g} – ULOQ {fit_result.uloq:.4g} {fit_result.unit}"
        for value in (fit_result.lloq, fit_result.uloq):
            ax.axvline(value, color=OKABE_ITO["green"], ls="--", lw=1, zorder=1, label=label)
            label = "_nolegend_"
    if samples is not None and len(samples):
        _draw_samples(ax, samples, fit_result, x_min, x_max)

    ax.set_xscale("log")
    ax.set_xlim(x_min, x_max)
    if _log_y(fit_result, y_scale):
        ax.set_yscale("log")
    is_qpcr = fit_result.model == "qpcr"
    ax.set_xlabel(
        f"{'standard quantity' if is_qpcr else 'concentration'} ({fit_result.unit}, log scale)"
    )
    ax.set_ylabel("Ct" if is_qpcr else "signal (MFI or OD)")
    ax.set_title(_title(fit_result), fontsize=9, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.grid(visible=True, which="major", color="#dddddd", lw=0.5)
    return fig


def _passed(fit: StandardCurveResult, used: pd.DataFrame) -> pd.Series:
    levels = fit.levels.set_index("nominal")["accepted"]
    return used["nominal"].map(levels).fillna(value=False).astype(bool)


def _log_y(fit: StandardCurveResult, y_scale: str) -> bool:
    if y_scale != "auto":
        return y_scale == "log"
    sig = fit.recovery["signal"].to_numpy(float)
    sig = sig[np.isfinite(sig)]
    return fit.model != "qpcr" and bool(np.all(sig > 0)) and sig.max() / sig.min() > 20


def _draw_samples(
    ax: Axes, samples: pd.DataFrame, fit: StandardCurveResult, x_min: float, x_max: float
) -> None:
    pos = _sample_positions(samples, fit, x_min, x_max)
    shown = pos[np.isfinite(pos["signal"])]
    inside = shown["flag"].isin(["", "nan", "replicates_disagree"]) & np.isfinite(shown["x"])
    ax.scatter(
        shown.loc[inside, "x"],
        shown.loc[inside, "signal"],
        s=30,
        color=OKABE_ITO["orange"],
        edgecolor=OKABE_ITO["black"],
        lw=0.5,
        label="samples (in range)",
        zorder=4,
    )
    for flags, marker, label in (
        (_LOW, "<", "samples below range"),
        (_HIGH, ">", "samples above range"),
    ):
        sel = shown["flag"].isin(flags)
        if sel.any():
            ax.scatter(
                shown.loc[sel, "x"],
                shown.loc[sel, "signal"],
                s=46,
                marker=marker,
                facecolor="none",
                edgecolor=OKABE_ITO["vermillion"],
                lw=1.2,
                label=f"{label} (not reported)",
                zorder=4,
            )
    n_missing = int((~np.isfinite(pos["signal"])).sum())
    if n_missing:
        ax.scatter([], [], marker="", label=f"{n_missing} well(s) undetermined/no signal")


def _title(fit: StandardCurveResult) -> str:
    params = ", ".join(f"{k} = {v:.4g}" for k, v in fit.params.items())
    extra = f"; efficiency {fit.efficiency * 100:.1f} %" if fit.efficiency is not None else ""
    status = "accepted" if fit.accepted else "REJECTED: " + "; ".join(fit.acceptance_failures)
    weights = "unweighted" if fit.weighting == "none" else f"weights {fit.weighting}"
    return f"{fit.fit_id} ({weights})\n{params}\nR² = {fit.r_squared:.4f}{extra}; {status}"


__all__ = ["OKABE_ITO", "plot_standard_curve"]
