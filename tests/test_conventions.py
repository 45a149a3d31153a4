"""Unit tests of the library conventions: presets, options and their updates.

Expected values are closed forms worked out in the comments, or the defaults
read from the libraries' sources (torch 2.13.0, optax 0.2.8, Keras 3.15.1 and
TensorFlow 1's ``tensorflow/python/training``), listed in the preset table.
"""

import math
import re
import tracemalloc

import numpy as np
import pytest

import optimlib as ol
from optimlib.conventions import FROM_PRESET, PRESETS, from_library, translate


def take_steps(optimizer, params, gradients):
    """Apply ``gradients`` one after another and return the final state."""
    state = optimizer.init(params)
    for gradient in gradients:
        optimizer.step(params, np.asarray(gradient, dtype=params.dtype), state)
    return state


def raises(error, message):
    return pytest.raises(error, match=re.escape(message))


# Presets.

PRESET_VALUES = [
    # (class, convention, attribute, value)
    (ol.AdaGrad, "book", "eps", 1e-8),
    (ol.AdaGrad, "book", "eps_placement", "inside"),
    (ol.AdaGrad, "book", "initial_accumulator", 0.0),
    (ol.AdaGrad, "pytorch", "lr", 0.01),
    (ol.AdaGrad, "pytorch", "eps", 1e-10),
    (ol.AdaGrad, "pytorch", "eps_placement", "outside"),
    (ol.AdaGrad, "pytorch", "initial_accumulator", 0.0),
    (ol.AdaGrad, "optax", "eps", 1e-7),
    (ol.AdaGrad, "optax", "eps_placement", "inside"),
    (ol.AdaGrad, "optax", "initial_accumulator", 0.1),
    (ol.AdaGrad, "keras", "lr", 0.001),
    (ol.AdaGrad, "keras", "eps", 1e-7),
    (ol.AdaGrad, "keras", "initial_accumulator", 0.1),
    (ol.AdaGrad, "keras", "weight_decay_form", "decoupled"),
    (ol.AdaGrad, "tf1", "eps", 0.0),
    (ol.AdaGrad, "tf1", "initial_accumulator", 0.1),
    (ol.RMSprop, "book", "rho", 0.9),
    (ol.RMSprop, "book", "eps", 1e-8),
    (ol.RMSprop, "pytorch", "rho", 0.99),
    (ol.RMSprop, "pytorch", "eps", 1e-8),
    (ol.RMSprop, "pytorch", "eps_placement", "outside"),
    (ol.RMSprop, "pytorch", "momentum_form", "pytorch"),
    (ol.RMSprop, "optax", "rho", 0.9),
    (ol.RMSprop, "optax", "eps_placement", "inside"),
    (ol.RMSprop, "optax", "momentum_form", "keras"),
    (ol.RMSprop, "keras", "lr", 0.001),
    (ol.RMSprop, "keras", "eps", 1e-7),
    (ol.RMSprop, "keras", "momentum_form", "keras"),
    (ol.RMSprop, "keras", "weight_decay_form", "decoupled"),
    (ol.RMSprop, "tf1", "eps", 1e-10),
    (ol.RMSprop, "tf1", "initial_accumulator", 1.0),
]


@pytest.mark.parametrize(("cls", "convention", "name", "value"), PRESET_VALUES)
def test_preset_sets_library_default(cls, convention, name, value):
    assert getattr(cls(convention=convention), name) == value


@pytest.mark.parametrize("cls", [ol.AdaGrad, ol.RMSprop])
def test_book_convention_is_default(cls):
    assert vars(cls()) == vars(cls(convention="book"))


def test_explicit_keyword_overrides_preset():
    optimizer = ol.RMSprop(convention="pytorch", eps_placement="inside", lr=0.5)
    assert optimizer.eps_placement == "inside"
    assert optimizer.lr == 0.5
    assert optimizer.rho == 0.99


def test_positional_arguments_still_work():
    optimizer = ol.RMSprop(0.2, 0.5, 1e-3)
    assert (optimizer.lr, optimizer.rho, optimizer.eps) == (0.2, 0.5, 1e-3)


def test_every_preset_names_the_same_options():
    for optimizer, table in PRESETS.items():
        keys = {frozenset(values) for values in table.values()}
        assert len(keys) == 1, optimizer


def test_from_preset_repr():
    assert repr(FROM_PRESET) == "FROM_PRESET"


# Invalid options.

INVALID = [
    (ol.AdaGrad, {"convention": "jax"}, ValueError, "convention must be one of"),
    (ol.RMSprop, {"convention": None}, ValueError, "got None"),
    (ol.AdaGrad, {"lr_decay": -0.1}, ValueError, "lr_decay must be finite and >= 0"),
    (ol.AdaGrad, {"weight_decay": math.nan}, ValueError, "weight_decay must be"),
    (
        ol.AdaGrad,
        {"weight_decay_form": "adamw"},
        ValueError,
        "weight_decay_form must be one of 'l2', 'decoupled', got 'adamw'",
    ),
    (ol.RMSprop, {"momentum": 1.0}, ValueError, "momentum must lie in [0, 1), got 1.0"),
    (ol.RMSprop, {"momentum": "0.9"}, TypeError, "momentum must be a real number"),
    (
        ol.RMSprop,
        {"momentum_form": "tf"},
        ValueError,
        "momentum_form must be one of 'pytorch', 'keras', got 'tf'",
    ),
    (ol.RMSprop, {"centered": 1}, TypeError, "centered must be True or False, got 1"),
    (ol.RMSprop, {"nesterov": "yes"}, TypeError, "nesterov must be True or False"),
    (
        ol.RMSprop,
        {"bias_correction": None},
        TypeError,
        "bias_correction must be True or False, got None",
    ),
    (
        ol.RMSprop,
        {"nesterov": True},
        ValueError,
        "nesterov=True requires momentum > 0, got momentum=0.0",
    ),
    (
        ol.RMSprop,
        {"centered": True, "eps": 0.0},
        ValueError,
        "eps must be > 0 when centered=True, got 0.0",
    ),
]


@pytest.mark.parametrize(("cls", "kwargs", "error", "message"), INVALID)
def test_invalid_option_raises(cls, kwargs, error, message):
    with raises(error, message):
        cls(**kwargs)


# Translation of library arguments.


def test_translate_renames_pytorch_alpha():
    kwargs = translate("pytorch", "rmsprop", lr=0.1, alpha=0.5, centered=True)
    assert kwargs["rho"] == 0.5
    assert kwargs["centered"] is True
    assert kwargs["eps_placement"] == "outside"


@pytest.mark.parametrize(
    ("eps_in_sqrt", "placement"), [(True, "inside"), (False, "outside")]
)
def test_translate_optax_eps_in_sqrt(eps_in_sqrt, placement):
    kwargs = translate("optax", "rmsprop", learning_rate=0.1, eps_in_sqrt=eps_in_sqrt)
    assert kwargs["eps_placement"] == placement


def test_translate_none_means_off():
    assert translate("optax", "rmsprop", momentum=None)["momentum"] == 0.0
    assert translate("keras", "adagrad", weight_decay=None)["weight_decay"] == 0.0


def test_translate_rejects_unknown_argument():
    with raises(TypeError, "pytorch adagrad has no argument 'maximize'"):
        translate("pytorch", "adagrad", maximize=True)


def test_translate_rejects_schedule():
    with raises(TypeError, "learning_rate must be a number, got the callable"):
        translate("optax", "rmsprop", learning_rate=lambda count: 0.1)


def test_translate_rejects_unknown_library():
    with raises(ValueError, "library must be one of"):
        translate("mxnet", "rmsprop")


def test_from_library_builds_preset():
    optimizer = from_library("keras", "rmsprop", learning_rate=0.01, momentum=0.9)
    assert isinstance(optimizer, ol.RMSprop)
    assert optimizer.convention == "keras"
    assert (optimizer.lr, optimizer.momentum, optimizer.eps) == (0.01, 0.9, 1e-7)


# First steps under each convention, in closed form.


@pytest.mark.parametrize("gradient", [1e-3, -2.0, 500.0])
def test_pytorch_adagrad_first_step_is_sign(gradient):
    # G_1 = g^2, so the step is lr * g / (|g| + 1e-10): lr * sign(g) to 1e-7.
    theta = np.zeros(1)
    take_steps(ol.AdaGrad(lr=0.1, convention="pytorch"), theta, [[gradient]])
    expected = -0.1 * gradient / (abs(gradient) + 1e-10)
    np.testing.assert_allclose(theta, [expected], rtol=1e-15)


@pytest.mark.parametrize("convention", ["optax", "keras"])
def test_adagrad_start_at_tenth_damps_first_step(convention):
    # G_1 = 0.1 + g^2 and eps = 1e-7 inside: g = 1e-3 moves by about
    # lr * 1e-3 / sqrt(0.1), not lr.
    theta = np.zeros(1)
    take_steps(ol.AdaGrad(lr=0.1, convention=convention), theta, [[1e-3]])
    expected = -0.1 * 1e-3 / math.sqrt(0.1 + 1e-6 + 1e-7)
    np.testing.assert_allclose(theta, [expected], rtol=1e-14)


def test_pytorch_rmsprop_first_step_is_ten_lr():
    # E_1 = 0.01 g^2, so the step is lr * g / (0.1 |g| + 1e-8), about 10 lr.
    theta = np.zeros(1)
    take_steps(ol.RMSprop(lr=0.01, convention="pytorch"), theta, [[3.0]])
    np.testing.assert_allclose(theta, [-0.01 * 3.0 / (0.3 + 1e-8)], rtol=1e-14)


def test_tf1_rmsprop_start_at_one():
    # E_1 = 0.9 * 1 + 0.1 g^2: g = 0.5 moves by lr * 0.5 / sqrt(0.925 + 1e-10).
    theta = np.zeros(1)
    take_steps(ol.RMSprop(lr=0.01, convention="tf1"), theta, [[0.5]])
    np.testing.assert_allclose(theta, [-0.005 / math.sqrt(0.925 + 1e-10)], rtol=1e-14)


# Options, by hand.


def test_adagrad_lr_decay_by_hand():
    # g = 1 each step and eps = 0: G_t = t and lr_t = lr / (1 + (t - 1) d),
    # so theta_3 = -sum over t of lr_t / sqrt(t).
    theta = np.zeros(1)
    optimizer = ol.AdaGrad(lr=0.3, eps=0.0, lr_decay=0.5)
    state = take_steps(optimizer, theta, [[1.0]] * 3)
    expected = -sum(0.3 / (1 + (t - 1) * 0.5) / math.sqrt(t) for t in (1, 2, 3))
    np.testing.assert_allclose(theta, [expected], rtol=1e-14)
    np.testing.assert_allclose(optimizer.effective_lr(state), [0.15 / math.sqrt(3)])


def test_l2_weight_decay_enters_accumulator():
    # theta = 2, g = 0, weight decay 0.5: the gradient becomes 1, G_1 = 1, and
    # with eps = 0 the step is lr * 1 / 1.
    theta = np.array([2.0])
    optimizer = ol.AdaGrad(lr=0.1, eps=0.0, weight_decay=0.5)
    state = take_steps(optimizer, theta, [[0.0]])
    np.testing.assert_allclose(theta, [1.9], rtol=1e-15)
    np.testing.assert_allclose(state.accumulator, [1.0], rtol=1e-15)


def test_decoupled_weight_decay_skips_accumulator():
    # theta = 2, g = 0: theta shrinks by lr * 0.5 * 2 = 0.1 and G stays 0.
    theta = np.array([2.0])
    optimizer = ol.AdaGrad(lr=0.1, weight_decay=0.5, weight_decay_form="decoupled")
    state = take_steps(optimizer, theta, [[0.0]])
    np.testing.assert_allclose(theta, [1.9], rtol=1e-15)
    np.testing.assert_array_equal(state.accumulator, [0.0])


@pytest.mark.parametrize("form", ["pytorch", "keras"])
def test_momentum_by_hand(form):
    # rho = 0 and eps = 0 make u = sign(g) = 1: b_1 = 1, b_2 = 1 + mu, so
    # theta_2 = -lr (1 + (1 + mu)) in both forms while lr is constant.
    theta = np.zeros(1)
    optimizer = ol.RMSprop(lr=0.1, rho=0.0, eps=0.0, momentum=0.5, momentum_form=form)
    take_steps(optimizer, theta, [[2.0], [3.0]])
    np.testing.assert_allclose(theta, [-0.1 * 2.5], rtol=1e-15)


def test_momentum_forms_differ_after_lr_change():
    # PyTorch scales the whole buffer by the new lr, Keras only the new term:
    # with u = 1 each step, lr 0.1 then 0.05 and mu = 0.5, the second step is
    # 0.05 * 1.5 = 0.075 (PyTorch) and 0.5 * 0.1 + 0.05 = 0.1 (Keras).
    positions = {}
    for form in ("pytorch", "keras"):
        theta = np.zeros(1)
        optimizer = ol.RMSprop(
            lr=0.1, rho=0.0, eps=0.0, momentum=0.5, momentum_form=form
        )
        state = optimizer.init(theta)
        optimizer.step(theta, np.array([1.0]), state)
        optimizer.lr = 0.05
        optimizer.step(theta, np.array([1.0]), state)
        positions[form] = theta[0]
    np.testing.assert_allclose(positions["pytorch"], -0.175, rtol=1e-15)
    np.testing.assert_allclose(positions["keras"], -0.2, rtol=1e-15)


def test_nesterov_by_hand():
    # optax's trace with nesterov: b = u + mu b, step = u + mu b. With u = lr:
    # step 1 = lr (1 + mu), step 2 = lr (1 + mu (1 + mu)).
    theta = np.zeros(1)
    optimizer = ol.RMSprop(
        lr=0.1, rho=0.0, eps=0.0, momentum=0.5, nesterov=True, convention="optax"
    )
    take_steps(optimizer, theta, [[4.0], [4.0]])
    np.testing.assert_allclose(theta, [-0.1 * (1.5 + 1.75)], rtol=1e-15)


def test_bias_correction_by_hand():
    # g = 2 each step: E_t = 4 (1 - rho^t), so E_t / (1 - rho^t) = 4 and each
    # step is lr * 2 / 2 = lr.
    theta = np.zeros(1)
    optimizer = ol.RMSprop(lr=0.1, rho=0.9, eps=0.0, bias_correction=True)
    state = take_steps(optimizer, theta, [[2.0]] * 3)
    np.testing.assert_allclose(theta, [-0.3], rtol=1e-14)
    np.testing.assert_allclose(optimizer.effective_lr(state), [0.05], rtol=1e-14)


def test_centered_by_hand():
    # rho = 0.5, g = 2 then 4: E[g]_1 = 1, E[g^2]_1 = 2, variance 1;
    # E[g]_2 = 2.5, E[g^2]_2 = 9, variance 2.75. With eps = 1 outside,
    # theta_2 = -(2 / (1 + 1) + 4 / (sqrt(2.75) + 1)).
    theta = np.zeros(1)
    optimizer = ol.RMSprop(
        lr=1.0, rho=0.5, eps=1.0, eps_placement="outside", centered=True
    )
    state = take_steps(optimizer, theta, [[2.0], [4.0]])
    np.testing.assert_allclose(
        theta, [-(1.0 + 4.0 / (math.sqrt(2.75) + 1.0))], rtol=1e-15
    )
    np.testing.assert_allclose(state.grad_average, [2.5], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_centered_clamps_negative_variance(dtype):
    # A constant gradient with rho = 0.5 drives E[g^2] - E[g]^2 to rounding
    # noise within 30 steps, and the noise can be negative. The clamp makes
    # the denominator sqrt(0) + eps there.
    theta = np.ones(4, dtype=dtype)
    optimizer = ol.RMSprop(
        lr=0.01, rho=0.5, eps=1e-8, eps_placement="outside", centered=True
    )
    state = take_steps(optimizer, theta, [[1e4, 3.0, 0.7, -1e-3]] * 60)
    assert np.all(np.isfinite(theta))
    assert np.all(np.isfinite(optimizer.effective_lr(state)))


def test_effective_lr_excludes_momentum():
    # rho = 0, eps = 0: the denominator is |g| = 4, so the factor is lr / 4
    # whatever the momentum buffer holds.
    optimizer = ol.RMSprop(lr=0.2, rho=0.0, eps=0.0, momentum=0.9)
    state = take_steps(optimizer, np.zeros(1), [[1.0], [4.0]])
    np.testing.assert_allclose(optimizer.effective_lr(state), [0.05], rtol=1e-15)


# State and memory.


def test_state_allocates_only_needed_buffers():
    plain = ol.RMSprop().init(np.zeros(3))
    assert plain.grad_average is None
    assert plain.momentum_buffer is None
    assert plain.mask is None
    full = ol.RMSprop(centered=True, momentum=0.5, bias_correction=True).init(
        np.zeros(3)
    )
    assert full.grad_average.shape == (3,)
    assert full.momentum_buffer.shape == (3,)
    assert full.spare.shape == (3,)


STEP_OPTIMIZERS = [
    ol.AdaGrad(0.1),
    ol.AdaGrad(0.1, eps=0.0),
    ol.AdaGrad(0.1, lr_decay=0.1, weight_decay=0.1),
    ol.AdaGrad(0.1, weight_decay=0.1, weight_decay_form="decoupled"),
    ol.RMSprop(0.1, eps=0.0),
    ol.RMSprop(
        0.1, centered=True, momentum=0.9, bias_correction=True, weight_decay=0.1
    ),
    ol.RMSprop(0.1, momentum=0.9, nesterov=True, convention="keras"),
    ol.RMSprop(0.1, momentum=0.5, nesterov=True, eps=0.0),
]


@pytest.mark.parametrize("optimizer", STEP_OPTIMIZERS, ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_allocates_no_array(optimizer, dtype):
    # A 1e5-element float32 array is 400 kB; a step allocates about 1 kB of
    # Python objects and no array.
    rng = np.random.default_rng(0)
    theta = np.ones(100_000, dtype=dtype)
    gradient = rng.standard_normal(theta.size).astype(dtype)
    gradient[::3] = 0.0
    state = optimizer.init(theta)
    optimizer.step(theta, gradient, state)
    tracemalloc.start()
    optimizer.step(theta, gradient, state)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8_000
