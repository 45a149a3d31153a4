"""The interactive panel of the chapters: effective learning rates under sliders.

The panel draws the effective rate of three parameters whose gradients differ
in size by a factor of ten each. Sliders set the gradient scale (on a log
scale), eta and, for RMSprop, rho. Each move recomputes all curves with one
vectorised call of ``CurveSet`` and redraws at most ``max_points`` points per
curve.

The object that ``widget()`` returns also carries a static version of the
panel (see ``optimlib.static_widgets``) as its ``text/html`` output. Jupyter
front ends prefer the live widget; the book's HTML build is configured to show
the static version, which works with no kernel.
"""

from __future__ import annotations

import functools

import numpy as np

from optimlib import _validation as check
from optimlib.plotting import plot_series
from optimlib.schedules import CurveSet

ALGORITHMS = ("adagrad", "rmsprop", "both")
RELATIVE_SCALES = (0.1, 1.0, 10.0)


class EffectiveLRPanel:
    """Effective-rate curves for noisy gradients, recomputed on every control move.

    The gradient of parameter k at step t is scale * r_k * z_t,k with z drawn
    once from a standard normal distribution (seeded) and r_k in
    ``RELATIVE_SCALES``.

    Args:
        algorithm: ``"adagrad"``, ``"rmsprop"`` or ``"both"``.
        steps: the length of each run, >= 2.
        seed: the seed of the noise.
        eps: epsilon, inside the square root.
        max_points: at most this many points per curve are drawn.
    """

    def __init__(
        self,
        algorithm: str = "adagrad",
        steps: int = 10_000,
        seed: int = 0,
        eps: float = 1e-8,
        max_points: int = 400,
    ) -> None:
        self.algorithm = check.one_of("algorithm", algorithm, ALGORITHMS)
        self.steps = check.positive_int("steps", steps)
        self.seed = seed
        self.eps = check.nonnegative_finite("eps", eps)
        self.relative_scales = RELATIVE_SCALES
        self.noise = np.random.default_rng(seed).standard_normal(
            (self.steps, len(RELATIVE_SCALES))
        )
        self.curves = CurveSet(self.noise, RELATIVE_SCALES, max_points=max_points)
        self.steps_axis = self.curves.indices + 1

    def labels(self) -> list[str]:
        """Return the legend entry of every curve, in column order."""
        names = {"adagrad": ["AdaGrad"], "rmsprop": ["RMSprop"]}
        names["both"] = names["adagrad"] + names["rmsprop"]
        return [
            f"{name}, gradient x {relative:g}"
            for name in names[self.algorithm]
            for relative in RELATIVE_SCALES
        ]

    def compute(self, scale: float, lr: float, rho: float = 0.9) -> np.ndarray:
        """Return the effective rates, shape (points, curves), for one setting."""
        parts = []
        if self.algorithm in ("adagrad", "both"):
            parts.append(self.curves.adagrad(scale, lr, self.eps))
        if self.algorithm in ("rmsprop", "both"):
            parts.append(self.curves.rmsprop(scale, lr, rho, self.eps))
        return np.hstack(parts)

    def widget(self, scale: float = 1.0, lr: float = 0.01, rho: float = 0.9):
        """Build the ipywidgets panel: sliders above a matplotlib figure.

        Returns:
            An ``ipywidgets.VBox`` whose display also offers the static panel
            as ``text/html``. Display it as the last line of a cell.
        """
        import ipywidgets as widgets
        import matplotlib.pyplot as plt
        from IPython.display import display

        from optimlib.static_widgets import panel_spec, spec_html

        controls = {
            "scale": widgets.FloatLogSlider(
                value=scale, base=10, min=-3, max=3, step=0.1,
                description="gradient scale", readout_format=".3g",
            ),
            "lr": widgets.FloatLogSlider(
                value=lr, base=10, min=-4, max=0, step=0.1,
                description="eta", readout_format=".3g",
            ),
        }
        if self.algorithm != "adagrad":
            controls["rho"] = widgets.FloatSlider(
                value=rho, min=0.5, max=0.999, step=0.001,
                description="rho", readout_format=".3f",
            )
        for control in controls.values():
            control.style.description_width = "initial"

        # The static panel's grid spans the sliders' ranges, so its y range
        # contains every curve the sliders can produce. A fixed y axis lets a
        # change of scale or eta move the curves instead of the tick labels.
        spec = panel_spec(self, scale, lr, rho)
        low, high = spec["yRange"]

        output = widgets.Output()
        with plt.ioff():
            fig, ax = plt.subplots(figsize=(9, 4))
        lines = plot_series(
            ax, self.steps_axis, self.compute(scale, lr, rho), self.labels()
        )
        ax.set(xscale="log", yscale="log", xlabel="step t",
               ylabel="effective learning rate", ylim=(10.0**low, 10.0**high))
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
        fig.tight_layout()

        def redraw(change: object = None) -> None:
            values = {name: control.value for name, control in controls.items()}
            rates = self.compute(values["scale"], values["lr"], values.get("rho", rho))
            for k, line in enumerate(lines):
                line.set_ydata(rates[:, k])
            with output:
                output.clear_output(wait=True)
                display(fig)

        for control in controls.values():
            control.observe(redraw, names="value")
        redraw()
        box = _panel_box_class()([widgets.HBox(list(controls.values())), output])
        box.static_html = spec_html(spec)
        return box


@functools.cache
def _panel_box_class() -> type:
    """Return a VBox subclass that adds ``static_html`` to its display data.

    The class is made on first use so that ``import optimlib`` does not
    import ipywidgets.
    """
    import ipywidgets as widgets

    class PanelBox(widgets.VBox):
        static_html = ""

        def _repr_mimebundle_(self, **kwargs: object) -> dict | None:
            bundle = super()._repr_mimebundle_(**kwargs)
            if bundle is not None and self.static_html:
                bundle["text/html"] = self.static_html
            return bundle

    PanelBox.__qualname__ = "PanelBox"
    return PanelBox
