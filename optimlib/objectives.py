"""The objectives the chapters minimize, each with its analytic gradient.

Every objective has ``value(theta)``, ``grad(theta)`` and ``dim``. Where the
minimizer is known in closed form, ``minimizer`` stores it and ``min_value`` the
loss there; otherwise both are None.
"""

from __future__ import annotations

import numpy as np

from optimlib import _validation as check


class Objective:
    """Base class: the checks every objective applies to ``theta``."""

    dim: int
    minimizer: np.ndarray | None = None
    min_value: float | None = None

    def _point(self, theta: object) -> np.ndarray:
        point = check.numeric_array("theta", theta)
        if point.shape != (self.dim,):
            raise ValueError(f"theta must have shape ({self.dim},), got {point.shape}")
        return np.asarray(point, dtype=np.result_type(point.dtype, np.float32))

    def value(self, theta: object) -> float:
        """Return the loss at ``theta``."""
        raise NotImplementedError

    def grad(self, theta: object) -> np.ndarray:
        """Return the gradient of the loss at ``theta``."""
        raise NotImplementedError


class Quadratic(Objective):
    r"""An axis-aligned quadratic bowl.

    .. math:: f(\theta) = \tfrac12 \sum_i a_i (\theta_i - c_i)^2,
              \qquad \nabla f(\theta)_i = a_i (\theta_i - c_i).

    The condition number is max(a) / min(a). Gradient descent with one rate
    eta converges only if eta < 2 / max(a), and then the flattest direction
    shrinks by a factor 1 - eta min(a) per step.

    Args:
        curvatures: the a_i, positive and finite.
        center: the minimizer c, zero by default.
    """

    def __init__(self, curvatures: object, center: object | None = None) -> None:
        self.curvatures = np.asarray(
            check.numeric_array("curvatures", curvatures), dtype=np.float64
        )
        if self.curvatures.ndim != 1 or self.curvatures.size == 0:
            raise ValueError(
                f"curvatures must be a non-empty 1-D array, got shape "
                f"{self.curvatures.shape}"
            )
        if not np.all(np.isfinite(self.curvatures) & (self.curvatures > 0)):
            raise ValueError(
                f"curvatures must be positive and finite, got {self.curvatures!r}"
            )
        self.dim = self.curvatures.size
        if center is None:
            center = np.zeros(self.dim)
        self.minimizer = np.asarray(check.numeric_array("center", center), float)
        if self.minimizer.shape != (self.dim,):
            raise ValueError(
                f"center must have shape ({self.dim},), got {self.minimizer.shape}"
            )
        check.all_finite("center", self.minimizer)
        self.min_value = 0.0

    def value(self, theta: object) -> float:
        offset = self._point(theta) - self.minimizer
        return float(0.5 * np.sum(self.curvatures * offset * offset))

    def grad(self, theta: object) -> np.ndarray:
        point = self._point(theta)
        return (self.curvatures * (point - self.minimizer)).astype(point.dtype)


class Rosenbrock(Objective):
    r"""Rosenbrock's banana-shaped valley in two dimensions.

    .. math:: f(x, y) = (a - x)^2 + b (y - x^2)^2,

    minimized at (a, a^2) with value 0. The valley floor is long and nearly
    flat, so a method whose steps shrink on their own crawls along it.

    Args:
        a: the minimizer's x coordinate.
        b: the steepness of the valley walls, positive.
    """

    dim = 2

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a = check.finite_real("a", a)
        self.b = check.positive_finite("b", b)
        self.minimizer = np.array([self.a, self.a * self.a])
        self.min_value = 0.0

    def value(self, theta: object) -> float:
        x, y = self._point(theta)
        return float((self.a - x) ** 2 + self.b * (y - x * x) ** 2)

    def grad(self, theta: object) -> np.ndarray:
        point = self._point(theta)
        x, y = point
        dx = -2.0 * (self.a - x) - 4.0 * self.b * x * (y - x * x)
        dy = 2.0 * self.b * (y - x * x)
        return np.array([dx, dy], dtype=point.dtype)


class LogisticRegression(Objective):
    r"""Mean binary cross-entropy of a linear classifier with a bias.

    For features X (n by d), labels y in {0, 1} and theta = (w, b),

    .. math:: f(\theta) = \frac1n \sum_k \big[\log(1 + e^{z_k}) - y_k z_k\big]
              + \tfrac{\lambda}{2} \lVert w \rVert^2, \qquad z = X w + b,

    with gradient X^T (sigma(z) - y) / n + lambda w for w and the mean of
    sigma(z) - y for b. The loss is convex but has no closed-form minimizer.

    Args:
        features: X, shape (n, d), finite.
        labels: y, shape (n,), zeros and ones.
        l2: the weight decay lambda, finite and >= 0.
    """

    def __init__(self, features: object, labels: object, l2: float = 0.0) -> None:
        self.features = np.asarray(check.numeric_array("features", features), float)
        self.labels = np.asarray(check.numeric_array("labels", labels), float)
        if self.features.ndim != 2:
            raise ValueError(
                f"features must have shape (n, d), got {self.features.shape}"
            )
        if self.labels.shape != (self.features.shape[0],):
            raise ValueError(
                f"labels must have shape ({self.features.shape[0]},), "
                f"got {self.labels.shape}"
            )
        check.all_finite("features", self.features)
        invalid = np.flatnonzero((self.labels != 0) & (self.labels != 1))
        if invalid.size:
            raise ValueError(
                f"labels must be 0 or 1, got {float(self.labels[invalid[0]])} at index "
                f"{invalid[0]}"
            )
        self.l2 = check.nonnegative_finite("l2", l2)
        self.dim = self.features.shape[1] + 1

    def logits(self, theta: object) -> np.ndarray:
        """Return z = X w + b for every example."""
        point = self._point(theta)
        return self.features @ point[:-1] + point[-1]

    def value(self, theta: object) -> float:
        point = self._point(theta)
        z = self.logits(point)
        losses = np.logaddexp(0.0, z) - self.labels * z
        penalty = 0.5 * self.l2 * float(point[:-1] @ point[:-1])
        return float(np.mean(losses)) + penalty

    def grad(self, theta: object) -> np.ndarray:
        point = self._point(theta)
        errors = _sigmoid(self.logits(point)) - self.labels
        grad = np.empty_like(point)
        grad[:-1] = self.features.T @ errors / errors.size + self.l2 * point[:-1]
        grad[-1] = np.mean(errors)
        return grad

    def accuracy(self, theta: object) -> float:
        """Return the fraction of examples whose predicted class is right."""
        predictions = self.logits(theta) > 0.0
        return float(np.mean(predictions == (self.labels == 1)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of a large positive z overflows. 1 / (1 + exp(-z)) for z >= 0 and
    # exp(z) / (1 + exp(z)) for z < 0 never do.
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    exp_z = np.exp(z[~positive])
    out[~positive] = exp_z / (1.0 + exp_z)
    return out


def breast_cancer(standardize: bool = False, l2: float = 0.0) -> LogisticRegression:
    """Return logistic regression on the Wisconsin diagnostic breast cancer data.

    The 569 examples and 30 features ship with scikit-learn
    (``sklearn.datasets.load_breast_cancer``), so no network is needed. The
    data are by Wolberg, Street and Mangasarian (UCI Machine Learning
    Repository, 1995, CC BY 4.0). Label 1 is benign. The raw features span
    five orders of magnitude (smoothness near 0.1, area near 1000), which is
    the setting where per-parameter learning rates matter.

    Args:
        standardize: scale every feature to zero mean and unit variance.
        l2: the weight decay lambda, finite and >= 0.

    Returns:
        A ``LogisticRegression`` with 31 parameters (30 weights, one bias).
    """
    if not isinstance(standardize, (bool, np.bool_)):
        raise TypeError(f"standardize must be True or False, got {standardize!r}")
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    features = np.asarray(data.data, dtype=np.float64)
    if standardize:
        features = (features - features.mean(axis=0)) / features.std(axis=0)
    return LogisticRegression(features, data.target, l2=l2)
