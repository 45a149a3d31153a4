"""In-place array steps shared by AdaGrad and RMSprop.

Every function writes into buffers it is given and allocates no array of the
parameters' size. The order of the floating-point operations follows the
libraries where they agree. The update is (lr * g) / denominator, as in
PyTorch, Keras 3 and TensorFlow 1. A moving average is
rho * average + (1 - rho) * x, as in optax and Keras 3. A fused kernel that
must match these steps to the last bit has to keep the same order.
"""

from __future__ import annotations

import numpy as np

EPS_PLACEMENTS = ("inside", "outside")


def denominator(
    accumulator: np.ndarray, eps: float, placement: str, out: np.ndarray
) -> np.ndarray:
    """Write sqrt(accumulator + eps) or sqrt(accumulator) + eps into ``out``.

    ``accumulator`` may be ``out`` itself.
    """
    if placement == "inside":
        np.add(accumulator, eps, out=out)
        np.sqrt(out, out=out)
    else:
        np.sqrt(accumulator, out=out)
        out += eps
    return out


def divide(
    numerator: np.ndarray,
    denominator: np.ndarray,
    out: np.ndarray,
    mask: np.ndarray | None,
) -> None:
    """Write numerator / denominator into ``out``, and 0 where the denominator is 0.

    A denominator is 0 only when eps is 0 and the accumulator is 0: every
    gradient so far, the current one included, was 0 or too small to square.
    The update is then 0, not 0 / 0. ``mask`` is a boolean buffer, and None
    when eps > 0 makes every denominator positive. The zeros of
    ``denominator`` are overwritten with ones.
    """
    if mask is None:
        np.divide(numerator, denominator, out=out)
        return
    # Dividing by 1 where the denominator is 0 and writing 0 there afterwards
    # needs no cast of the boolean mask, so no ufunc buffer is allocated.
    np.equal(denominator, 0.0, out=mask)
    np.copyto(denominator, 1.0, where=mask)
    np.divide(numerator, denominator, out=out)
    np.copyto(out, 0.0, where=mask)


def lr_over(lr: float, denom: np.ndarray) -> np.ndarray:
    """Return lr / denom as a new array, inf where the denominator is 0."""
    with np.errstate(divide="ignore"):
        return lr / denom


def apply_weight_decay(
    params: np.ndarray,
    grads: np.ndarray,
    weight_decay: float,
    form: str,
    lr: float,
    work: np.ndarray,
) -> np.ndarray:
    """Apply weight decay and return the gradient the rest of the step uses.

    ``"l2"`` (PyTorch): the gradient becomes g + weight_decay * theta, written
    into ``work``, so the accumulator includes the decay term too.
    ``"decoupled"`` (Keras 3): theta -= (theta * weight_decay) * lr now,
    before the update, and the gradient is returned unchanged. This equals
    optax's ``add_decayed_weights`` placed between the scaling and
    ``scale_by_learning_rate``, up to rounding.
    """
    if weight_decay == 0.0:
        return grads
    np.multiply(params, weight_decay, out=work)
    if form == "l2":
        work += grads
        return work
    work *= lr
    params -= work
    return grads


def moving_average(
    average: np.ndarray,
    values: np.ndarray,
    rho: float,
    scratch: np.ndarray,
    square: bool = False,
) -> None:
    """Update ``average`` to rho * average + (1 - rho) * x in place.

    x is ``values``, or its square with ``square=True``.
    """
    if square:
        np.multiply(values, values, out=scratch)
        scratch *= 1.0 - rho
    else:
        np.multiply(values, 1.0 - rho, out=scratch)
    average *= rho
    average += scratch


def bias_correction(rho: float, step: int, dtype: np.dtype) -> np.floating:
    """Return 1 - rho^step in ``dtype``, the factor optax divides the averages by.

    optax rounds rho to the parameters' precision before the power, and so
    does this function.
    """
    scalar = np.dtype(dtype).type
    return scalar(1.0) - scalar(rho) ** step


def centered_variance(
    squares: np.ndarray,
    average: np.ndarray,
    correction: np.floating | None,
    out: np.ndarray,
    spare: np.ndarray | None,
) -> np.ndarray:
    """Write max(E[g^2] - E[g]^2, 0) into ``out``, bias-corrected if asked.

    Rounding can make E[g^2] - E[g]^2 slightly negative when the gradient
    barely varies, and its square root would be NaN. Clamping at 0 changes
    nothing where the difference is positive. With a ``correction`` both
    averages are divided by it first, which needs the ``spare`` buffer.
    """
    if correction is None:
        np.multiply(average, average, out=out)
        np.subtract(squares, out, out=out)
    else:
        np.divide(average, correction, out=spare)
        np.multiply(spare, spare, out=spare)
        np.divide(squares, correction, out=out)
        np.subtract(out, spare, out=out)
    np.maximum(out, 0.0, out=out)
    return out


def momentum_step(
    params: np.ndarray,
    update: np.ndarray,
    buffer: np.ndarray,
    momentum: float,
    nesterov: bool,
    lr: float | None,
    scratch: np.ndarray,
) -> None:
    """Fold ``update`` into the momentum buffer and move ``params``.

    buffer = momentum * buffer + update, then params -= lr * step, where step
    is the buffer, or update + momentum * buffer with Nesterov momentum.
    ``lr`` is None when ``update`` already carries the learning rate (Keras
    form), and the rate of the step otherwise (PyTorch form).
    """
    buffer *= momentum
    buffer += update
    step = buffer
    if nesterov:
        np.multiply(buffer, momentum, out=scratch)
        scratch += update
        step = scratch
    if lr is None:
        params -= step
    else:
        np.multiply(step, lr, out=scratch)
        params -= scratch
