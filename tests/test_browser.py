"""The built site in headless Chromium, with no network but loopback.

One run of scripts/site_browser.py loads every page (the `browser_results`
fixture); each test checks one property of all pages and lists the offenders.
"""

from __future__ import annotations

import numpy as np
import pytest

import optimlib as ol
from optimlib.widgets import RELATIVE_SCALES

MAX_CHAPTER_BYTES = 1_500_000
BLOCKING_IMPACTS = ("serious", "critical")
# The static panels store log10 rates as 16-bit codes: the decoded rates are
# within 3e-4 relative of optimlib's (optimlib/static_widgets.py).
PANEL_RTOL = 1e-3


def test_pages_were_loaded(browser_results: dict) -> None:
    assert "intro.html" in browser_results["pages"]
    assert any(page.startswith("chapters/") for page in browser_results["pages"])


def test_pages_have_no_failed_requests(browser_results: dict) -> None:
    failed = {
        page: facts["failedRequests"]
        for page, facts in browser_results["pages"].items() if facts["failedRequests"]
    }
    assert failed == {}


def test_pages_log_no_console_errors(browser_results: dict) -> None:
    errors = {
        page: facts["consoleErrors"]
        for page, facts in browser_results["pages"].items() if facts["consoleErrors"]
    }
    assert errors == {}


def test_math_renders_as_mathjax(browser_results: dict) -> None:
    raw = {
        page: facts["untypesetMath"] + facts["rawTex"]
        for page, facts in browser_results["pages"].items()
        if facts["untypesetMath"] or facts["rawTex"]
    }
    assert raw == {}, "math left as TeX"


def test_chapters_contain_mathjax_output(browser_results: dict) -> None:
    without = [
        page for page, facts in browser_results["pages"].items()
        if page.startswith("chapters/") and facts["mjxContainers"] == 0
    ]
    assert without == []


def test_headings_in_order(browser_results: dict) -> None:
    wrong = {}
    for page, facts in browser_results["pages"].items():
        levels = [heading["level"] for heading in facts["headings"]]
        problems = []
        if levels[:1] != [1]:
            problems.append(f"first heading is h{levels[0] if levels else '-'}")
        if levels.count(1) > 1:
            problems.append(f"{levels.count(1)} h1 headings")
        for previous, (current, heading) in zip(levels, zip(levels[1:], facts["headings"][1:])):
            if current > previous + 1:
                problems.append(f"h{previous} then h{current} at {heading['text']!r}")
        if problems:
            wrong[page] = problems
    assert wrong == {}


def test_images_have_alt_text(browser_results: dict) -> None:
    missing = {
        page: [image["src"] for image in facts["images"] if not (image["alt"] or "").strip()]
        for page, facts in browser_results["pages"].items()
    }
    assert {page: srcs for page, srcs in missing.items() if srcs} == {}


def test_axe_finds_no_serious_violations(browser_results: dict) -> None:
    violations = {
        page: [
            f"{v['impact']} {v['id']}: {v['help']} ({v['nodes']} nodes: {v['targets']})"
            for v in facts["axeViolations"] if v["impact"] in BLOCKING_IMPACTS
        ]
        for page, facts in browser_results["pages"].items()
    }
    assert {page: found for page, found in violations.items() if found} == {}


def test_chapter_pages_within_weight_budget(browser_results: dict) -> None:
    heavy = {
        page: facts["ownBytes"]
        for page, facts in browser_results["pages"].items()
        if page.startswith("chapters/") and facts["ownBytes"] > MAX_CHAPTER_BYTES
    }
    assert heavy == {}, f"bytes beyond the shared _static/ files, limit {MAX_CHAPTER_BYTES}"


def _panels(browser_results: dict) -> list[tuple[str, dict]]:
    return [
        (page, panel)
        for page, facts in browser_results["pages"].items()
        for panel in facts.get("panelSamples", [])
    ]


def test_every_panel_is_drawn(browser_results: dict) -> None:
    states = {
        page: facts["panels"]
        for page, facts in browser_results["pages"].items()
        if any(state != "ready" for state in facts["panels"])
    }
    assert _panels(browser_results), "no static panel on any page"
    assert states == {}


def reference_rates(spec: dict, setting: dict[str, float]) -> np.ndarray:
    """Compute a panel's curves with optimlib's full-history functions.

    This path (the whole gradient history, then the plotted steps) is
    independent of the grid that optimlib.static_widgets stores.
    """
    panel = spec["panel"]
    noise = np.random.default_rng(panel["seed"]).standard_normal(
        (panel["steps"], len(RELATIVE_SCALES))
    )
    grads = setting["scale"] * noise * np.asarray(RELATIVE_SCALES)
    rows = np.asarray(spec["steps"]) - 1
    parts = []
    if spec["algorithm"] in ("adagrad", "both"):
        parts.append(ol.adagrad_effective_lr(grads, setting["lr"], panel["eps"])[rows])
    if spec["algorithm"] in ("rmsprop", "both"):
        rates = ol.rmsprop_effective_lr(grads, setting["lr"], setting["rho"], panel["eps"])
        parts.append(rates[rows])
    return np.hstack(parts)


def test_panels_plot_optimlib_rates(browser_results: dict) -> None:
    mismatches = []
    for page, panel in _panels(browser_results):
        spec = panel["spec"]
        controls = {control["name"]: control for control in spec["controls"]}
        for sample in panel["samples"]:
            setting = {
                name: controls[name]["values"][index]
                for name, index in sample["inputs"].items()
            }
            expected = reference_rates(spec, setting)
            plotted = np.array([trace["y"] for trace in sample["traces"]]).T
            x_ok = all(trace["x"] == spec["steps"] for trace in sample["traces"])
            if not x_ok or not np.allclose(plotted, expected, rtol=PANEL_RTOL, atol=0):
                worst = float(np.max(np.abs(plotted / expected - 1)))
                mismatches.append(f"{page} {spec['algorithm']} at {setting}: rel. error {worst:.2e}")
    assert mismatches == []


def test_each_control_changes_the_plot(browser_results: dict) -> None:
    unchanged = []
    for page, panel in _panels(browser_results):
        samples = panel["samples"]
        initial = samples[0]
        # The driver ends with one sample per control moved alone.
        for sample in samples[-len(panel["spec"]["controls"]):]:
            moved = [
                name for name, index in sample["inputs"].items()
                if index != initial["inputs"][name]
            ]
            same_data = [t["y"] for t in sample["traces"]] == [t["y"] for t in initial["traces"]]
            if same_data or sample["paths"] == initial["paths"]:
                unchanged.append(f"{page} {panel['spec']['algorithm']}: moving {moved}")
    assert unchanged == []


def test_arrow_key_moves_a_control(browser_results: dict) -> None:
    unchanged = []
    for page, panel in _panels(browser_results):
        before, after = panel["keyboard"]["before"], panel["keyboard"]["after"]
        name = panel["spec"]["controls"][0]["name"]
        if after["inputs"][name] != before["inputs"][name] + 1:
            unchanged.append(f"{page}: ArrowRight left {name} at {after['inputs'][name]}")
        elif after["paths"] == before["paths"]:
            unchanged.append(f"{page}: ArrowRight on {name} did not redraw")
    assert unchanged == []


@pytest.mark.parametrize("algorithm", ["adagrad", "rmsprop", "both"])
def test_reference_matches_live_panel(algorithm: str) -> None:
    # The reference above must agree with what the live widget plots.
    live = ol.EffectiveLRPanel(algorithm, steps=500, seed=3)
    spec = {
        "algorithm": algorithm,
        "panel": {"steps": 500, "seed": 3, "eps": live.eps},
        "steps": (live.curves.indices + 1).tolist(),
    }
    setting = {"scale": 0.5, "lr": 0.02, "rho": 0.95}
    expected = live.compute(setting["scale"], setting["lr"], setting["rho"])
    np.testing.assert_allclose(reference_rates(spec, setting), expected, rtol=1e-10)
