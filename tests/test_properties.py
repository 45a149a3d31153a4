"""Property-based tests of AdaGrad and RMSprop, in float32 and float64.

Hypothesis draws gradient histories and options and checks statements that
hold for every input of the stated ranges:

- AdaGrad's effective learning rate never increases, whatever the options;
- with eps = 0 and a zero start, multiplying every gradient by one positive
  constant leaves the updates unchanged;
- from a zero start, RMSprop's accumulator stays between 0 and the largest
  squared gradient seen;
- finite gradients give finite parameters and state, centered RMSprop
  included.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import optimlib as ol

# No example database: the runs stay fast and leave no folder in the tree.
SETTINGS = settings(max_examples=60, deadline=None, database=None)
DTYPES = st.sampled_from([np.float32, np.float64])
PLACEMENTS = st.sampled_from(["inside", "outside"])

# Gradient entries: exact zeros, tiny, ordinary and large values, so that
# eps's placement, the zero-denominator guard and cancellation all occur.
MAGNITUDES = st.sampled_from([0.0, 1e-10, 1e-3, 1.0, 30.0, 1e4])


@st.composite
def histories(draw, dtype, min_steps=1, max_steps=25, dim=3):
    """Draw a gradient history of shape (steps, dim) in ``dtype``.

    Half of the histories repeat one row, the case where centered RMSprop's
    variance estimate collapses to rounding noise.
    """
    steps = draw(st.integers(min_steps, max_steps))
    signs = draw(
        hnp.arrays(np.float64, (steps, dim), elements=st.sampled_from([-1.0, 1.0]))
    )
    scales = draw(hnp.arrays(np.float64, (steps, dim), elements=MAGNITUDES))
    mantissas = draw(hnp.arrays(np.float64, (steps, dim), elements=st.floats(0.5, 2.0)))
    history = signs * scales * mantissas
    if draw(st.booleans()):
        history[:] = history[0]
    return history.astype(dtype)


def adagrad_options(draw):
    return {
        "lr": draw(st.sampled_from([1e-3, 0.1, 1.0])),
        "eps": draw(st.sampled_from([0.0, 1e-10, 1e-7, 1e-3])),
        "eps_placement": draw(PLACEMENTS),
        "initial_accumulator": draw(st.sampled_from([0.0, 0.1, 1.0])),
        "lr_decay": draw(st.sampled_from([0.0, 0.05])),
        "weight_decay": draw(st.sampled_from([0.0, 0.01])),
        "weight_decay_form": draw(st.sampled_from(["l2", "decoupled"])),
    }


def rmsprop_options(draw, centered):
    # Centered RMSprop takes no L2 weight decay here. When the gradient is
    # mostly the decay term weight_decay * theta, its variance estimate is
    # near 0 and each step moves theta by about lr * weight_decay * theta / eps.
    # theta then grows geometrically until it overflows. That is divergence,
    # not a NaN from 0 / 0 or from the square root of a negative number.
    forms = ["decoupled"] if centered else ["l2", "decoupled"]
    momentum = draw(st.sampled_from([0.0, 0.5, 0.9]))
    return {
        "lr": draw(st.sampled_from([1e-3, 0.01, 0.1])),
        "rho": draw(st.sampled_from([0.0, 0.5, 0.9, 0.99])),
        "eps": draw(st.sampled_from([1e-10, 1e-8, 1e-3] + ([] if centered else [0.0]))),
        "eps_placement": draw(PLACEMENTS),
        "initial_accumulator": draw(st.sampled_from([0.0, 1.0])),
        "centered": centered,
        "momentum": momentum,
        "momentum_form": draw(st.sampled_from(["pytorch", "keras"])),
        "nesterov": momentum > 0 and draw(st.booleans()),
        "bias_correction": draw(st.booleans()),
        "weight_decay": draw(st.sampled_from([0.0, 0.01])),
        "weight_decay_form": draw(st.sampled_from(forms)),
    }


@st.composite
def adagrad_runs(draw):
    dtype = draw(DTYPES)
    return ol.AdaGrad(**adagrad_options(draw)), draw(histories(dtype)), dtype


@st.composite
def rmsprop_runs(draw):
    dtype = draw(DTYPES)
    centered = draw(st.booleans())
    return ol.RMSprop(**rmsprop_options(draw, centered)), draw(histories(dtype)), dtype


def start(dim, dtype):
    return np.linspace(-1.0, 1.0, dim).astype(dtype)


@SETTINGS
@given(adagrad_runs())
def test_adagrad_effective_lr_never_increases(run):
    optimizer, history, dtype = run
    theta = start(history.shape[1], dtype)
    state = optimizer.init(theta)
    previous = optimizer.effective_lr(state)
    for grad in history:
        optimizer.step(theta, grad, state)
        current = optimizer.effective_lr(state)
        assert np.all(current <= previous)
        previous = current


@st.composite
def scaled_runs(draw):
    """Draw an optimizer with eps = 0 and a zero start, a history and a factor."""
    dtype = draw(DTYPES)
    if draw(st.booleans()):
        optimizer = ol.AdaGrad(lr=0.1, eps=0.0, eps_placement=draw(PLACEMENTS))
    else:
        momentum = draw(st.sampled_from([0.0, 0.9]))
        optimizer = ol.RMSprop(
            lr=0.01,
            rho=draw(st.sampled_from([0.0, 0.5, 0.9, 0.99])),
            eps=0.0,
            eps_placement=draw(PLACEMENTS),
            momentum=momentum,
            momentum_form=draw(st.sampled_from(["pytorch", "keras"])),
            nesterov=momentum > 0 and draw(st.booleans()),
            bias_correction=draw(st.booleans()),
        )
    factor = draw(st.floats(1e-3, 1e3))
    return optimizer, draw(histories(dtype)), factor, dtype


def updates(optimizer, history, dtype):
    """Return the parameter change of every step, in float64."""
    theta = start(history.shape[1], dtype)
    state = optimizer.init(theta)
    changes = []
    for grad in history:
        before = theta.astype(np.float64)
        optimizer.step(theta, grad, state)
        changes.append(theta.astype(np.float64) - before)
    return np.array(changes)


@SETTINGS
@given(scaled_runs())
def test_gradient_scale_leaves_updates_unchanged(run):
    optimizer, history, factor, dtype = run
    history = history.astype(np.float64)
    plain = updates(optimizer, history.astype(dtype), dtype)
    scaled = updates(optimizer, (history * factor).astype(dtype), dtype)
    # Each update is at most lr / sqrt(1 - rho) times the momentum gain, so
    # the absolute tolerance is a multiple of float32 or float64 rounding of
    # the parameters (about 1), and the relative one covers the update.
    resolution = np.finfo(dtype).eps
    np.testing.assert_allclose(
        scaled, plain, rtol=1e3 * resolution, atol=1e2 * resolution
    )


@st.composite
def rmsprop_plain_runs(draw):
    dtype = draw(DTYPES)
    optimizer = ol.RMSprop(
        lr=0.01,
        rho=draw(st.sampled_from([0.0, 0.5, 0.9, 0.99])),
        eps=draw(st.sampled_from([0.0, 1e-8])),
        eps_placement=draw(PLACEMENTS),
        momentum=draw(st.sampled_from([0.0, 0.9])),
    )
    return optimizer, draw(histories(dtype)), dtype


@SETTINGS
@given(rmsprop_plain_runs())
def test_rmsprop_accumulator_bounded_by_max_square(run):
    optimizer, history, dtype = run
    theta = start(history.shape[1], dtype)
    state = optimizer.init(theta)
    largest = np.zeros(history.shape[1], dtype=dtype)
    # rho E + (1 - rho) g^2 with E <= M and g^2 <= M rounds to at most a few
    # ulps above M.
    slack = 1.0 + 4 * np.finfo(dtype).eps
    for grad in history:
        optimizer.step(theta, grad, state)
        largest = np.maximum(largest, grad * grad)
        assert np.all(state.accumulator >= 0.0)
        assert np.all(state.accumulator <= largest * slack)


@st.composite
def centered_constant_runs(draw):
    """Draw centered RMSprop on one repeated gradient, the variance's worst case.

    The variance estimate of a constant gradient decays like rho^t to rounding
    noise, and with bias correction it is noise from the first step.
    """
    dtype = draw(DTYPES)
    options = rmsprop_options(draw, centered=True)
    options["rho"] = draw(st.sampled_from([0.3, 0.5, 0.9]))
    options["eps"] = draw(st.sampled_from([1e-10, 1e-8]))
    row = draw(histories(dtype, min_steps=1, max_steps=1))[0]
    row[row == 0] = 1.0
    row *= draw(st.sampled_from([1.0, 1e2, 1e4]))
    history = np.tile(row, (draw(st.integers(30, 60)), 1))
    return ol.RMSprop(**options), history.astype(dtype), dtype


def assert_finite_run(optimizer, history, dtype):
    theta = start(history.shape[1], dtype)
    state = optimizer.init(theta)
    for grad in history:
        optimizer.step(theta, grad, state)
        assert np.all(np.isfinite(theta))
        assert np.all(np.isfinite(state.accumulator))
        if optimizer.eps > 0:
            assert np.all(np.isfinite(optimizer.effective_lr(state)))
    return state


@SETTINGS
@given(adagrad_runs())
def test_adagrad_finite_inputs_finite_outputs(run):
    assert_finite_run(*run)


@SETTINGS
@given(rmsprop_runs())
def test_rmsprop_finite_inputs_finite_outputs(run):
    optimizer, history, dtype = run
    state = assert_finite_run(optimizer, history, dtype)
    for buffer in (state.grad_average, state.momentum_buffer):
        if buffer is not None:
            assert np.all(np.isfinite(buffer))


@SETTINGS
@given(centered_constant_runs())
def test_centered_constant_gradient_finite(run):
    assert_finite_run(*run)
