"""Unit tests of SGD, AdaGrad and RMSprop against updates computed by hand."""

import math

import numpy as np
import pytest

from optimlib import SGD, AdaGrad, RMSprop

PLACEMENTS = ("inside", "outside")


def take_steps(optimizer, params, gradients):
    """Apply ``gradients`` one after another and return the final state."""
    state = optimizer.init(params)
    for gradient in gradients:
        optimizer.step(params, np.asarray(gradient, dtype=params.dtype), state)
    return state


def test_sgd_step_subtracts_lr_times_gradient():
    theta = np.array([2.0, -1.0])
    take_steps(SGD(lr=0.5), theta, [[1.0, -4.0]])
    # [2 - 0.5 * 1, -1 - 0.5 * (-4)] = [1.5, 1.0]
    np.testing.assert_allclose(theta, [1.5, 1.0], rtol=0, atol=1e-15)


def test_sgd_effective_lr_is_constant():
    optimizer = SGD(lr=0.25)
    state = take_steps(optimizer, np.zeros(3), [[1.0, 2.0, 3.0]] * 4)
    np.testing.assert_array_equal(optimizer.effective_lr(state), [0.25] * 3)


def test_step_updates_params_in_place():
    # The update lands in the caller's array: with eps = 0 the first AdaGrad
    # step gives 1 - lr * sign(g) = 0.9.
    theta = np.array([1.0])
    optimizer = AdaGrad(lr=0.1, eps=0.0)
    optimizer.step(theta, np.array([2.0]), optimizer.init(theta))
    assert theta[0] == pytest.approx(0.9, rel=1e-15)


@pytest.mark.parametrize("optimizer", [SGD(0.1), AdaGrad(0.1), RMSprop(0.1)], ids=repr)
def test_step_counter_counts_steps(optimizer):
    state = take_steps(optimizer, np.zeros(2), [[1.0, 1.0]] * 3)
    assert state.step == 3


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("gradient", [1e-6, 0.01, 3.0, -250.0])
def test_adagrad_first_step_is_sign(placement, gradient):
    # G_1 = g^2 and eps = 0, so the step is lr * g / |g| = lr * sign(g).
    theta = np.zeros(1)
    take_steps(AdaGrad(lr=0.1, eps=0.0, eps_placement=placement), theta, [[gradient]])
    np.testing.assert_allclose(theta, [-0.1 * math.copysign(1.0, gradient)], rtol=1e-15)


@pytest.mark.parametrize(
    ("placement", "eps", "gradients", "expected"),
    [
        # inside: sqrt(2^2 + 5) = 3, then sqrt(2^2 + 4^2 + 5) = 5:
        # theta_2 = -0.3 * (2/3 + 4/5) = -0.3 * 22/15 = -0.44
        ("inside", 5.0, [2.0, 4.0], -0.44),
        # outside: sqrt(3^2) + 1 = 4, then sqrt(3^2 + 4^2) + 1 = 6:
        # theta_2 = -0.3 * (3/4 + 4/6) = -0.3 * 17/12 = -0.425
        ("outside", 1.0, [3.0, 4.0], -0.425),
    ],
)
def test_adagrad_two_steps_by_hand(placement, eps, gradients, expected):
    theta = np.zeros(1)
    optimizer = AdaGrad(lr=0.3, eps=eps, eps_placement=placement)
    take_steps(optimizer, theta, [[g] for g in gradients])
    np.testing.assert_allclose(theta, [expected], rtol=1e-14)


def test_adagrad_initial_accumulator_enters_denominator():
    # G_1 = 0.1 + 0.3^2 = 0.19, so theta_1 = -0.5 * 0.3 / sqrt(0.19).
    theta = np.zeros(1)
    optimizer = AdaGrad(lr=0.5, eps=0.0, initial_accumulator=0.1)
    take_steps(optimizer, theta, [[0.3]])
    np.testing.assert_allclose(theta, [-0.5 * 0.3 / math.sqrt(0.19)], rtol=1e-14)


@pytest.mark.parametrize("steps", [1, 10, 100])
@pytest.mark.parametrize(
    ("placement", "closed_form"),
    [
        # After t steps of a constant g, G_t = t g^2.
        ("inside", lambda t, g, eps: 0.1 / math.sqrt(t * g * g + eps)),
        ("outside", lambda t, g, eps: 0.1 / (math.sqrt(t) * abs(g) + eps)),
    ],
)
def test_adagrad_effective_lr_constant_gradient(steps, placement, closed_form):
    optimizer = AdaGrad(lr=0.1, eps=1e-3, eps_placement=placement)
    state = take_steps(optimizer, np.zeros(1), [[-0.5]] * steps)
    expected = closed_form(steps, -0.5, 1e-3)
    np.testing.assert_allclose(optimizer.effective_lr(state), [expected], rtol=1e-14)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("gradient", [1e-3, -7.0])
def test_rmsprop_first_step_from_zero(rho, gradient):
    # E[g^2]_1 = (1 - rho) g^2 and eps = 0, so the step is
    # lr * g / (|g| sqrt(1 - rho)): 10 lr for rho = 0.99.
    theta = np.zeros(1)
    take_steps(RMSprop(lr=0.01, rho=rho, eps=0.0), theta, [[gradient]])
    expected = -0.01 * math.copysign(1.0, gradient) / math.sqrt(1.0 - rho)
    np.testing.assert_allclose(theta, [expected], rtol=1e-14)


@pytest.mark.parametrize("steps", [1, 5, 50])
@pytest.mark.parametrize("start", [0.0, 3.0])
def test_rmsprop_accumulator_constant_gradient(steps, start):
    # E_t = rho E_{t-1} + (1 - rho) g^2 unrolls to
    # rho^t E_0 + g^2 (1 - rho^t).
    optimizer = RMSprop(lr=0.01, rho=0.9, initial_accumulator=start)
    state = take_steps(optimizer, np.zeros(1), [[2.0]] * steps)
    expected = 0.9**steps * start + 4.0 * (1.0 - 0.9**steps)
    np.testing.assert_allclose(state.accumulator, [expected], rtol=1e-13)


@pytest.mark.parametrize(
    ("placement", "eps", "expected"),
    [
        # rho = 0.5, g = 2 then 4: E_1 = 0.5 * 4 = 2, E_2 = 0.5 * 2 + 0.5 * 16 = 9.
        # no eps: 2 / sqrt(2) + 4 / sqrt(9) = sqrt(2) + 4/3
        ("inside", 0.0, -(math.sqrt(2.0) + 4.0 / 3.0)),
        # inside, eps = 7: 2 / sqrt(9) + 4 / sqrt(16) = 2/3 + 1
        ("inside", 7.0, -5.0 / 3.0),
        # outside, eps = 1: 2 / (sqrt(2) + 1) + 4 / (3 + 1)
        ("outside", 1.0, -(2.0 / (math.sqrt(2.0) + 1.0) + 1.0)),
    ],
)
def test_rmsprop_two_steps_by_hand(placement, eps, expected):
    theta = np.zeros(1)
    optimizer = RMSprop(lr=1.0, rho=0.5, eps=eps, eps_placement=placement)
    take_steps(optimizer, theta, [[2.0], [4.0]])
    np.testing.assert_allclose(theta, [expected], rtol=1e-14)


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_rmsprop_effective_lr_after_steps(placement):
    # rho = 0.5, g = 2 then 4 gives E_2 = 9 (see the two-step test), and
    # 0.6 / sqrt(9) = 0.2.
    optimizer = RMSprop(lr=0.6, rho=0.5, eps=0.0, eps_placement=placement)
    state = take_steps(optimizer, np.zeros(1), [[2.0], [4.0]])
    np.testing.assert_allclose(optimizer.effective_lr(state), [0.2], rtol=1e-15)


@pytest.mark.parametrize(
    "optimizer", [AdaGrad(0.1, eps=1e-4), RMSprop(0.1, eps=1e-4)], ids=repr
)
def test_update_is_effective_lr_times_gradient(optimizer):
    rng = np.random.default_rng(1)
    theta = rng.standard_normal((4, 3))
    state = optimizer.init(theta)
    for _ in range(5):
        before = theta.copy()
        gradient = rng.standard_normal((4, 3))
        optimizer.step(theta, gradient, state)
        expected = before - optimizer.effective_lr(state) * gradient
        np.testing.assert_allclose(theta, expected, rtol=1e-14, atol=1e-15)


def test_adagrad_is_elementwise_on_matrices():
    # Each entry's first step is lr * sign(g) whatever the other entries hold.
    theta = np.zeros((2, 3))
    gradient = [[1e-4, -2.0, 30.0], [-5e3, 0.7, -1e-2]]
    take_steps(AdaGrad(lr=0.1, eps=0.0), theta, [gradient])
    np.testing.assert_allclose(theta, -0.1 * np.sign(gradient), rtol=1e-15)


def test_step_accepts_list_gradient():
    theta = np.zeros(2)
    optimizer = AdaGrad(lr=0.1, eps=0.0)
    optimizer.step(theta, [3, -1], optimizer.init(theta))
    np.testing.assert_allclose(theta, [-0.1, 0.1], rtol=1e-15)


ZERO_EPS_OPTIMIZERS = [
    AdaGrad(lr=0.1, eps=0.0, eps_placement="inside"),
    AdaGrad(lr=0.1, eps=0.0, eps_placement="outside"),
    RMSprop(lr=0.1, eps=0.0, eps_placement="inside"),
    RMSprop(lr=0.1, eps=0.0, eps_placement="outside"),
]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("optimizer", ZERO_EPS_OPTIMIZERS, ids=repr)
def test_zero_eps_zero_gradient_no_update(optimizer):
    # The denominator is sqrt(0) = 0, and the update 0 / 0 must be 0, not NaN.
    theta = np.array([1.0, -2.0])
    take_steps(optimizer, theta, [[0.0, 0.0]] * 2)
    np.testing.assert_array_equal(theta, [1.0, -2.0])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("optimizer", ZERO_EPS_OPTIMIZERS, ids=repr)
def test_zero_eps_mixed_gradient_entries(optimizer):
    # The zero entry stays, the other moves by lr * sign(g) / sqrt(1 - rho)
    # (rho = 0 for AdaGrad, whose first step has no such factor).
    theta = np.zeros(2)
    take_steps(optimizer, theta, [[0.0, -4.0]])
    rho = getattr(optimizer, "rho", 0.0)
    np.testing.assert_allclose(theta, [0.0, 0.1 / math.sqrt(1.0 - rho)], rtol=1e-15)


@pytest.mark.parametrize("optimizer", ZERO_EPS_OPTIMIZERS, ids=repr)
def test_zero_eps_fresh_effective_lr_inf(optimizer):
    # Before any step the denominator is sqrt(0) = 0, so lr / 0 is inf.
    state = optimizer.init(np.zeros(2))
    assert np.all(np.isinf(optimizer.effective_lr(state)))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
@pytest.mark.parametrize("placement", PLACEMENTS)
def test_tiny_eps_float32_zero_gradient(optimizer_class, placement):
    theta = np.ones(2, dtype=np.float32)
    optimizer = optimizer_class(lr=0.1, eps=1e-50, eps_placement=placement)
    take_steps(optimizer, theta, [[0.0, 0.0]])
    np.testing.assert_array_equal(theta, [1.0, 1.0])


@pytest.mark.parametrize(
    "optimizer",
    [AdaGrad(0.1), RMSprop(0.1), AdaGrad(0.1, eps_placement="outside")],
    ids=repr,
)
def test_float32_state_stays_float32(optimizer):
    theta = np.ones(3, dtype=np.float32)
    state = optimizer.init(theta)
    optimizer.step(theta, np.array([0.5, -1.0, 2.0]), state)
    assert theta.dtype == np.float32
    assert state.accumulator.dtype == np.float32
    assert optimizer.effective_lr(state).dtype == np.float32


def test_sgd_float32_params_stay_float32():
    theta = np.ones(3, dtype=np.float32)
    take_steps(SGD(0.1), theta, [[0.5, -1.0, 2.0]])
    assert theta.dtype == np.float32


@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
def test_float32_run_tracks_float64(optimizer_class):
    # The same run in both precisions agrees to float32 rounding.
    rng = np.random.default_rng(2)
    gradients = rng.standard_normal((50, 4))
    wide = np.zeros(4)
    narrow = np.zeros(4, dtype=np.float32)
    take_steps(optimizer_class(lr=0.01), wide, gradients)
    take_steps(optimizer_class(lr=0.01), narrow, gradients)
    np.testing.assert_allclose(narrow, wide, rtol=1e-5, atol=1e-6)


def test_repr_shows_hyperparameters():
    text = repr(RMSprop(lr=0.5, rho=0.8))
    assert text.startswith("RMSprop(lr=0.5, rho=0.8, eps=1e-08")
