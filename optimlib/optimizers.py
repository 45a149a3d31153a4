"""SGD, AdaGrad and RMSprop in NumPy, behind one API.

Every optimizer is an object that holds hyperparameters only. ``init(params)``
allocates its state, and ``step(params, grads, state)`` updates the parameters
and the state in place::

    opt = AdaGrad(lr=0.1)
    theta = np.array([1.0, -2.0])
    state = opt.init(theta)
    for _ in range(100):
        opt.step(theta, objective.grad(theta), state)

The state holds the step count and every buffer the update needs, so a step
allocates no array of the parameters' size. ``effective_lr(state)`` returns the
per-parameter factor that multiplied the last gradient.

The defaults follow the book: epsilon inside the square root, a zero starting
accumulator. PyTorch puts epsilon outside the root, optax and Keras inside, and
optax and Keras start AdaGrad's accumulator at 0.1; ``eps_placement`` and
``initial_accumulator`` select those conventions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimlib import _validation as check

EPS_PLACEMENTS = ("inside", "outside")


@dataclass(eq=False)
class SGDState:
    """State of plain gradient descent: the step count and the parameters' shape."""

    step: int
    shape: tuple[int, ...]


@dataclass(eq=False)
class AdaGradState:
    """State of AdaGrad.

    Attributes:
        step: number of steps taken.
        accumulator: G_t, the starting value plus the sum of squared gradients.
        scratch: a buffer of the parameters' shape reused by every step.
    """

    step: int
    accumulator: np.ndarray
    scratch: np.ndarray = field(repr=False)


@dataclass(eq=False)
class RMSpropState:
    """State of RMSprop.

    Attributes:
        step: number of steps taken.
        accumulator: E[g^2]_t, the exponential moving average of squared
            gradients.
        scratch: a buffer of the parameters' shape reused by every step.
    """

    step: int
    accumulator: np.ndarray
    scratch: np.ndarray = field(repr=False)


class Optimizer:
    """Base class: hyperparameters, state allocation and input checks."""

    lr: float

    def init(self, params: np.ndarray) -> object:
        """Allocate the optimizer's state for ``params``."""
        raise NotImplementedError

    def step(self, params: np.ndarray, grads: np.ndarray, state: object) -> None:
        """Update ``params`` and ``state`` in place from the gradient ``grads``."""
        raise NotImplementedError

    def effective_lr(self, state: object) -> np.ndarray:
        """Return the per-parameter factor that multiplied the last gradient."""
        raise NotImplementedError

    def _check_step(
        self, params: np.ndarray, grads: object, buffer: np.ndarray | None
    ) -> np.ndarray:
        check.float_params("params", params)
        if buffer is not None and (
            buffer.shape != params.shape or buffer.dtype != params.dtype
        ):
            raise ValueError(
                f"state was allocated for shape {buffer.shape} and dtype "
                f"{buffer.dtype}, got params of shape {params.shape} and dtype "
                f"{params.dtype}; call init(params) again"
            )
        return check.matching_gradient(grads, params)

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{type(self).__name__}({fields})"


def _divide_where_nonzero(grads: np.ndarray, denom: np.ndarray, eps: float) -> None:
    """Overwrite ``denom`` with ``grads / denom``, keeping 0 where it is 0.

    A denominator is 0 only when eps is 0 and the accumulator is 0, which means
    every gradient so far, the current one included, was 0. The update is then
    0, not 0 / 0.
    """
    if eps > 0.0:
        np.divide(grads, denom, out=denom)
    else:
        np.divide(grads, denom, out=denom, where=denom != 0.0)


def _denominator(
    accumulator: np.ndarray, eps: float, placement: str, out: np.ndarray
) -> np.ndarray:
    """Write sqrt(accumulator + eps) or sqrt(accumulator) + eps into ``out``."""
    if placement == "inside":
        np.add(accumulator, eps, out=out)
        np.sqrt(out, out=out)
    else:
        np.sqrt(accumulator, out=out)
        out += eps
    return out


def _effective_lr(lr: float, denom: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return lr / denom


class SGD(Optimizer):
    r"""Plain gradient descent with one global learning rate.

    Update rule: :math:`\theta_{t+1} = \theta_t - \eta g_t`.

    Args:
        lr: the learning rate :math:`\eta`, positive and finite.

    Example:
        >>> opt = SGD(lr=0.5)
        >>> theta = np.array([2.0])
        >>> state = opt.init(theta)
        >>> opt.step(theta, np.array([1.0]), state)
        >>> theta
        array([1.5])
    """

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = check.positive_finite("lr", lr)

    def init(self, params: np.ndarray) -> SGDState:
        check.float_params("params", params)
        return SGDState(0, params.shape)

    def step(self, params: np.ndarray, grads: np.ndarray, state: SGDState) -> None:
        grads = self._check_step(params, grads, None)
        params -= self.lr * grads
        state.step += 1

    def effective_lr(self, state: SGDState) -> np.ndarray:
        return np.full(state.shape, self.lr)


class AdaGrad(Optimizer):
    r"""AdaGrad: a per-parameter learning rate from the sum of squared gradients.

    Update rule, elementwise, with epsilon inside the root (the default)::

        G_t = G_{t-1} + g_t^2
        theta_{t+1} = theta_t - lr / sqrt(G_t + eps) * g_t

    With ``eps_placement="outside"`` the denominator is ``sqrt(G_t) + eps``, as
    in PyTorch and in Duchi, Hazan and Singer, "Adaptive Subgradient Methods
    for Online Learning and Stochastic Optimization", JMLR 12 (2011).

    Args:
        lr: the learning rate eta, positive and finite.
        eps: epsilon, finite and >= 0. With eps = 0 a zero gradient on a zero
            accumulator gives a zero update.
        eps_placement: ``"inside"`` or ``"outside"`` the square root.
        initial_accumulator: G_0, finite and >= 0. PyTorch starts at 0, optax
            and Keras at 0.1.

    Example:
        >>> opt = AdaGrad(lr=0.1, eps=0.0)
        >>> theta = np.array([1.0, 1.0])
        >>> state = opt.init(theta)
        >>> opt.step(theta, np.array([3.0, -0.01]), state)
        >>> theta   # the first step is lr * sign(g) when G_0 = 0 and eps = 0
        array([0.9, 1.1])
    """

    def __init__(
        self,
        lr: float = 0.01,
        eps: float = 1e-8,
        *,
        eps_placement: str = "inside",
        initial_accumulator: float = 0.0,
    ) -> None:
        self.lr = check.positive_finite("lr", lr)
        self.eps = check.nonnegative_finite("eps", eps)
        self.eps_placement = check.one_of(
            "eps_placement", eps_placement, EPS_PLACEMENTS
        )
        self.initial_accumulator = check.nonnegative_finite(
            "initial_accumulator", initial_accumulator
        )

    def init(self, params: np.ndarray) -> AdaGradState:
        check.float_params("params", params)
        accumulator = np.full_like(params, self.initial_accumulator)
        return AdaGradState(0, accumulator, np.empty_like(params))

    def step(
        self, params: np.ndarray, grads: np.ndarray, state: AdaGradState
    ) -> None:
        grads = self._check_step(params, grads, state.accumulator)
        scratch = state.scratch

        np.multiply(grads, grads, out=scratch)
        state.accumulator += scratch

        _denominator(state.accumulator, self.eps, self.eps_placement, out=scratch)
        _divide_where_nonzero(grads, scratch, self.eps)
        scratch *= self.lr
        params -= scratch
        state.step += 1

    def effective_lr(self, state: AdaGradState) -> np.ndarray:
        """Return lr / sqrt(G_t + eps), or lr / (sqrt(G_t) + eps), per parameter.

        Where the denominator is 0 (eps = 0 and no gradient yet) the value is
        inf, although the update there is 0.
        """
        denom = _denominator(
            state.accumulator,
            self.eps,
            self.eps_placement,
            out=np.empty_like(state.accumulator),
        )
        return _effective_lr(self.lr, denom)


class RMSprop(Optimizer):
    r"""RMSprop: a per-parameter learning rate from a moving average of g^2.

    Update rule, elementwise, with epsilon inside the root (the default)::

        E[g^2]_t = rho * E[g^2]_{t-1} + (1 - rho) * g_t^2
        theta_{t+1} = theta_t - lr / sqrt(E[g^2]_t + eps) * g_t

    This is the rule of Hinton's Coursera lecture 6e (2012), which had no
    epsilon. PyTorch calls rho ``alpha`` (default 0.99) and puts epsilon
    outside the root; optax calls it ``decay`` and Keras ``rho`` (default 0.9
    in both), with epsilon inside.

    Args:
        lr: the learning rate eta, positive and finite.
        rho: the decay of the moving average, in [0, 1).
        eps: epsilon, finite and >= 0.
        eps_placement: ``"inside"`` or ``"outside"`` the square root.
        initial_accumulator: E[g^2]_0, finite and >= 0. TensorFlow 1 starts at 1.

    Example:
        >>> opt = RMSprop(lr=0.01, rho=0.99, eps=0.0)
        >>> theta = np.array([0.0])
        >>> state = opt.init(theta)
        >>> opt.step(theta, np.array([5.0]), state)
        >>> round(float(theta[0]), 6)   # -lr / sqrt(1 - rho) on the first step
        -0.1
    """

    def __init__(
        self,
        lr: float = 0.01,
        rho: float = 0.9,
        eps: float = 1e-8,
        *,
        eps_placement: str = "inside",
        initial_accumulator: float = 0.0,
    ) -> None:
        self.lr = check.positive_finite("lr", lr)
        self.rho = check.unit_interval("rho", rho)
        self.eps = check.nonnegative_finite("eps", eps)
        self.eps_placement = check.one_of(
            "eps_placement", eps_placement, EPS_PLACEMENTS
        )
        self.initial_accumulator = check.nonnegative_finite(
            "initial_accumulator", initial_accumulator
        )

    def init(self, params: np.ndarray) -> RMSpropState:
        check.float_params("params", params)
        accumulator = np.full_like(params, self.initial_accumulator)
        return RMSpropState(0, accumulator, np.empty_like(params))

    def step(
        self, params: np.ndarray, grads: np.ndarray, state: RMSpropState
    ) -> None:
        grads = self._check_step(params, grads, state.accumulator)
        scratch = state.scratch

        np.multiply(grads, grads, out=scratch)
        scratch *= 1.0 - self.rho
        state.accumulator *= self.rho
        state.accumulator += scratch

        _denominator(state.accumulator, self.eps, self.eps_placement, out=scratch)
        _divide_where_nonzero(grads, scratch, self.eps)
        scratch *= self.lr
        params -= scratch
        state.step += 1

    def effective_lr(self, state: RMSpropState) -> np.ndarray:
        """Return lr / sqrt(E[g^2]_t + eps), or with eps outside, per parameter."""
        denom = _denominator(
            state.accumulator,
            self.eps,
            self.eps_placement,
            out=np.empty_like(state.accumulator),
        )
        return _effective_lr(self.lr, denom)
