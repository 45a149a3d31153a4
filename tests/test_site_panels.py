"""The chapters' panel: its static version's data and its live widget."""

from __future__ import annotations

import json
import re

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import optimlib as ol
from optimlib import static_widgets
from optimlib.widgets import RELATIVE_SCALES

ALGORITHMS = ("adagrad", "rmsprop", "both")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def spec_from_html(text: str) -> dict:
    match = re.search(
        r'<script type="application/json" class="optimlib-panel-data">(.*?)</script>',
        text, re.S,
    )
    assert match is not None, "no panel data in the HTML"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def small_panels() -> dict[str, ol.EffectiveLRPanel]:
    return {name: ol.EffectiveLRPanel(name, steps=300, seed=1) for name in ALGORITHMS}


def test_encoding_round_trip_within_tolerance() -> None:
    rates = np.geomspace(1e-9, 1e3, 5000).reshape(50, 100)
    part = static_widgets.encode_log_uint16(rates)
    decoded = static_widgets.decode_log_uint16(part, rates.shape)
    # Half a 16-bit step over 12 decades: 10 ** (12 / 65535 / 2) - 1 = 2.1e-4.
    np.testing.assert_allclose(decoded, rates, rtol=2.2e-4, atol=0)


def test_encoding_rejects_zero_rate() -> None:
    with pytest.raises(ValueError, match="positive and finite"):
        static_widgets.encode_log_uint16(np.array([1.0, 0.0]))


def test_grid_contains_initial_values() -> None:
    grid = static_widgets.StaticGrid.around(scale=0.3, lr=0.01, rho=0.97)
    assert 0.3 in grid.scales
    assert grid.lrs.count(0.01) == 1
    assert 0.97 in grid.rhos


def test_grid_spans_live_slider_ranges() -> None:
    grid = static_widgets.StaticGrid.around(scale=1.0, lr=0.01, rho=0.9)
    assert (grid.scales[0], grid.scales[-1]) == (1e-3, 1e3)
    assert (grid.lrs[0], grid.lrs[-1]) == (1e-4, 1.0)
    assert (grid.rhos[0], grid.rhos[-1]) == (0.5, 0.999)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_stored_curves_match_optimlib(small_panels: dict, algorithm: str) -> None:
    panel = small_panels[algorithm]
    spec = static_widgets.panel_spec(panel, 1.0, 0.01, 0.9)
    grid = static_widgets.StaticGrid.around(1.0, 0.01, 0.9)
    rows = np.asarray(spec["steps"]) - 1
    for part in spec["parts"]:
        stored = static_widgets.decode_log_uint16(part, tuple(part["shape"]))
        for i, j, k in [(0, 0, 0), (6, 4, 2), (12, 8, 5), (3, 7, 1)]:
            grads = grid.scales[i] * panel.noise * np.asarray(RELATIVE_SCALES)
            if part["algorithm"] == "adagrad":
                expected = ol.adagrad_effective_lr(grads, grid.lrs[j], panel.eps)[rows]
                got = stored[i, j]
            else:
                expected = ol.rmsprop_effective_lr(
                    grads, grid.lrs[j], grid.rhos[k], panel.eps
                )[rows]
                got = stored[i, j, k]
            np.testing.assert_allclose(got.T, expected, rtol=3e-4, atol=0)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_spec_lists_controls_of_algorithm(small_panels: dict, algorithm: str) -> None:
    spec = static_widgets.panel_spec(small_panels[algorithm], 1.0, 0.01, 0.9)
    names = [control["name"] for control in spec["controls"]]
    expected = ["scale", "lr"] if algorithm == "adagrad" else ["scale", "lr", "rho"]
    assert names == expected
    assert len(spec["traces"]) == len(small_panels[algorithm].labels())


def test_y_range_holds_every_stored_rate(small_panels: dict) -> None:
    spec = static_widgets.panel_spec(small_panels["both"], 1.0, 0.01, 0.9)
    low, high = spec["yRange"]
    for part in spec["parts"]:
        logs = np.log10(static_widgets.decode_log_uint16(part, tuple(part["shape"])))
        assert low <= logs.min()
        assert logs.max() <= high


def test_html_keeps_script_element_closed(small_panels: dict) -> None:
    spec = static_widgets.panel_spec(small_panels["adagrad"], 1.0, 0.01, 0.9)
    spec["description"] = "a </script> in the text"
    text = static_widgets.spec_html(spec)
    assert text.count("</script>") == 1
    assert spec_from_html(text)["description"] == "a </script> in the text"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_widget_offers_live_and_static_views(algorithm: str) -> None:
    import ipywidgets

    box = ol.EffectiveLRPanel(algorithm, steps=200).widget()
    bundle = box._repr_mimebundle_()
    assert isinstance(box, ipywidgets.VBox)
    assert WIDGET_VIEW in bundle
    assert spec_from_html(bundle["text/html"])["algorithm"] == algorithm


LIVE_PANEL_CELLS = [
    "import matplotlib.pyplot as plt\n"
    "import optimlib as ol\n"
    "box = ol.EffectiveLRPanel('rmsprop', steps=500).widget()\n"
    "line = plt.gcf().axes[0].lines[0]\n"
    "start = line.get_ydata().copy()",
    "box.children[0].children[0].value = 100.0\n"
    "scaled = line.get_ydata().copy()\n"
    "box.children[0].children[2].value = 0.99\n"
    "print((scaled / start).min().round(3), (scaled / start).max().round(3))\n"
    "print(bool((line.get_ydata() != scaled).any()))",
    "box",
]


def test_live_widget_redraws_in_kernel() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in LIVE_PANEL_CELLS]
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", store_widget_state=True
    ).execute()

    # Scale 1 to 100 divides every rate by 100, up to eps = 1e-8, which adds
    # 3e-4 to the ratio at the smallest gradients. A new rho changes them again.
    printed = notebook.cells[1].outputs[0]["text"].split()
    assert printed == ["0.01", "0.01", "True"]

    # The display offers the live view, whose Output widget received the
    # figure drawn in the kernel.
    bundle = notebook.cells[2].outputs[0]["data"]
    assert WIDGET_VIEW in bundle
    states = notebook.metadata["widgets"][
        "application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [
        output for state in states.values() if state["model_name"] == "OutputModel"
        for output in state["state"]["outputs"]
    ]
    assert any("image/png" in output.get("data", {}) for output in outputs)
