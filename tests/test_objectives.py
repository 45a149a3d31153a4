"""Unit tests of the objectives: values at known points, gradients checked."""

import math

import numpy as np
import pytest

from optimlib import LogisticRegression, Quadratic, Rosenbrock, breast_cancer

# Three examples, two features. At theta = 0 every sigma(z) is 1/2.
FEATURES = [[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]
LABELS = [1, 0, 1]


def central_difference(function, theta, h=1e-6):
    """Return the gradient of ``function`` at ``theta`` by central differences."""
    theta = np.asarray(theta, dtype=np.float64)
    gradient = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = h
        gradient[i] = (function(theta + step) - function(theta - step)) / (2 * h)
    return gradient


def random_logistic(l2):
    rng = np.random.default_rng(6)
    features = rng.standard_normal((40, 4)) * [1.0, 10.0, 0.1, 3.0]
    labels = rng.integers(0, 2, 40)
    return LogisticRegression(features, labels, l2=l2)


GRADIENT_CASES = [
    pytest.param(
        Quadratic([1.0, 4.0, 0.01], center=[1.0, -1.0, 2.0]), 1.0, id="Quadratic"
    ),
    pytest.param(Rosenbrock(), 1.5, id="Rosenbrock"),
    pytest.param(Rosenbrock(a=2.0, b=10.0), 2.0, id="Rosenbrock-a2-b10"),
    pytest.param(random_logistic(0.0), 0.5, id="LogisticRegression"),
    pytest.param(random_logistic(0.3), 0.5, id="LogisticRegression-l2"),
]


@pytest.mark.parametrize(("objective", "spread"), GRADIENT_CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grad_matches_finite_differences(objective, spread, seed):
    theta = np.random.default_rng(seed).normal(scale=spread, size=objective.dim)
    expected = central_difference(objective.value, theta)
    np.testing.assert_allclose(objective.grad(theta), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "objective",
    [
        pytest.param(Quadratic([1.0, 4.0], center=[1.0, -1.0]), id="Quadratic"),
        pytest.param(Rosenbrock(), id="Rosenbrock"),
        pytest.param(Rosenbrock(a=2.0, b=10.0), id="Rosenbrock-a2-b10"),
    ],
)
def test_grad_zero_at_minimizer(objective):
    np.testing.assert_array_equal(objective.grad(objective.minimizer), [0.0, 0.0])


@pytest.mark.parametrize(
    "objective",
    [
        pytest.param(Quadratic([1.0, 4.0], center=[1.0, -1.0]), id="Quadratic"),
        pytest.param(Rosenbrock(), id="Rosenbrock"),
        pytest.param(Rosenbrock(a=2.0, b=10.0), id="Rosenbrock-a2-b10"),
    ],
)
def test_value_at_minimizer_is_min(objective):
    assert objective.value(objective.minimizer) == objective.min_value


def test_quadratic_value_by_hand():
    # 0.5 * (1 * (3 - 1)^2 + 4 * (0 + 1)^2) = 0.5 * (4 + 4) = 4
    objective = Quadratic([1.0, 4.0], center=[1.0, -1.0])
    assert objective.value([3.0, 0.0]) == 4.0


def test_quadratic_grad_by_hand():
    # [1 * (3 - 1), 4 * (0 + 1)] = [2, 4]
    objective = Quadratic([1.0, 4.0], center=[1.0, -1.0])
    np.testing.assert_array_equal(objective.grad([3.0, 0.0]), [2.0, 4.0])


def test_quadratic_default_center_is_origin():
    np.testing.assert_array_equal(Quadratic([2.0, 3.0]).minimizer, [0.0, 0.0])


def test_rosenbrock_minimizer_is_a_a_squared():
    np.testing.assert_array_equal(Rosenbrock(a=-1.5).minimizer, [-1.5, 2.25])


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        # (1 - x)^2 + 100 (y - x^2)^2
        ((1.0, 1.0), 0.0),
        ((0.0, 0.0), 1.0),  # 1 + 0
        ((-1.0, 1.0), 4.0),  # 2^2 + 100 * 0
        ((0.0, 1.0), 101.0),  # 1 + 100 * 1
        ((1.0, 0.0), 100.0),  # 0 + 100 * 1
        ((2.0, 1.0), 901.0),  # 1 + 100 * 3^2
    ],
)
def test_rosenbrock_value_known_points(point, expected):
    assert Rosenbrock().value(point) == expected


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        # df/dx = -2 (1 - x) - 400 x (y - x^2), df/dy = 200 (y - x^2)
        ((0.0, 0.0), (-2.0, 0.0)),
        ((1.0, 0.0), (400.0, -200.0)),  # 0 - 400 * (0 - 1), 200 * (0 - 1)
        ((-1.0, 1.0), (-4.0, 0.0)),  # -2 * 2 - 0, 0
        ((0.0, 1.0), (-2.0, 200.0)),
    ],
)
def test_rosenbrock_grad_known_points(point, expected):
    np.testing.assert_array_equal(Rosenbrock().grad(point), expected)


@pytest.mark.parametrize(
    "objective",
    [
        pytest.param(LogisticRegression(FEATURES, LABELS), id="hand-data"),
        pytest.param(LogisticRegression(FEATURES, LABELS, l2=5.0), id="hand-data-l2"),
        pytest.param(random_logistic(0.0), id="random-data"),
    ],
)
def test_logistic_loss_at_zero_is_log2(objective):
    # z = 0 for every example: log(1 + e^0) - y * 0 = log 2, and w = 0 has no penalty.
    assert objective.value(np.zeros(objective.dim)) == pytest.approx(
        math.log(2.0), rel=1e-15
    )


def test_logistic_grad_at_zero_by_hand():
    # sigma(0) - y = [-1/2, 1/2, -1/2].
    # w: X^T e / 3 = [-1/2 + 0 - 1/2, 0 + 1 - 1/2] / 3 = [-1/3, 1/6]
    # b: mean(e) = -1/6
    objective = LogisticRegression(FEATURES, LABELS)
    np.testing.assert_allclose(
        objective.grad(np.zeros(3)), [-1 / 3, 1 / 6, -1 / 6], rtol=1e-15
    )


def test_logistic_loss_one_example():
    # z = b = log 3 with y = 1: log(1 + 3) - log 3 = log(4/3).
    objective = LogisticRegression([[0.0]], [1])
    assert objective.value([0.0, math.log(3.0)]) == pytest.approx(
        math.log(4 / 3), rel=1e-14
    )


def test_logistic_l2_penalty_by_hand():
    # x = 0 gives z = 0 and a loss of log 2; the penalty is 0.5 * 0.5 * 2^2 = 1.
    objective = LogisticRegression([[0.0]], [0], l2=0.5)
    assert objective.value([2.0, 0.0]) == pytest.approx(math.log(2.0) + 1.0, rel=1e-15)


def test_logistic_l2_grad_by_hand():
    # sigma(0) - 0 = 1/2 for both parts; the weight also gets l2 * w = 0.5 * 2.
    objective = LogisticRegression([[0.0]], [0], l2=0.5)
    np.testing.assert_allclose(objective.grad([2.0, 0.0]), [1.0, 0.5], rtol=1e-15)


def test_logistic_large_logits_value():
    # z = [1000, -1000] with y = [0, 1]: each loss is log(1 + e^1000) ~ 1000.
    objective = LogisticRegression([[1000.0], [-1000.0]], [0, 1])
    assert objective.value([1.0, 0.0]) == pytest.approx(1000.0, rel=1e-15)


def test_logistic_large_logits_grad():
    # sigma(z) - y = [1, -1]: w gets (1000 * 1 + (-1000) * (-1)) / 2 = 1000, b gets 0.
    objective = LogisticRegression([[1000.0], [-1000.0]], [0, 1])
    np.testing.assert_allclose(objective.grad([1.0, 0.0]), [1000.0, 0.0], atol=1e-12)


@pytest.mark.parametrize(
    ("theta", "expected"),
    [
        ([0.0, 0.0, 1.0], 2 / 3),  # every z = 1 > 0: the two examples labelled 1
        ([0.0, 0.0, -1.0], 1 / 3),  # every z < 0: the one example labelled 0
        ([1.0, -1.0, 0.5], 1.0),  # z = [1.5, -1.5, 0.5]: classes [1, 0, 1]
        ([1.0, -1.0, 0.0], 2 / 3),  # z = [1, -2, 0]: z = 0 counts as class 0
    ],
)
def test_logistic_accuracy_by_hand(theta, expected):
    assert LogisticRegression(FEATURES, LABELS).accuracy(theta) == pytest.approx(
        expected
    )


@pytest.mark.parametrize(
    "objective",
    [
        pytest.param(Quadratic([1.0, 4.0]), id="Quadratic"),
        pytest.param(Rosenbrock(), id="Rosenbrock"),
        pytest.param(
            LogisticRegression([[1.0], [2.0]], [0, 1]), id="LogisticRegression"
        ),
    ],
)
def test_grad_keeps_float32(objective):
    assert objective.grad(np.array([0.5, -0.5], dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "objective",
    [
        pytest.param(Quadratic([1.0, 4.0]), id="Quadratic"),
        pytest.param(Rosenbrock(), id="Rosenbrock"),
        pytest.param(
            LogisticRegression([[1.0], [2.0]], [0, 1]), id="LogisticRegression"
        ),
    ],
)
def test_grad_accepts_integer_theta(objective):
    np.testing.assert_allclose(
        objective.grad([1, 2]), objective.grad([1.0, 2.0]), rtol=1e-15
    )


@pytest.fixture(scope="module")
def cancer():
    return breast_cancer()


def test_breast_cancer_has_31_parameters(cancer):
    assert cancer.dim == 31


def test_breast_cancer_has_569_examples(cancer):
    assert cancer.features.shape == (569, 30)


def test_breast_cancer_loss_at_zero(cancer):
    assert cancer.value(np.zeros(31)) == pytest.approx(math.log(2.0), rel=1e-15)


def test_breast_cancer_bias_grad_at_zero(cancer):
    # The bias gradient at 0 is mean(1/2 - y) = 1/2 - 357/569 (357 benign cases).
    assert cancer.grad(np.zeros(31))[-1] == pytest.approx(0.5 - 357 / 569, rel=1e-13)


def test_breast_cancer_standardized_features():
    features = breast_cancer(standardize=True).features
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(features.std(axis=0), 1.0, rtol=1e-12)
