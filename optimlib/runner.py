"""Run an optimizer on an objective and keep the whole trajectory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimlib import _validation as check
from optimlib.objectives import Objective
from optimlib.optimizers import Optimizer


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Arrays recorded by ``run``, one row per step.

    Attributes:
        params: shape (steps + 1, dim); row 0 is the starting point.
        loss: shape (steps + 1,); the loss at each row of ``params``.
        grads: shape (steps, dim); row t is the gradient used by step t + 1.
        effective_lr: shape (steps, dim); row t is the per-parameter factor
            that multiplied ``grads[t]``.
    """

    params: np.ndarray
    loss: np.ndarray
    grads: np.ndarray
    effective_lr: np.ndarray

    def distance_to(self, point: object) -> np.ndarray:
        """Return the Euclidean distance from every row of ``params`` to ``point``."""
        target = check.numeric_array("point", point)
        if target.shape != self.params.shape[1:]:
            raise ValueError(
                f"point must have shape {self.params.shape[1:]}, got {target.shape}"
            )
        return np.linalg.norm(self.params - target, axis=1)


def run(
    optimizer: Optimizer,
    objective: Objective,
    theta0: object,
    steps: int,
    dtype: type = np.float64,
) -> Trajectory:
    """Minimize ``objective`` from ``theta0`` for ``steps`` full-gradient steps.

    Args:
        optimizer: an ``SGD``, ``AdaGrad`` or ``RMSprop`` instance.
        objective: anything with ``value``, ``grad`` and ``dim``.
        theta0: the starting point, shape (objective.dim,). It is copied.
        steps: the number of steps, >= 1.
        dtype: float32 or float64, the precision of parameters and state.

    Returns:
        The ``Trajectory`` of parameters, losses, gradients and effective
        learning rates.

    Raises:
        ValueError: if the gradient becomes NaN or infinite, naming the step.
    """
    steps = check.positive_int("steps", steps)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")
    start = check.numeric_array("theta0", theta0)
    if start.shape != (objective.dim,):
        raise ValueError(f"theta0 must have shape ({objective.dim},), got {start.shape}")
    theta = np.array(start, dtype=dtype)
    check.all_finite("theta0", theta)

    params = np.empty((steps + 1, objective.dim), dtype=dtype)
    loss = np.empty(steps + 1)
    grads = np.empty((steps, objective.dim), dtype=dtype)
    rates = np.empty((steps, objective.dim))
    params[0] = theta
    loss[0] = objective.value(theta)

    state = optimizer.init(theta)
    for t in range(steps):
        grad = np.asarray(objective.grad(theta))
        if grad.shape != theta.shape:
            raise ValueError(
                f"objective.grad returned shape {grad.shape} at step {t + 1}, "
                f"expected the parameters' shape {theta.shape}"
            )
        grads[t] = grad
        try:
            optimizer.step(theta, grads[t], state)
        except ValueError as error:
            raise ValueError(f"step {t + 1} failed: {error}") from error
        rates[t] = optimizer.effective_lr(state)
        params[t + 1] = theta
        loss[t + 1] = objective.value(theta)
    return Trajectory(params, loss, grads, rates)
