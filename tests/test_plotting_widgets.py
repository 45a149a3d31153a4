"""Unit tests of the shared figure styles and the effective-rate panel."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from optimlib import (  # noqa: E402
    PALETTE,
    EffectiveLRPanel,
    adagrad_effective_lr,
    plot_series,
    rmsprop_effective_lr,
    series_style,
)

# The panel's gradients differ in size by a factor of ten from one curve to the
# next, as its docstring states.
RELATIVE = np.array([0.1, 1.0, 10.0])
STEPS = 3000


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# series_style and plot_series.


def test_series_style_distinct_colour_linestyle():
    pairs = {(series_style(k)["color"], series_style(k)["linestyle"]) for k in range(7)}
    assert len(pairs) == 7


def test_series_style_distinct_in_grey():
    # Printed in grey, line style and marker alone set series apart.
    pairs = {
        (series_style(k)["linestyle"], series_style(k)["marker"]) for k in range(7)
    }
    assert len(pairs) == 7


def test_series_style_uses_palette():
    assert [series_style(k)["color"] for k in range(7)] == list(PALETTE)


def test_series_style_accepts_numpy_integer():
    assert series_style(np.int64(3)) == series_style(3)


def test_series_style_colour_repeats_after_seven():
    assert series_style(7)["color"] == series_style(0)["color"]


@pytest.mark.parametrize(("points", "every"), [(400, 50), (16, 2), (5, 1)])
def test_series_style_markevery_step(points, every):
    # About eight markers per line: max(1, points // 8).
    assert series_style(1, points=points)["markevery"][1] == every


def test_palette_colours_distinct():
    assert len({to_rgb(colour) for colour in PALETTE}) == len(PALETTE)


def test_plot_series_draws_columns():
    fig, ax = plt.subplots()
    x = np.arange(1.0, 6.0)
    ys = np.column_stack([x, x**2, -x])
    lines = plot_series(ax, x, ys, ["a", "b", "c"])
    for k, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_ydata(), ys[:, k])


def test_plot_series_sets_labels():
    fig, ax = plt.subplots()
    lines = plot_series(ax, [1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]], ["a", "b"])
    assert [line.get_label() for line in lines] == ["a", "b"]


def test_plot_series_accepts_one_column():
    fig, ax = plt.subplots()
    (line,) = plot_series(ax, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0], ["only"])
    np.testing.assert_array_equal(line.get_ydata(), [4.0, 5.0, 6.0])


def test_plot_series_rejects_shape():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"ys must have shape \(3, 2\), got \(3, 1\)"):
        plot_series(ax, [1.0, 2.0, 3.0], [[1.0], [2.0], [3.0]], ["a", "b"])


# EffectiveLRPanel.compute.


def panel_noise(seed=0):
    """Return the noise the panel documents: seeded standard normals."""
    return np.random.default_rng(seed).standard_normal((STEPS, 3))


@pytest.mark.parametrize(
    ("algorithm", "curves"), [("adagrad", 3), ("rmsprop", 3), ("both", 6)]
)
def test_panel_compute_shape(algorithm, curves):
    panel = EffectiveLRPanel(algorithm, steps=STEPS, max_points=200)
    assert panel.compute(1.0, 0.01).shape == (panel.curves.indices.size, curves)


@pytest.mark.parametrize("algorithm", ["adagrad", "rmsprop", "both"])
def test_panel_labels_match_columns(algorithm):
    panel = EffectiveLRPanel(algorithm, steps=STEPS)
    assert len(panel.labels()) == panel.compute(1.0, 0.01).shape[1]


def test_panel_steps_axis_counts_from_one():
    panel = EffectiveLRPanel(steps=STEPS, max_points=200)
    np.testing.assert_array_equal(panel.steps_axis, panel.curves.indices + 1)


@pytest.mark.parametrize(("scale", "lr"), [(1.0, 0.01), (0.003, 0.5), (200.0, 1e-4)])
def test_panel_adagrad_matches_schedule(scale, lr):
    panel = EffectiveLRPanel("adagrad", steps=STEPS, seed=3, eps=1e-8)
    expected = adagrad_effective_lr(scale * panel_noise(3) * RELATIVE, lr=lr, eps=1e-8)
    result = panel.compute(scale, lr)
    np.testing.assert_allclose(result, expected[panel.curves.indices], rtol=1e-10)


@pytest.mark.parametrize(("scale", "lr", "rho"), [(1.0, 0.01, 0.9), (0.05, 0.3, 0.99)])
def test_panel_rmsprop_matches_schedule(scale, lr, rho):
    panel = EffectiveLRPanel("rmsprop", steps=STEPS, seed=3, eps=1e-8)
    gradients = scale * panel_noise(3) * RELATIVE
    expected = rmsprop_effective_lr(gradients, lr=lr, rho=rho, eps=1e-8)
    result = panel.compute(scale, lr, rho)
    np.testing.assert_allclose(result, expected[panel.curves.indices], rtol=1e-10)


def test_panel_both_stacks_adagrad_first():
    both = EffectiveLRPanel("both", steps=STEPS).compute(2.0, 0.1, 0.8)
    adagrad = EffectiveLRPanel("adagrad", steps=STEPS).compute(2.0, 0.1)
    rmsprop = EffectiveLRPanel("rmsprop", steps=STEPS).compute(2.0, 0.1, 0.8)
    np.testing.assert_array_equal(both, np.hstack([adagrad, rmsprop]))


# EffectiveLRPanel.widget.


def build_widget(algorithm, **kwargs):
    """Build the panel's widget and return it with its figure's axes."""
    panel = EffectiveLRPanel(algorithm, steps=STEPS, max_points=200)
    box = panel.widget(**kwargs)
    return panel, box, plt.gcf().axes[0]


def sliders_by_name(box):
    return {slider.description: slider for slider in box.children[0].children}


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("adagrad", {"gradient scale": "FloatLogSlider", "eta": "FloatLogSlider"}),
        (
            "rmsprop",
            {
                "gradient scale": "FloatLogSlider",
                "eta": "FloatLogSlider",
                "rho": "FloatSlider",
            },
        ),
        (
            "both",
            {
                "gradient scale": "FloatLogSlider",
                "eta": "FloatLogSlider",
                "rho": "FloatSlider",
            },
        ),
    ],
)
def test_widget_has_expected_sliders(algorithm, expected):
    _, box, _ = build_widget(algorithm)
    kinds = {
        name: type(slider).__name__ for name, slider in sliders_by_name(box).items()
    }
    assert kinds == expected


def test_widget_is_vbox():
    _, box, _ = build_widget("adagrad")
    assert isinstance(box, ipywidgets.VBox)


def test_widget_sliders_start_at_arguments():
    _, box, _ = build_widget("rmsprop", scale=0.1, lr=0.001, rho=0.95)
    values = {name: slider.value for name, slider in sliders_by_name(box).items()}
    assert values == pytest.approx({"gradient scale": 0.1, "eta": 0.001, "rho": 0.95})


@pytest.mark.parametrize("algorithm", ["adagrad", "rmsprop", "both"])
def test_widget_draws_one_line_per_curve(algorithm):
    panel, _, ax = build_widget(algorithm)
    assert len(ax.get_lines()) == len(panel.labels())


def test_widget_initial_lines_equal_compute():
    panel, _, ax = build_widget("both", scale=2.0, lr=0.05, rho=0.8)
    drawn = np.column_stack([line.get_ydata() for line in ax.get_lines()])
    np.testing.assert_allclose(drawn, panel.compute(2.0, 0.05, 0.8), rtol=1e-15)


@pytest.mark.parametrize(
    ("algorithm", "name", "value", "setting"),
    [
        ("adagrad", "gradient scale", 10.0, (10.0, 0.01, 0.9)),
        ("adagrad", "eta", 0.1, (1.0, 0.1, 0.9)),
        ("rmsprop", "gradient scale", 0.01, (0.01, 0.01, 0.9)),
        ("rmsprop", "eta", 0.001, (1.0, 0.001, 0.9)),
        ("rmsprop", "rho", 0.6, (1.0, 0.01, 0.6)),
        ("both", "rho", 0.99, (1.0, 0.01, 0.99)),
    ],
)
def test_slider_move_redraws_lines(algorithm, name, value, setting):
    panel, box, ax = build_widget(algorithm, scale=1.0, lr=0.01, rho=0.9)
    before = np.column_stack([line.get_ydata() for line in ax.get_lines()])
    sliders_by_name(box)[name].value = value
    after = np.column_stack([line.get_ydata() for line in ax.get_lines()])
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, panel.compute(*setting), rtol=1e-12)
