"""Figure styles shared by the chapters: readable in grey and by colour-blind readers.

Colours come from the Okabe-Ito palette (Okabe and Ito, "Color Universal
Design", 2008). Each series also gets its own line style and marker, so that
series stay apart when a page is printed in grey.
"""

from __future__ import annotations

import numbers
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from optimlib import _validation as check

#: Okabe-Ito colours, without yellow, which is too light on a white page.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def series_style(index: int, points: int | None = None) -> dict[str, Any]:
    """Return matplotlib keyword arguments that set series ``index`` apart.

    Args:
        index: the series number, >= 0. Colours and markers repeat after
            seven series, line styles after four.
        points: the number of points in the series. When given, markers are
            placed about eight times along the line rather than at every point.

    Returns:
        ``color``, ``linestyle``, ``marker`` and, with ``points``, ``markevery``.
    """
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"index must be an integer, got {index!r}")
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index!r}")
    style: dict[str, Any] = {
        "color": PALETTE[index % len(PALETTE)],
        "linestyle": LINESTYLES[index % len(LINESTYLES)],
        "marker": MARKERS[index % len(MARKERS)],
        "markersize": 5,
    }
    if points is not None:
        every = max(1, check.positive_int("points", points) // 8)
        style["markevery"] = (index * every // 3 % every, every)
    return style


def plot_series(
    ax: plt.Axes, x: object, ys: object, labels: list[str]
) -> list[plt.Line2D]:
    """Draw the columns of ``ys`` against ``x``, one distinct style per column.

    Args:
        ax: the axes to draw on.
        x: shape (points,).
        ys: shape (points, len(labels)).
        labels: the legend entry of every column.

    Returns:
        The lines, in column order, for later ``set_ydata`` calls.
    """
    xs = check.numeric_array("x", x)
    columns = check.numeric_array("ys", ys)
    if columns.ndim == 1:
        columns = columns[:, np.newaxis]
    if columns.shape != (xs.size, len(labels)):
        raise ValueError(
            f"ys must have shape ({xs.size}, {len(labels)}), got {columns.shape}"
        )
    lines = []
    for k, label in enumerate(labels):
        (line,) = ax.plot(xs, columns[:, k], label=label, **series_style(k, xs.size))
        lines.append(line)
    return lines
