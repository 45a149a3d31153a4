"""Compare optimlib with trajectories recorded from PyTorch, optax and Keras 3.

``scripts/record_references.py`` ran each library on fixed gradient sequences
(seeds 0 to 2, float32 and float64, gradients of size 1, 1e-10 and 1e4, and
gradients with exact zeros) and stored the parameters and the accumulator
after every step under ``tests/references/``. These tests rebuild every case
with ``optimlib.conventions.translate`` from the library's own arguments and
need none of the libraries.

Tolerances, in units in the last place (ulp). A parameter is compared with
the spacing of the largest magnitude its coordinate takes in the reference
trajectory, because a coordinate that passes near zero has a tiny ulp there
while its error comes from updates of the trajectory's size. Accumulators are
positive and compared elementwise with ``np.testing.assert_array_max_ulp``.

- Keras 3 runs each operation eagerly in the order optimlib uses, so the
  match is exact.
- PyTorch's CPU kernels fuse multiply-adds (``add`` with ``alpha``,
  ``addcmul``, ``lerp``), which NumPy cannot, so the last bits differ: at most
  4 ulps were measured, for parameters and accumulators.
- optax's ``jax.lax.rsqrt`` is not correctly rounded (up to 2 ulps from
  1 / sqrt on this machine) and jit fuses operations: at most 8 ulps were
  measured.

In float64, 8 ulps of the coordinate's scale are 1.8e-15 relative to it, far
below a relative tolerance of 1e-12.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

import optimlib as ol
from optimlib.conventions import translate

REFERENCES = Path(__file__).parent / "references"
MANIFEST = json.loads((REFERENCES / "manifest.json").read_text())
GRADIENTS = dict(np.load(REFERENCES / "gradients.npz"))
RECORDED = {
    library: dict(np.load(REFERENCES / f"{library}.npz"))
    for library in ("pytorch", "optax", "keras")
}

PARAM_ULPS = {"keras": 0, "pytorch": 4, "optax": 8}
ACCUMULATOR_ULPS = {"keras": 0, "pytorch": 4, "optax": 8}

CASES = [c for c in MANIFEST["cases"] if not c["gradients"].startswith("constant")]
CONSTANT_CASES = [c for c in MANIFEST["cases"] if c["gradients"].startswith("constant")]
FLOAT64_CASES = [c for c in CASES if c["dtype"] == "float64"]
CASES_BY_ID = {c["id"]: c for c in MANIFEST["cases"]}


def build(case: dict) -> ol.AdaGrad | ol.RMSprop:
    """Return the optimlib optimizer for a recorded case."""
    kwargs = translate(case["library"], case["optimizer"], **case["options"])
    chain = case["weight_decay_chain"]
    if chain is not None:
        # optax.add_decayed_weights before the optimizer adds an L2 term to the
        # gradient; between the scaling and the learning rate it is decoupled.
        kwargs["weight_decay"] = chain["weight_decay"]
        kwargs["weight_decay_form"] = (
            "l2" if chain["placement"] == "before" else "decoupled"
        )
    optimizer_class = ol.AdaGrad if case["optimizer"] == "adagrad" else ol.RMSprop
    return optimizer_class(**kwargs)


def replay(case: dict) -> tuple[np.ndarray, np.ndarray]:
    """Run optimlib on the case's gradients and return params and accumulators."""
    return _replay(case["id"])


@functools.cache
def _replay(case_id: str) -> tuple[np.ndarray, np.ndarray]:
    case = CASES_BY_ID[case_id]
    optimizer = build(case)
    theta = GRADIENTS[f"{case['gradients']}/theta0"].copy()
    state = optimizer.init(theta)
    params, accumulators = [], []
    for grad in GRADIENTS[f"{case['gradients']}/grads"]:
        optimizer.step(theta, grad, state)
        params.append(theta.copy())
        accumulators.append(state.accumulator.copy())
    return np.array(params), np.array(accumulators)


def recorded(case: dict, name: str) -> np.ndarray:
    return RECORDED[case["library"]][f"{case['id']}/{name}"]


def ulps_of_scale(actual: np.ndarray, desired: np.ndarray) -> float:
    """Return max |actual - desired| in ulps of each coordinate's max |desired|."""
    scale = np.max(np.abs(desired), axis=0)
    spacing = np.spacing(scale.astype(desired.dtype)).astype(np.float64)
    error = np.abs(actual.astype(np.float64) - desired.astype(np.float64))
    return float(np.max(error / spacing))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_params_match_library(case):
    params, _ = replay(case)
    reference = recorded(case, "params")
    assert params.dtype == reference.dtype
    assert ulps_of_scale(params, reference) <= PARAM_ULPS[case["library"]]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_accumulator_matches_library(case):
    _, accumulators = replay(case)
    np.testing.assert_array_max_ulp(
        accumulators,
        recorded(case, "accumulator"),
        maxulp=ACCUMULATOR_ULPS[case["library"]],
    )


@pytest.mark.parametrize("case", FLOAT64_CASES, ids=[c["id"] for c in FLOAT64_CASES])
def test_float64_within_rtol_1e12(case):
    # The stated float64 bound, checked directly: rtol 1e-12 against each
    # coordinate's largest magnitude.
    params, _ = replay(case)
    reference = recorded(case, "params")
    scale = np.max(np.abs(reference), axis=0)
    relative_error = np.max(np.abs(params - reference) / scale)
    assert relative_error <= 1e-12


@pytest.mark.parametrize("case", CONSTANT_CASES, ids=[c["id"] for c in CONSTANT_CASES])
def test_centered_constant_gradient_first_step(case):
    # With a constant gradient E[g^2] - E[g]^2 decays to rounding noise, which
    # the libraries pass to sqrt and optimlib clamps at 0, so only the first
    # step is compared.
    params, _ = replay(case)
    reference = recorded(case, "params")
    assert ulps_of_scale(params[:1], reference[:1]) <= PARAM_ULPS[case["library"]]


@pytest.mark.parametrize("case", CONSTANT_CASES, ids=[c["id"] for c in CONSTANT_CASES])
def test_centered_constant_gradient_stays_finite(case):
    params, accumulators = replay(case)
    assert np.all(np.isfinite(params))
    assert np.all(np.isfinite(accumulators))


@pytest.mark.parametrize(
    "case_id",
    [
        "pytorch/rmsprop/centered_momentum/constant-float32",
        "pytorch/rmsprop/centered_momentum/constant-float64",
        "optax/rmsprop/centered_bias_correction/constant-float32",
        "keras/rmsprop/centered_momentum/constant-float32",
    ],
)
def test_library_centered_constant_gradient_nan(case_id):
    # The recorded libraries reach NaN on these cases: the reason optimlib
    # clamps the variance.
    case = next(c for c in CONSTANT_CASES if c["id"] == case_id)
    assert np.any(np.isnan(recorded(case, "params")))


def test_manifest_records_versions():
    for library in ("pytorch", "optax", "keras"):
        assert MANIFEST["versions"][library]
    assert "torch" in MANIFEST["versions"]["pytorch"]


@pytest.mark.parametrize(
    ("kind", "low", "high"),
    [("tiny", 1e-14, 1e-9), ("large", 1e1, 1e5), ("normal", 1e-4, 10.0)],
)
def test_gradient_sets_have_stated_size(kind, low, high):
    for dtype in ("float32", "float64"):
        grads = np.abs(GRADIENTS[f"{kind}-seed0-{dtype}/grads"])
        assert low < np.median(grads) < high


def test_gradient_set_has_exact_zeros():
    grads = GRADIENTS["zeros-seed0-float64/grads"]
    assert np.all(grads[:, 0] == 0.0)
    assert np.all(grads[2] == 0.0)
