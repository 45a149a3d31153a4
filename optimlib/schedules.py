"""Effective learning rates computed from a whole gradient history at once.

An optimizer run produces the effective rate one step at a time. These
functions compute the same numbers for every step of a history of shape
``(steps, ...)`` with array operations: a cumulative sum for AdaGrad and a
first-order linear filter for RMSprop's moving average. They are what the
chapters' widgets call on every slider move.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from optimlib import _validation as check
from optimlib.optimizers import EPS_PLACEMENTS


def _history(grads: object) -> np.ndarray:
    history = check.numeric_array("grads", grads)
    if history.ndim < 1 or history.shape[0] == 0:
        raise ValueError(
            f"grads must have shape (steps, ...) with steps >= 1, got {history.shape}"
        )
    history = np.asarray(history, dtype=np.result_type(history.dtype, np.float32))
    check.all_finite("grads", history)
    return history


def _rate(
    accumulator: np.ndarray, lr: float, eps: float, eps_placement: str
) -> np.ndarray:
    check.one_of("eps_placement", eps_placement, EPS_PLACEMENTS)
    if eps_placement == "inside":
        denom = np.sqrt(accumulator + eps)
    else:
        denom = np.sqrt(accumulator) + eps
    with np.errstate(divide="ignore"):
        return lr / denom


def adagrad_accumulator(grads: object, initial_accumulator: float = 0.0) -> np.ndarray:
    """Return G_t = G_0 + sum of g_k^2 for k <= t, for every step t.

    Args:
        grads: gradient history of shape ``(steps, ...)``, row t the gradient
            of step t + 1.
        initial_accumulator: G_0, finite and >= 0.

    Returns:
        An array of the history's shape whose row t is G after step t + 1.
    """
    history = _history(grads)
    start = check.nonnegative_finite("initial_accumulator", initial_accumulator)
    return np.cumsum(history * history, axis=0) + start


def rmsprop_accumulator(
    grads: object, rho: float = 0.9, initial_accumulator: float = 0.0
) -> np.ndarray:
    """Return E[g^2]_t = rho E[g^2]_{t-1} + (1 - rho) g_t^2 for every step t.

    The recursion runs inside ``scipy.signal.lfilter``, in compiled code, so
    a history of 10^4 steps and 100 curves takes milliseconds.

    Args:
        grads: gradient history of shape ``(steps, ...)``.
        rho: the decay, in [0, 1).
        initial_accumulator: E[g^2]_0, finite and >= 0.

    Returns:
        An array of the history's shape whose row t is E[g^2] after step t + 1.
    """
    history = _history(grads)
    rho = check.unit_interval("rho", rho)
    start = check.nonnegative_finite("initial_accumulator", initial_accumulator)
    return _moving_average(history * history, rho, start)


def _moving_average(squares: np.ndarray, rho: float, start: float) -> np.ndarray:
    # lfilter's state zi is rho * E[g^2]_0 per column, so that the first output
    # is rho * E[g^2]_0 + (1 - rho) * g_1^2.
    initial = np.full((1,) + squares.shape[1:], rho * start, dtype=squares.dtype)
    averages, _ = lfilter([1.0 - rho], [1.0, -rho], squares, axis=0, zi=initial)
    return averages


def adagrad_effective_lr(
    grads: object,
    lr: float = 0.01,
    eps: float = 1e-8,
    *,
    eps_placement: str = "inside",
    initial_accumulator: float = 0.0,
) -> np.ndarray:
    """Return AdaGrad's effective rate lr / sqrt(G_t + eps) after every step.

    Args:
        grads: gradient history of shape ``(steps, ...)``.
        lr: the learning rate eta, positive and finite.
        eps: epsilon, finite and >= 0.
        eps_placement: ``"inside"`` or ``"outside"`` the square root.
        initial_accumulator: G_0, finite and >= 0.

    Returns:
        An array of the history's shape: row t is the factor that multiplies
        the gradient of step t + 1, as in ``AdaGrad.effective_lr``.

    Example:
        >>> adagrad_effective_lr([[2.0], [2.0]], lr=1.0, eps=0.0).ravel()
        array([0.5       , 0.35355339])
    """
    lr = check.positive_finite("lr", lr)
    eps = check.nonnegative_finite("eps", eps)
    accumulator = adagrad_accumulator(grads, initial_accumulator)
    return _rate(accumulator, lr, eps, eps_placement)


def rmsprop_effective_lr(
    grads: object,
    lr: float = 0.01,
    rho: float = 0.9,
    eps: float = 1e-8,
    *,
    eps_placement: str = "inside",
    initial_accumulator: float = 0.0,
) -> np.ndarray:
    """Return RMSprop's effective rate lr / sqrt(E[g^2]_t + eps) after every step.

    Args:
        grads: gradient history of shape ``(steps, ...)``.
        lr: the learning rate eta, positive and finite.
        rho: the decay, in [0, 1).
        eps: epsilon, finite and >= 0.
        eps_placement: ``"inside"`` or ``"outside"`` the square root.
        initial_accumulator: E[g^2]_0, finite and >= 0.

    Returns:
        An array of the history's shape, as in ``RMSprop.effective_lr``.
    """
    lr = check.positive_finite("lr", lr)
    eps = check.nonnegative_finite("eps", eps)
    accumulator = rmsprop_accumulator(grads, rho, initial_accumulator)
    return _rate(accumulator, lr, eps, eps_placement)


def log_spaced_indices(steps: int, max_points: int = 400) -> np.ndarray:
    """Return at most ``max_points`` sorted step indices, evenly spaced in log t.

    A curve of 10^4 steps drawn at every step costs hundreds of milliseconds
    to redraw. On a log-scale step axis these indices keep its shape.

    Args:
        steps: length of the history, >= 1.
        max_points: the maximum number of indices, >= 2.

    Returns:
        Unique integer indices in [0, steps), the first and last included.
    """
    steps = check.positive_int("steps", steps)
    max_points = check.positive_int("max_points", max_points)
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2, got {max_points}")
    if steps <= max_points:
        return np.arange(steps)
    positions = np.geomspace(1, steps, max_points)
    return np.unique(np.round(positions).astype(np.int64) - 1)


class CurveSet:
    """Effective-rate curves for a family of gradient scales, fast to redraw.

    A history ``scale * noise`` has G_t = scale^2 * cumsum(noise^2), and
    likewise a moving average scaled by scale^2. The set computes the sums of
    ``noise^2`` once. A change of scale, lr or eps is then one elementwise
    pass, and a change of rho one call to a compiled filter.

    Args:
        noise: base gradient history of shape ``(steps, curves)``. Column k
            is multiplied by the k-th entry of ``relative_scales``.
        relative_scales: one factor per curve, positive.
        max_points: at most this many points per curve are returned.
    """

    def __init__(
        self, noise: object, relative_scales: object, max_points: int = 400
    ) -> None:
        history = _history(noise)
        if history.ndim != 2:
            raise ValueError(
                f"noise must have shape (steps, curves), got {history.shape}"
            )
        scales = check.numeric_array("relative_scales", relative_scales)
        if scales.shape != (history.shape[1],):
            raise ValueError(
                f"relative_scales must have shape ({history.shape[1]},), "
                f"got {scales.shape}"
            )
        if not np.all(np.isfinite(scales) & (scales > 0)):
            raise ValueError(
                f"relative_scales must be positive and finite, got {scales!r}"
            )
        self.steps = history.shape[0]
        self.indices = log_spaced_indices(self.steps, max_points)
        self._squares = (history * scales) ** 2
        self._sums = np.cumsum(self._squares, axis=0)[self.indices]
        self._average_rho: float | None = None
        self._averages = np.empty(0)

    def adagrad(
        self, scale: float, lr: float, eps: float = 1e-8, eps_placement: str = "inside"
    ) -> np.ndarray:
        """Return AdaGrad's effective rates, shape ``(len(indices), curves)``."""
        scale = check.positive_finite("scale", scale)
        lr = check.positive_finite("lr", lr)
        eps = check.nonnegative_finite("eps", eps)
        return _rate(scale * scale * self._sums, lr, eps, eps_placement)

    def rmsprop(
        self,
        scale: float,
        lr: float,
        rho: float,
        eps: float = 1e-8,
        eps_placement: str = "inside",
    ) -> np.ndarray:
        """Return RMSprop's effective rates, shape ``(len(indices), curves)``."""
        scale = check.positive_finite("scale", scale)
        lr = check.positive_finite("lr", lr)
        rho = check.unit_interval("rho", rho)
        eps = check.nonnegative_finite("eps", eps)
        if rho != self._average_rho:
            self._averages = _moving_average(self._squares, rho, 0.0)[self.indices]
            self._average_rho = rho
        return _rate(scale * scale * self._averages, lr, eps, eps_placement)
