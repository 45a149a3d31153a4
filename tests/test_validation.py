"""Unit tests of input checks: every public entry point rejects bad input.

A rejected value raises TypeError when it is of the wrong kind and ValueError
when it is out of range, and the message names the argument and shows the
value.
"""

import math
import re

import numpy as np
import pytest

from optimlib import (
    SGD,
    AdaGrad,
    CurveSet,
    EffectiveLRPanel,
    LogisticRegression,
    Quadratic,
    RMSprop,
    Rosenbrock,
    adagrad_accumulator,
    adagrad_effective_lr,
    log_spaced_indices,
    rmsprop_accumulator,
    rmsprop_effective_lr,
    run,
    series_style,
)
from optimlib import _validation as check
from optimlib.objectives import Objective

OPTIMIZER_CLASSES = [SGD, AdaGrad, RMSprop]
ADAPTIVE_CLASSES = [AdaGrad, RMSprop]

BAD_POSITIVE = [
    (0, ValueError, "must be positive and finite, got 0"),
    (-1, ValueError, "must be positive and finite, got -1"),
    (math.nan, ValueError, "must be positive and finite, got nan"),
    (math.inf, ValueError, "must be positive and finite, got inf"),
    ("0.1", TypeError, "must be a real number, got '0.1'"),
    (True, TypeError, "must be a real number, got True"),
    (None, TypeError, "must be a real number, got None"),
]

BAD_NONNEGATIVE = [
    (-1e-8, ValueError, "must be finite and >= 0, got -1e-08"),
    (math.nan, ValueError, "must be finite and >= 0, got nan"),
    (math.inf, ValueError, "must be finite and >= 0, got inf"),
    ("1e-8", TypeError, "must be a real number, got '1e-8'"),
]

BAD_RHO = [
    (1.0, ValueError, "rho must lie in [0, 1), got 1.0"),
    (-0.1, ValueError, "rho must lie in [0, 1), got -0.1"),
    (1.5, ValueError, "rho must lie in [0, 1), got 1.5"),
    (math.nan, ValueError, "rho must lie in [0, 1), got nan"),
    ("0.9", TypeError, "rho must be a real number, got '0.9'"),
]

NON_NUMERIC = [
    pytest.param(["a", "b", "c"], id="strings"),
    pytest.param([object(), object(), object()], id="objects"),
    pytest.param(None, id="None"),
    pytest.param([None, None, None], id="list-of-None"),
    pytest.param([True, False, True], id="booleans"),
    pytest.param([1j, 2j, 3j], id="complex"),
]

NON_FINITE = [math.nan, math.inf, -math.inf]


def raises(error, message):
    """Return pytest.raises for ``error`` whose message contains ``message``."""
    return pytest.raises(error, match=re.escape(message))


# Optimizer hyperparameters.


@pytest.mark.parametrize("optimizer_class", OPTIMIZER_CLASSES)
@pytest.mark.parametrize(("lr", "error", "message"), BAD_POSITIVE)
def test_optimizer_rejects_bad_lr(optimizer_class, lr, error, message):
    with raises(error, "lr " + message):
        optimizer_class(lr=lr)


@pytest.mark.parametrize("optimizer_class", ADAPTIVE_CLASSES)
@pytest.mark.parametrize(("eps", "error", "message"), BAD_NONNEGATIVE)
def test_optimizer_rejects_bad_eps(optimizer_class, eps, error, message):
    with raises(error, "eps " + message):
        optimizer_class(lr=0.1, eps=eps)


@pytest.mark.parametrize("optimizer_class", ADAPTIVE_CLASSES)
@pytest.mark.parametrize(("start", "error", "message"), BAD_NONNEGATIVE)
def test_optimizer_rejects_bad_initial_accumulator(
    optimizer_class, start, error, message
):
    with raises(error, "initial_accumulator " + message):
        optimizer_class(lr=0.1, initial_accumulator=start)


@pytest.mark.parametrize("optimizer_class", ADAPTIVE_CLASSES)
@pytest.mark.parametrize("placement", ["middle", "Inside", None])
def test_optimizer_rejects_bad_placement(optimizer_class, placement):
    message = f"eps_placement must be one of 'inside', 'outside', got {placement!r}"
    with raises(ValueError, message):
        optimizer_class(lr=0.1, eps_placement=placement)


@pytest.mark.parametrize(("rho", "error", "message"), BAD_RHO)
def test_rmsprop_rejects_bad_rho(rho, error, message):
    with raises(error, message):
        RMSprop(lr=0.1, rho=rho)


@pytest.mark.parametrize("optimizer_class", OPTIMIZER_CLASSES)
def test_optimizer_accepts_numpy_scalars(optimizer_class):
    assert optimizer_class(lr=np.float32(0.5)).lr == 0.5


# Parameters and gradients passed to init and step.

BAD_PARAMS = [
    pytest.param(
        [1.0, 2.0],
        TypeError,
        "params must be a NumPy array updated in place, got list",
        id="list",
    ),
    pytest.param(
        np.array([1, 2]),
        TypeError,
        "params must have dtype float32 or float64, got int64",
        id="int64",
    ),
    pytest.param(
        np.array([1.0, 2.0], dtype=np.float16),
        TypeError,
        "params must have dtype float32 or float64, got float16",
        id="float16",
    ),
    pytest.param(
        np.broadcast_to(np.zeros(1), (2,)),
        ValueError,
        "params must be writeable, got a read-only array",
        id="read-only",
    ),
]


@pytest.mark.parametrize("optimizer_class", OPTIMIZER_CLASSES)
@pytest.mark.parametrize(("params", "error", "message"), BAD_PARAMS)
def test_init_rejects_bad_params(optimizer_class, params, error, message):
    with raises(error, message):
        optimizer_class(lr=0.1).init(params)


@pytest.mark.parametrize("optimizer_class", OPTIMIZER_CLASSES)
@pytest.mark.parametrize(("params", "error", "message"), BAD_PARAMS)
def test_step_rejects_bad_params(optimizer_class, params, error, message):
    optimizer = optimizer_class(lr=0.1)
    state = optimizer.init(np.zeros(2))
    with raises(error, message):
        optimizer.step(params, np.ones(2), state)


@pytest.mark.parametrize("optimizer_class", OPTIMIZER_CLASSES)
@pytest.mark.parametrize("shape", [(2,), (4,), (3, 1), ()])
def test_step_rejects_gradient_shape(optimizer_class, shape):
    optimizer = optimizer_class(lr=0.1)
    theta = np.zeros(3)
    message = f"grads must have the parameters' shape (3,), got {shape}"
    with raises(ValueError, message):
        optimizer.step(theta, np.ones(shape), optimizer.init(theta))


@pytest.mark.parametrize("optimizer_class", OPTIMIZER_CLASSES)
@pytest.mark.parametrize("grads", NON_NUMERIC)
def test_step_rejects_non_numeric_gradient(optimizer_class, grads):
    optimizer = optimizer_class(lr=0.1)
    theta = np.zeros(3)
    with raises(TypeError, "grads must be a numeric array"):
        optimizer.step(theta, grads, optimizer.init(theta))


@pytest.mark.parametrize("optimizer_class", OPTIMIZER_CLASSES)
@pytest.mark.parametrize("bad", NON_FINITE)
def test_step_rejects_non_finite_gradient(optimizer_class, bad):
    optimizer = optimizer_class(lr=0.1)
    theta = np.zeros(3)
    message = f"grads must be finite, got {bad} at flat index 1 (1 "
    with raises(ValueError, message):
        optimizer.step(theta, [1.0, bad, 2.0], optimizer.init(theta))


def test_step_rejects_float32_overflow_gradient():
    # 1e39 is finite in float64 but becomes inf once cast to float32 params.
    optimizer = AdaGrad(lr=0.1)
    theta = np.zeros(2, dtype=np.float32)
    with raises(ValueError, "grads must be finite, got inf at flat index 0"):
        optimizer.step(theta, np.array([1e39, 0.0]), optimizer.init(theta))


@pytest.fixture(params=[SGD, AdaGrad, RMSprop], ids=lambda cls: cls.__name__)
def rejected_step(request):
    """Take one good step, then a step with a NaN gradient, which must raise."""
    optimizer = request.param(lr=0.1)
    theta = np.array([1.0, 2.0, 3.0])
    state = optimizer.init(theta)
    optimizer.step(theta, np.array([0.5, -0.5, 1.0]), state)
    before = {
        "params": theta.copy(),
        "accumulator": getattr(state, "accumulator", np.zeros(0)).copy(),
        "step": state.step,
    }
    with raises(ValueError, "grads must be finite"):
        optimizer.step(theta, np.array([1.0, math.nan, 1.0]), state)
    return theta, state, before


def test_rejected_step_keeps_params(rejected_step):
    theta, _, before = rejected_step
    np.testing.assert_array_equal(theta, before["params"])


def test_rejected_step_keeps_accumulator(rejected_step):
    _, state, before = rejected_step
    if not hasattr(state, "accumulator"):
        pytest.skip("SGD keeps no accumulator")
    np.testing.assert_array_equal(state.accumulator, before["accumulator"])


def test_rejected_step_keeps_step_count(rejected_step):
    _, state, before = rejected_step
    assert state.step == before["step"]


@pytest.mark.parametrize("optimizer_class", ADAPTIVE_CLASSES)
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            np.zeros(3),
            "state was allocated for shape (2,) and dtype float64, got "
            "params of shape (3,) and dtype float64; call init(params) again",
        ),
        (
            np.zeros((2, 1)),
            "state was allocated for shape (2,) and dtype float64, "
            "got params of shape (2, 1)",
        ),
        (
            np.zeros(2, dtype=np.float32),
            "state was allocated for shape (2,) and "
            "dtype float64, got params of shape (2,) and dtype float32",
        ),
    ],
)
def test_step_rejects_foreign_state(optimizer_class, params, message):
    optimizer = optimizer_class(lr=0.1)
    state = optimizer.init(np.zeros(2))
    with raises(ValueError, message):
        optimizer.step(params, np.ones(params.shape), state)


def test_sgd_step_rejects_foreign_state():
    optimizer = SGD(lr=0.1)
    state = optimizer.init(np.zeros(2))
    with raises(ValueError, "state was allocated for shape"):
        optimizer.step(np.zeros(3), np.ones(3), state)


# Effective-rate schedules.

SCHEDULE_FUNCTIONS = [
    adagrad_accumulator,
    rmsprop_accumulator,
    adagrad_effective_lr,
    rmsprop_effective_lr,
]


@pytest.mark.parametrize("function", SCHEDULE_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("grads", "shape"),
    [(np.zeros(0), "(0,)"), (np.zeros((0, 3)), "(0, 3)"), (np.float64(1.0), "()")],
)
def test_schedule_rejects_empty_history(function, grads, shape):
    message = f"grads must have shape (steps, ...) with steps >= 1, got {shape}"
    with raises(ValueError, message):
        function(grads)


@pytest.mark.parametrize("function", SCHEDULE_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("grads", NON_NUMERIC)
def test_schedule_rejects_non_numeric_history(function, grads):
    with raises(TypeError, "grads must be a numeric array"):
        function(grads)


@pytest.mark.parametrize("function", SCHEDULE_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", NON_FINITE)
def test_schedule_rejects_non_finite_history(function, bad):
    with raises(ValueError, f"grads must be finite, got {bad} at flat index 3"):
        function([[1.0, 2.0], [3.0, bad]])


@pytest.mark.parametrize(
    "function", [adagrad_effective_lr, rmsprop_effective_lr], ids=lambda f: f.__name__
)
@pytest.mark.parametrize(("lr", "error", "message"), BAD_POSITIVE)
def test_effective_lr_rejects_bad_lr(function, lr, error, message):
    with raises(error, "lr " + message):
        function([1.0], lr=lr)


@pytest.mark.parametrize(
    "function", [adagrad_effective_lr, rmsprop_effective_lr], ids=lambda f: f.__name__
)
@pytest.mark.parametrize(("eps", "error", "message"), BAD_NONNEGATIVE)
def test_effective_lr_rejects_bad_eps(function, eps, error, message):
    with raises(error, "eps " + message):
        function([1.0], eps=eps)


@pytest.mark.parametrize("function", SCHEDULE_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("start", "error", "message"), BAD_NONNEGATIVE)
def test_schedule_rejects_bad_initial_accumulator(function, start, error, message):
    with raises(error, "initial_accumulator " + message):
        function([1.0], initial_accumulator=start)


@pytest.mark.parametrize(
    "function", [adagrad_effective_lr, rmsprop_effective_lr], ids=lambda f: f.__name__
)
def test_effective_lr_rejects_bad_placement(function):
    with raises(
        ValueError, "eps_placement must be one of 'inside', 'outside', got 'x'"
    ):
        function([1.0], eps_placement="x")


@pytest.mark.parametrize(
    "function", [rmsprop_accumulator, rmsprop_effective_lr], ids=lambda f: f.__name__
)
@pytest.mark.parametrize(("rho", "error", "message"), BAD_RHO)
def test_schedule_rejects_bad_rho(function, rho, error, message):
    with raises(error, message):
        function([1.0], rho=rho)


@pytest.mark.parametrize(
    ("steps", "max_points", "error", "message"),
    [
        (0, 10, ValueError, "steps must be >= 1, got 0"),
        (-5, 10, ValueError, "steps must be >= 1, got -5"),
        (10.0, 10, TypeError, "steps must be an integer, got 10.0"),
        (True, 10, TypeError, "steps must be an integer, got True"),
        (10, 1, ValueError, "max_points must be >= 2, got 1"),
        (10, 0, ValueError, "max_points must be >= 1, got 0"),
        (10, "5", TypeError, "max_points must be an integer, got '5'"),
    ],
)
def test_log_spaced_indices_rejects_bad_input(steps, max_points, error, message):
    with raises(error, message):
        log_spaced_indices(steps, max_points)


@pytest.mark.parametrize(
    ("noise", "scales", "error", "message"),
    [
        (
            np.ones(5),
            [1.0],
            ValueError,
            "noise must have shape (steps, curves), got (5,)",
        ),
        (
            np.ones((5, 2, 1)),
            [1.0, 1.0],
            ValueError,
            "noise must have shape (steps, curves), got (5, 2, 1)",
        ),
        (
            np.ones((5, 2)),
            [1.0],
            ValueError,
            "relative_scales must have shape (2,), got (1,)",
        ),
        (np.ones((5, 2)), [1.0, 0.0], ValueError, "relative_scales must be positive"),
        (np.ones((5, 2)), [1.0, -2.0], ValueError, "relative_scales must be positive"),
        (
            np.ones((5, 2)),
            [1.0, math.nan],
            ValueError,
            "relative_scales must be positive",
        ),
        (
            np.ones((5, 2)),
            ["a", "b"],
            TypeError,
            "relative_scales must be a numeric array",
        ),
        (np.full((5, 2), math.nan), [1.0, 1.0], ValueError, "grads must be finite"),
    ],
)
def test_curve_set_rejects_bad_input(noise, scales, error, message):
    with raises(error, message):
        CurveSet(noise, scales)


@pytest.mark.parametrize(
    ("method", "kwargs", "error", "message"),
    [
        ("adagrad", {"scale": 0.0, "lr": 0.1}, ValueError, "scale must be positive"),
        ("adagrad", {"scale": 1.0, "lr": -0.1}, ValueError, "lr must be positive"),
        ("adagrad", {"scale": 1.0, "lr": 0.1, "eps": -1.0}, ValueError, "eps must be"),
        (
            "adagrad",
            {"scale": 1.0, "lr": 0.1, "eps_placement": "x"},
            ValueError,
            "eps_placement must be one of",
        ),
        (
            "rmsprop",
            {"scale": 1.0, "lr": 0.1, "rho": 1.0},
            ValueError,
            "rho must lie in [0, 1), got 1.0",
        ),
        (
            "rmsprop",
            {"scale": math.inf, "lr": 0.1, "rho": 0.9},
            ValueError,
            "scale must be positive and finite, got inf",
        ),
    ],
)
def test_curve_set_method_rejects_bad_input(method, kwargs, error, message):
    curves = CurveSet(np.ones((5, 2)), [1.0, 2.0])
    with raises(error, message):
        getattr(curves, method)(**kwargs)


# Objectives.


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"curvatures": []},
            ValueError,
            "curvatures must be a non-empty 1-D array, got shape (0,)",
        ),
        (
            {"curvatures": [[1.0, 2.0]]},
            ValueError,
            "curvatures must be a non-empty 1-D array, got shape (1, 2)",
        ),
        (
            {"curvatures": [1.0, 0.0]},
            ValueError,
            "curvatures must be positive and finite",
        ),
        (
            {"curvatures": [1.0, -1.0]},
            ValueError,
            "curvatures must be positive and finite",
        ),
        ({"curvatures": [1.0, math.nan]}, ValueError, "curvatures must be positive"),
        ({"curvatures": ["a"]}, TypeError, "curvatures must be a numeric array"),
        (
            {"curvatures": [1.0, 2.0], "center": [0.0]},
            ValueError,
            "center must have shape (2,), got (1,)",
        ),
        (
            {"curvatures": [1.0, 2.0], "center": [0.0, math.inf]},
            ValueError,
            "center must be finite, got inf at flat index 1",
        ),
        (
            {"curvatures": [1.0, 2.0], "center": ["a", "b"]},
            TypeError,
            "center must be a numeric array",
        ),
    ],
)
def test_quadratic_rejects_bad_input(kwargs, error, message):
    with raises(error, message):
        Quadratic(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"a": math.nan}, ValueError, "a must be finite, got nan"),
        ({"a": "1"}, TypeError, "a must be a real number, got '1'"),
        ({"b": 0.0}, ValueError, "b must be positive and finite, got 0.0"),
        ({"b": -100.0}, ValueError, "b must be positive and finite, got -100.0"),
    ],
)
def test_rosenbrock_rejects_bad_input(kwargs, error, message):
    with raises(error, message):
        Rosenbrock(**kwargs)


@pytest.mark.parametrize(
    ("features", "labels", "l2", "error", "message"),
    [
        (
            [1.0, 2.0],
            [0, 1],
            0.0,
            ValueError,
            "features must have shape (n, d), got (2,)",
        ),
        (
            [[1.0], [2.0]],
            [0, 1, 1],
            0.0,
            ValueError,
            "labels must have shape (2,), got (3,)",
        ),
        (
            [[1.0], [2.0]],
            [0, 2],
            0.0,
            ValueError,
            "labels must be 0 or 1, got 2.0 at index 1",
        ),
        (
            [[1.0], [2.0]],
            [math.nan, 1],
            0.0,
            ValueError,
            "labels must be 0 or 1, got nan at index 0",
        ),
        (
            [[1.0], [math.nan]],
            [0, 1],
            0.0,
            ValueError,
            "features must be finite, got nan at flat index 1",
        ),
        ([["a"], ["b"]], [0, 1], 0.0, TypeError, "features must be a numeric array"),
        (
            [[1.0], [2.0]],
            [0, 1],
            -0.1,
            ValueError,
            "l2 must be finite and >= 0, got -0.1",
        ),
    ],
)
def test_logistic_regression_rejects_bad_input(features, labels, l2, error, message):
    with raises(error, message):
        LogisticRegression(features, labels, l2=l2)


OBJECTIVES = [
    pytest.param(Quadratic([1.0, 2.0]), id="Quadratic"),
    pytest.param(Rosenbrock(), id="Rosenbrock"),
    pytest.param(LogisticRegression([[1.0], [2.0]], [0, 1]), id="LogisticRegression"),
]


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("method", ["value", "grad"])
@pytest.mark.parametrize(
    "theta", [np.zeros(3), np.zeros((2, 1)), np.zeros(1)], ids=["3", "2x1", "1"]
)
def test_objective_rejects_theta_shape(objective, method, theta):
    message = f"theta must have shape (2,), got {theta.shape}"
    with raises(ValueError, message):
        getattr(objective, method)(theta)


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("method", ["value", "grad"])
def test_objective_rejects_string_theta(objective, method):
    with raises(TypeError, "theta must be a numeric array"):
        getattr(objective, method)(["1", "2"])


# run and Trajectory.


class NaNAfter(Objective):
    """A one-dimensional objective whose gradient is NaN from call ``calls`` on."""

    dim = 1

    def __init__(self, calls: int) -> None:
        self.calls = calls

    def value(self, theta):
        return 0.0

    def grad(self, theta):
        self.calls -= 1
        return np.array([math.nan if self.calls <= 0 else 1.0])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": 0}, ValueError, "steps must be >= 1, got 0"),
        ({"steps": 2.5}, TypeError, "steps must be an integer, got 2.5"),
        (
            {"steps": 3, "dtype": np.float16},
            TypeError,
            "dtype must be numpy.float32 or numpy.float64",
        ),
        (
            {"steps": 3, "dtype": int},
            TypeError,
            "dtype must be numpy.float32 or numpy.float64",
        ),
        (
            {"steps": 3, "theta0": [1.0]},
            ValueError,
            "theta0 must have shape (2,), got (1,)",
        ),
        (
            {"steps": 3, "theta0": [1.0, math.nan]},
            ValueError,
            "theta0 must be finite, got nan at flat index 1",
        ),
        ({"steps": 3, "theta0": "ab"}, TypeError, "theta0 must be a numeric array"),
    ],
)
def test_run_rejects_bad_input(kwargs, error, message):
    arguments = {"theta0": [1.0, 1.0]} | kwargs
    with raises(error, message):
        run(SGD(0.1), Quadratic([1.0, 2.0]), **arguments)


def test_run_names_failing_step():
    with raises(ValueError, "step 3 failed: grads must be finite, got nan"):
        run(AdaGrad(0.1), NaNAfter(calls=3), [0.0], steps=5)


def test_distance_to_rejects_shape():
    trajectory = run(SGD(0.1), Quadratic([1.0, 2.0]), [1.0, 1.0], steps=2)
    with raises(ValueError, "point must have shape (2,), got (3,)"):
        trajectory.distance_to([0.0, 0.0, 0.0])


# Plotting and widgets.


@pytest.mark.parametrize(
    ("index", "error", "message"),
    [
        (-1, ValueError, "index must be >= 0, got -1"),
        (1.0, TypeError, "index must be an integer, got 1.0"),
        ("0", TypeError, "index must be an integer, got '0'"),
        (True, TypeError, "index must be an integer, got True"),
    ],
)
def test_series_style_rejects_bad_index(index, error, message):
    with raises(error, message):
        series_style(index)


def test_series_style_rejects_zero_points():
    with raises(ValueError, "points must be >= 1, got 0"):
        series_style(0, points=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"algorithm": "adam"},
            ValueError,
            "algorithm must be one of 'adagrad', 'rmsprop', 'both', got 'adam'",
        ),
        ({"steps": 0}, ValueError, "steps must be >= 1, got 0"),
        ({"eps": -1.0}, ValueError, "eps must be finite and >= 0, got -1.0"),
        ({"max_points": 1}, ValueError, "max_points must be >= 2, got 1"),
    ],
)
def test_panel_rejects_bad_input(kwargs, error, message):
    with raises(error, message):
        EffectiveLRPanel(**({"steps": 50} | kwargs))


# The shared checks themselves.


def test_numeric_array_does_not_copy():
    array = np.arange(3.0)
    assert check.numeric_array("x", array) is array


def test_all_finite_accepts_empty_array():
    assert check.all_finite("x", np.zeros(0)) is None


def test_all_finite_counts_bad_values():
    array = np.array([[0.0, math.inf], [math.nan, 1.0]])
    with raises(
        ValueError, "x must be finite, got inf at flat index 1 (2 non-finite values)"
    ):
        check.all_finite("x", array)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "fortran", "strided"])
def test_all_finite_accepts_huge_values(dtype, layout):
    # Squaring these values would overflow, although each one is finite.
    array = np.full((4, 6), np.finfo(dtype).max / 2, dtype=dtype)
    array = {
        "contiguous": array,
        "fortran": np.asfortranarray(array),
        "strided": array[:, ::2],
    }[layout]
    assert check.all_finite("x", array) is None


@pytest.mark.parametrize("layout", ["contiguous", "fortran", "strided"])
@pytest.mark.parametrize("bad", NON_FINITE)
def test_all_finite_any_layout(layout, bad):
    array = np.ones((4, 6))
    array[2, 4] = bad
    array = {
        "contiguous": array,
        "fortran": np.asfortranarray(array),
        "strided": array[:, ::2],
    }[layout]
    with raises(ValueError, f"x must be finite, got {bad} at flat index"):
        check.all_finite("x", array)


def test_positive_int_accepts_numpy_integer():
    assert check.positive_int("steps", np.int64(4)) == 4


# Hyperparameters changed after construction.


@pytest.mark.parametrize("optimizer_class", [SGD, AdaGrad, RMSprop])
@pytest.mark.parametrize("lr", [0.0, -1.0, float("nan"), float("inf")])
def test_lr_reassignment_checked(optimizer_class, lr):
    optimizer = optimizer_class(lr=0.1)
    with pytest.raises(ValueError, match="lr must be positive and finite"):
        optimizer.lr = lr


def test_lr_reassignment_takes_effect():
    # A step of plain gradient descent moves by lr * g = 0.5 * 1.
    optimizer = SGD(lr=0.1)
    optimizer.lr = 0.5
    theta = np.zeros(1)
    optimizer.step(theta, np.ones(1), optimizer.init(theta))
    assert theta[0] == -0.5


@pytest.mark.parametrize(
    "optimizer, name, value",
    [
        (AdaGrad(lr=0.1), "eps", 0.0),
        (AdaGrad(lr=0.1), "initial_accumulator", 1.0),
        (RMSprop(lr=0.1), "rho", 1.0),
        (RMSprop(lr=0.1), "momentum", 0.9),
        (RMSprop(lr=0.1), "centered", True),
    ],
)
def test_fixed_hyperparameter_reassignment_rejected(optimizer, name, value):
    with pytest.raises(AttributeError, match=f"{name} is fixed"):
        setattr(optimizer, name, value)


@pytest.mark.parametrize(
    "optimizer, other",
    [(AdaGrad(lr=0.1), RMSprop(lr=0.1)), (RMSprop(lr=0.1), AdaGrad(lr=0.1))],
    ids=["adagrad", "rmsprop"],
)
def test_step_rejects_other_optimizers_state(optimizer, other):
    theta = np.zeros(2)
    with pytest.raises(TypeError, match="state must be the"):
        optimizer.step(theta, np.ones(2), other.init(theta))


@pytest.mark.parametrize("optimizer_class", [SGD, AdaGrad, RMSprop])
def test_init_rejects_nonfinite_params(optimizer_class):
    with pytest.raises(ValueError, match="params must be finite"):
        optimizer_class(lr=0.1).init(np.array([np.nan, 1.0]))
