"""The kernel-free version of the chapters' panel, for the static book.

A static page has no kernel, so its panel cannot call ``CurveSet`` when a
control moves. Instead, ``panel_html`` computes the curves with optimlib for
every point of a grid of control values and stores them in an HTML snippet.
In the browser, ``assets/optimlib/panels.js`` draws them with plotly.js and
only looks up the stored curves of the selected grid point: it never computes
an effective rate itself.

Each stored value is log10 of a rate, quantised to 16 bits between the
smallest and largest value of its part of the grid. With the default grid the
relative error of a decoded rate is below 3e-4, and a panel weighs about
100 kB (AdaGrad) to 520 kB (both optimizers) as text.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optimlib import _validation as check
from optimlib.plotting import series_style
from optimlib.schedules import CurveSet

if TYPE_CHECKING:
    from optimlib.widgets import EffectiveLRPanel

#: Grid of the static controls. The live sliders move in tenths of a decade,
#: the static ones in half decades, to keep a page's data small.
SCALE_EXPONENTS = tuple(np.round(np.arange(-3.0, 3.01, 0.5), 1))
LR_EXPONENTS = tuple(np.round(np.arange(-4.0, 0.01, 0.5), 1))
RHOS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
#: Points per curve on the static page, log-spaced in t like the live panel.
STATIC_POINTS = 80

#: One plotly dash pattern per curve. The static panel draws lines without
#: markers, because markers made each redraw about 3 ms slower (plotly.js
#: 4.1.1, headless Chromium, benchmarks/browser_latency.py), so six patterns
#: keep six curves apart in grey.
DASHES = ("solid", "dash", "dashdot", "dot", "longdash", "longdashdot")


@dataclass(frozen=True)
class StaticGrid:
    """Control values for which the static panel stores curves.

    Attributes:
        scales: gradient scales, increasing.
        lrs: values of eta, increasing.
        rhos: values of rho, increasing. Unused for AdaGrad alone.
    """

    scales: tuple[float, ...]
    lrs: tuple[float, ...]
    rhos: tuple[float, ...]

    @classmethod
    def around(cls, scale: float, lr: float, rho: float) -> StaticGrid:
        """Return the default grid, with the panel's initial values added to it."""
        scale = check.positive_finite("scale", scale)
        lr = check.positive_finite("lr", lr)
        rho = check.unit_interval("rho", rho)
        return cls(
            scales=_with_value([10.0**e for e in SCALE_EXPONENTS], scale),
            lrs=_with_value([10.0**e for e in LR_EXPONENTS], lr),
            rhos=_with_value(list(RHOS), rho),
        )


def _with_value(values: list[float], value: float) -> tuple[float, ...]:
    # A value within 1e-9 relative of a grid value is that grid value, so the
    # default 0.01 does not add a second point next to 10.0 ** -2.0.
    if not np.any(np.isclose(values, value, rtol=1e-9, atol=0.0)):
        values = values + [value]
    return tuple(float(v) for v in sorted(values))


def grid_index(values: tuple[float, ...], value: float) -> int:
    """Return the index of the grid value closest to ``value`` in log scale."""
    return int(np.argmin(np.abs(np.log(values) - np.log(value))))


def precompute(
    panel: EffectiveLRPanel, grid: StaticGrid, curves: CurveSet
) -> dict[str, np.ndarray]:
    """Compute the effective rates of every grid point with ``curves``.

    Args:
        panel: supplies the algorithm and eps.
        grid: the control values.
        curves: the panel's noise, reduced to the static number of points.

    Returns:
        ``"adagrad"`` with shape (scales, lrs, curves, points) and/or
        ``"rmsprop"`` with shape (scales, lrs, rhos, curves, points).
    """
    parts: dict[str, np.ndarray] = {}
    if panel.algorithm in ("adagrad", "both"):
        parts["adagrad"] = np.array([
            [curves.adagrad(scale, lr, panel.eps).T for lr in grid.lrs]
            for scale in grid.scales
        ])
    if panel.algorithm in ("rmsprop", "both"):
        # rho varies slowest, so CurveSet recomputes its moving average only
        # once per value of rho.
        by_rho = np.array([
            [[curves.rmsprop(scale, lr, rho, panel.eps).T for lr in grid.lrs]
             for scale in grid.scales]
            for rho in grid.rhos
        ])
        parts["rmsprop"] = np.moveaxis(by_rho, 0, 2)
    return parts


def encode_log_uint16(rates: np.ndarray) -> dict[str, Any]:
    """Quantise log10(rates) to 16 bits and return it as base64 with its scale.

    Args:
        rates: positive finite values, any shape.

    Returns:
        ``low`` and ``step`` (log10 value = low + step * code) and ``data``,
        the little-endian uint16 codes in C order as base64.
    """
    values = check.numeric_array("rates", rates)
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError("rates must be positive and finite to be stored in log scale")
    logs = np.log10(values.astype(np.float64))
    low = float(logs.min())
    step = max(float(logs.max()) - low, 1e-12) / 65535.0
    codes = np.round((logs - low) / step).astype("<u2")
    return {
        "low": low,
        "step": step,
        "data": base64.b64encode(codes.tobytes()).decode("ascii"),
    }


def decode_log_uint16(part: dict[str, Any], shape: tuple[int, ...]) -> np.ndarray:
    """Invert ``encode_log_uint16``: the rates, up to quantisation, in ``shape``."""
    codes = np.frombuffer(base64.b64decode(part["data"]), dtype="<u2")
    return 10.0 ** (part["low"] + part["step"] * codes.astype(np.float64).reshape(shape))


def trace_style(index: int) -> dict[str, Any]:
    """Return plotly ``line`` settings: ``series_style``'s colour, a dash per curve."""
    return {
        "line": {
            "color": series_style(index)["color"],
            "dash": DASHES[index % len(DASHES)],
            "width": 2,
        },
    }


def panel_spec(
    panel: EffectiveLRPanel, scale: float, lr: float, rho: float
) -> dict[str, Any]:
    """Build the JSON-ready description of a static panel: controls, curves, style.

    Args:
        panel: the panel to render.
        scale, lr, rho: the initial control values, added to the grid.

    Returns:
        A dict that ``assets/optimlib/panels.js`` reads. ``parts`` lists one
        entry per optimizer, whose ``dims`` name the controls that index it.
    """
    grid = StaticGrid.around(scale, lr, rho)
    curves = CurveSet(panel.noise, panel.relative_scales, max_points=STATIC_POINTS)
    controls = [
        _control("scale", "gradient scale", grid.scales, scale, ".3g"),
        _control("lr", "eta", grid.lrs, lr, ".3g"),
    ]
    if panel.algorithm != "adagrad":
        controls.append(_control("rho", "rho", grid.rhos, rho, ".3f"))

    parts = []
    computed = precompute(panel, grid, curves)
    for name, rates in computed.items():
        dims = ["scale", "lr", "rho"] if name == "rmsprop" else ["scale", "lr"]
        parts.append({
            "algorithm": name,
            "dims": dims,
            "shape": list(rates.shape),
            **encode_log_uint16(rates),
        })

    labels = panel.labels()
    return {
        "format": 1,
        "algorithm": panel.algorithm,
        "panel": {"steps": panel.steps, "seed": panel.seed, "eps": panel.eps},
        "steps": (curves.indices + 1).tolist(),
        "controls": controls,
        "parts": parts,
        "yRange": _decade_range(computed.values()),
        "traces": [{"name": label, **trace_style(k)} for k, label in enumerate(labels)],
        "xTitle": "step t",
        "yTitle": "effective learning rate",
        "description": _description(panel.algorithm),
    }


def _decade_range(parts: object) -> list[int]:
    # The y axis stays fixed while the controls move, so that a change of
    # scale or eta shifts the curves rather than the tick labels. It spans
    # whole decades around every rate of the grid.
    logs = [np.log10(rates) for rates in parts]
    low = min(float(values.min()) for values in logs)
    high = max(float(values.max()) for values in logs)
    return [int(np.floor(low)), int(np.ceil(high))]


def _control(
    name: str, label: str, values: tuple[float, ...], initial: float, fmt: str
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "values": list(values),
        "texts": [format(value, fmt) for value in values],
        "initial": grid_index(values, initial),
    }


def _description(algorithm: str) -> str:
    names = {"adagrad": "AdaGrad", "rmsprop": "RMSprop", "both": "AdaGrad and RMSprop"}
    return (
        f"Effective learning rate of {names[algorithm]} against step t on "
        "log-log axes, one curve per gradient size."
    )


def panel_html(panel: EffectiveLRPanel, scale: float, lr: float, rho: float) -> str:
    """Return the static panel as an HTML snippet; see ``spec_html``."""
    return spec_html(panel_spec(panel, scale, lr, rho))


def spec_html(spec: dict[str, Any]) -> str:
    """Return a static panel as an HTML snippet with its data inline.

    The snippet contains a ``<div class="optimlib-panel">`` and the panel's data
    as ``<script type="application/json">``. It runs no code itself: the
    book's pages load ``assets/optimlib/panels.js``, which draws every panel.

    Args:
        spec: the result of ``panel_spec``.
    """
    data = json.dumps(spec, separators=(",", ":"))
    # "</" would end the script element early; JSON allows "<\/" in strings.
    data = data.replace("</", "<\\/")
    description = html.escape(spec["description"])
    return (
        '<div class="optimlib-panel">\n'
        f'<p class="optimlib-panel-caption">{description}'
        '<span class="optimlib-panel-nojs"> The interactive version of this '
        "figure needs JavaScript.</span></p>\n"
        '<script type="application/json" class="optimlib-panel-data">'
        f"{data}</script>\n"
        "</div>\n"
    )
