"""Unit tests of the effective-rate schedules against step-by-step formulas."""

import math

import numpy as np
import pytest

from optimlib import (
    AdaGrad,
    CurveSet,
    RMSprop,
    adagrad_accumulator,
    adagrad_effective_lr,
    log_spaced_indices,
    rmsprop_accumulator,
    rmsprop_effective_lr,
)

HISTORY = [[1.0, 2.0], [3.0, 0.0], [0.0, -1.0]]


def moving_average_by_loop(gradients, rho, start=0.0):
    """Return E[g^2]_t for every t with the recursion written out, row by row."""
    gradients = np.asarray(gradients, dtype=np.float64)
    averages = np.empty_like(gradients)
    average = np.full(gradients.shape[1:], start)
    for t, gradient in enumerate(gradients):
        average = rho * average + (1.0 - rho) * gradient * gradient
        averages[t] = average
    return averages


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # squares [[1, 4], [9, 0], [0, 1]], summed down each column
        (0.0, [[1.0, 4.0], [10.0, 4.0], [10.0, 5.0]]),
        (0.5, [[1.5, 4.5], [10.5, 4.5], [10.5, 5.5]]),
    ],
)
def test_adagrad_accumulator_by_hand(start, expected):
    result = adagrad_accumulator(HISTORY, initial_accumulator=start)
    np.testing.assert_allclose(result, expected, rtol=1e-15)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # rho = 0.5, g = 2, 4, 0: E_1 = 0.5 * 4 = 2, E_2 = 0.5 * 2 + 0.5 * 16 = 9,
        # E_3 = 0.5 * 9 = 4.5
        (0.0, [2.0, 9.0, 4.5]),
        # E_0 = 8: E_1 = 4 + 2 = 6, E_2 = 3 + 8 = 11, E_3 = 5.5
        (8.0, [6.0, 11.0, 5.5]),
    ],
)
def test_rmsprop_accumulator_by_hand(start, expected):
    result = rmsprop_accumulator([2.0, 4.0, 0.0], rho=0.5, initial_accumulator=start)
    np.testing.assert_allclose(result, expected, rtol=1e-14)


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.99])
def test_rmsprop_accumulator_constant_gradient(rho):
    # Constant g: E_t = g^2 (1 - rho^t).
    t = np.arange(1, 201)
    result = rmsprop_accumulator(np.full(200, 2.0), rho=rho)
    np.testing.assert_allclose(result, 4.0 * (1.0 - rho**t), rtol=1e-12)


def test_rmsprop_accumulator_rho_zero():
    # rho = 0 keeps no history: E_t = g_t^2.
    result = rmsprop_accumulator(HISTORY, rho=0.0)
    np.testing.assert_allclose(result, np.square(HISTORY), rtol=1e-15)


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.9, 0.999])
@pytest.mark.parametrize("start", [0.0, 0.7])
def test_rmsprop_accumulator_matches_loop(rho, start):
    gradients = np.random.default_rng(3).standard_normal((300, 4))
    expected = moving_average_by_loop(gradients, rho, start)
    result = rmsprop_accumulator(gradients, rho=rho, initial_accumulator=start)
    np.testing.assert_allclose(result, expected, rtol=1e-12)


def test_adagrad_effective_lr_docstring_example():
    # G = 4 then 8: 1 / sqrt(4) = 0.5 and 1 / sqrt(8).
    result = adagrad_effective_lr([[2.0], [2.0]], lr=1.0, eps=0.0)
    np.testing.assert_allclose(result.ravel(), [0.5, 1.0 / math.sqrt(8.0)], rtol=1e-15)


@pytest.mark.parametrize(
    ("placement", "closed_form"),
    [
        # Constant g: G_t = t g^2.
        ("inside", lambda t, g, eps: 0.1 / np.sqrt(t * g * g + eps)),
        ("outside", lambda t, g, eps: 0.1 / (np.sqrt(t) * abs(g) + eps)),
    ],
)
def test_adagrad_effective_lr_constant_gradient(placement, closed_form):
    t = np.arange(1, 1001)
    result = adagrad_effective_lr(
        np.full(1000, -0.3), lr=0.1, eps=1e-4, eps_placement=placement
    )
    np.testing.assert_allclose(result, closed_form(t, -0.3, 1e-4), rtol=1e-12)


@pytest.mark.parametrize(
    ("placement", "closed_form"),
    [
        # Constant g: E_t = g^2 (1 - rho^t).
        ("inside", lambda t, g, eps: 0.1 / np.sqrt(g * g * (1 - 0.9**t) + eps)),
        ("outside", lambda t, g, eps: 0.1 / (abs(g) * np.sqrt(1 - 0.9**t) + eps)),
    ],
)
def test_rmsprop_effective_lr_constant_gradient(placement, closed_form):
    t = np.arange(1, 501)
    result = rmsprop_effective_lr(
        np.full(500, 2.0), lr=0.1, rho=0.9, eps=1e-4, eps_placement=placement
    )
    np.testing.assert_allclose(result, closed_form(t, 2.0, 1e-4), rtol=1e-12)


def test_adagrad_effective_lr_initial_accumulator():
    # G_1 = 0.1 + 0.3^2 = 0.19.
    result = adagrad_effective_lr([0.3], lr=0.5, eps=0.0, initial_accumulator=0.1)
    np.testing.assert_allclose(result, [0.5 / math.sqrt(0.19)], rtol=1e-15)


OPTIMIZER_CASES = [
    (AdaGrad, adagrad_effective_lr, {}),
    (AdaGrad, adagrad_effective_lr, {"eps_placement": "outside"}),
    (AdaGrad, adagrad_effective_lr, {"initial_accumulator": 0.1}),
    (RMSprop, rmsprop_effective_lr, {"rho": 0.8}),
    (RMSprop, rmsprop_effective_lr, {"rho": 0.99, "eps_placement": "outside"}),
    (RMSprop, rmsprop_effective_lr, {"rho": 0.9, "initial_accumulator": 1.0}),
]


@pytest.mark.parametrize(("optimizer_class", "schedule", "kwargs"), OPTIMIZER_CASES)
def test_schedule_matches_optimizer_steps(optimizer_class, schedule, kwargs):
    # Row t of the schedule is the factor the optimizer applied at step t + 1.
    gradients = np.random.default_rng(4).standard_normal((60, 3)) * [1e-3, 1.0, 1e3]
    optimizer = optimizer_class(lr=0.05, eps=1e-6, **kwargs)
    theta = np.zeros(3)
    state = optimizer.init(theta)
    rows = []
    for gradient in gradients:
        optimizer.step(theta, gradient, state)
        rows.append(optimizer.effective_lr(state))
    expected = np.array(rows)
    result = schedule(gradients, lr=0.05, eps=1e-6, **kwargs)
    np.testing.assert_allclose(result, expected, rtol=1e-12)


@pytest.mark.parametrize("shape", [(7,), (7, 2), (7, 2, 3)])
@pytest.mark.parametrize(
    "function",
    [
        adagrad_accumulator,
        rmsprop_accumulator,
        adagrad_effective_lr,
        rmsprop_effective_lr,
    ],
    ids=lambda f: f.__name__,
)
def test_schedule_keeps_history_shape(shape, function):
    assert function(np.ones(shape)).shape == shape


def test_schedule_accepts_integer_history():
    # Integer gradients become float64, so 1 + 4 + ... does not truncate.
    result = adagrad_effective_lr([[1], [2]], lr=1.0, eps=0.0)
    np.testing.assert_allclose(result.ravel(), [1.0, 1.0 / math.sqrt(5.0)], rtol=1e-15)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("placement", ["inside", "outside"])
def test_zero_history_zero_eps_is_inf(placement):
    # lr / sqrt(0) is inf, as in AdaGrad.effective_lr, with no warning.
    result = adagrad_effective_lr(np.zeros(3), eps=0.0, eps_placement=placement)
    assert np.all(np.isinf(result))


# log_spaced_indices.

INDEX_CASES = [
    (1, 2),
    (2, 2),
    (3, 2),
    (5, 400),
    (400, 400),
    (401, 400),
    (1000, 2),
    (1000, 3),
    (10_000, 400),
    (10**6, 50),
]


@pytest.fixture(params=INDEX_CASES, ids=lambda case: f"{case[0]}-{case[1]}")
def index_case(request):
    steps, max_points = request.param
    return steps, max_points, log_spaced_indices(steps, max_points)


def test_log_indices_strictly_increase(index_case):
    _, _, indices = index_case
    assert np.all(np.diff(indices) > 0)


def test_log_indices_start_at_zero(index_case):
    _, _, indices = index_case
    assert indices[0] == 0


def test_log_indices_end_at_last_step(index_case):
    steps, _, indices = index_case
    assert indices[-1] == steps - 1


def test_log_indices_respect_max_points(index_case):
    _, max_points, indices = index_case
    assert indices.size <= max_points


def test_log_indices_are_integers(index_case):
    _, _, indices = index_case
    assert indices.dtype.kind == "i"


@pytest.mark.parametrize("steps", [1, 7, 400])
def test_log_indices_short_history_complete(steps):
    np.testing.assert_array_equal(log_spaced_indices(steps, 400), np.arange(steps))


@pytest.mark.parametrize("decade", [2, 3])
def test_log_indices_even_per_decade(decade):
    # 400 points span four decades of t = index + 1 in 399 equal log steps, so
    # each of the last decades gets about 399 / 4 = 99.75 points.
    t = log_spaced_indices(10_000, 400) + 1
    count = np.count_nonzero((t >= 10**decade) & (t < 10 ** (decade + 1)))
    assert abs(count - 99.75) <= 2


# CurveSet.

RELATIVE = np.array([0.1, 1.0, 10.0])


@pytest.fixture(scope="module")
def noise():
    return np.random.default_rng(5).standard_normal((2000, 3))


def test_curve_set_indices_log_spaced(noise):
    curves = CurveSet(noise, RELATIVE, max_points=100)
    np.testing.assert_array_equal(curves.indices, log_spaced_indices(2000, 100))


@pytest.mark.parametrize("placement", ["inside", "outside"])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 20.0])
def test_curve_set_adagrad_closed_form(noise, placement, scale):
    # G_t = scale^2 * cumsum((relative * noise)^2), sampled at the indices.
    curves = CurveSet(noise, RELATIVE, max_points=100)
    sums = (scale**2 * np.cumsum((noise * RELATIVE) ** 2, axis=0))[curves.indices]
    if placement == "inside":
        expected = 0.05 / np.sqrt(sums + 1e-8)
    else:
        expected = 0.05 / (np.sqrt(sums) + 1e-8)
    result = curves.adagrad(scale, 0.05, 1e-8, placement)
    np.testing.assert_allclose(result, expected, rtol=1e-12)


@pytest.mark.parametrize("placement", ["inside", "outside"])
@pytest.mark.parametrize(("scale", "rho"), [(1.0, 0.9), (0.01, 0.5), (30.0, 0.999)])
def test_curve_set_rmsprop_matches_loop(noise, placement, scale, rho):
    curves = CurveSet(noise, RELATIVE, max_points=100)
    averages = moving_average_by_loop(scale * noise * RELATIVE, rho)[curves.indices]
    if placement == "inside":
        expected = 0.05 / np.sqrt(averages + 1e-8)
    else:
        expected = 0.05 / (np.sqrt(averages) + 1e-8)
    result = curves.rmsprop(scale, 0.05, rho, 1e-8, placement)
    np.testing.assert_allclose(result, expected, rtol=1e-10)


@pytest.mark.parametrize(
    ("method", "schedule", "kwargs"),
    [
        ("adagrad", adagrad_effective_lr, {}),
        ("rmsprop", rmsprop_effective_lr, {"rho": 0.95}),
    ],
)
def test_curve_set_matches_schedule(noise, method, schedule, kwargs):
    curves = CurveSet(noise, RELATIVE, max_points=50)
    expected = schedule(3.0 * noise * RELATIVE, lr=0.2, eps=1e-6, **kwargs)
    result = getattr(curves, method)(scale=3.0, lr=0.2, eps=1e-6, **kwargs)
    np.testing.assert_allclose(result, expected[curves.indices], rtol=1e-10)


def test_curve_set_rho_change_recomputes(noise):
    # The set caches the moving average of the last rho, so switching back and
    # forth must give each rho its own curves.
    curves = CurveSet(noise, RELATIVE, max_points=100)
    sequence = (0.9, 0.5, 0.9)
    results = [curves.rmsprop(1.0, 0.1, rho) for rho in sequence]
    for rho, result in zip(sequence, results, strict=True):
        averages = moving_average_by_loop(noise * RELATIVE, rho)[curves.indices]
        np.testing.assert_allclose(result, 0.1 / np.sqrt(averages + 1e-8), rtol=1e-10)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [("adagrad", {}), ("rmsprop", {"rho": 0.9})],
)
def test_curve_set_output_shape(noise, method, kwargs):
    curves = CurveSet(noise, RELATIVE, max_points=100)
    result = getattr(curves, method)(scale=1.0, lr=0.1, **kwargs)
    assert result.shape == (curves.indices.size, 3)
