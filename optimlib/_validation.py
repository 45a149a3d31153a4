"""Checks of hyperparameters and arrays, shared by every public function.

Each check raises TypeError for a value of the wrong kind and ValueError for a
value of the right kind that is out of range. Messages name the argument, show
the value and state what was expected.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def _as_real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def finite_real(name: str, value: object) -> float:
    """Return ``value`` as a float after checking that it is finite."""
    number = _as_real(name, value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def positive_finite(name: str, value: object) -> float:
    """Return ``value`` as a float after checking that it is positive and finite."""
    number = _as_real(name, value)
    if not math.isfinite(number) or number <= 0.0:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return number


def nonnegative_finite(name: str, value: object) -> float:
    """Return ``value`` as a float after checking that it is >= 0 and finite."""
    number = _as_real(name, value)
    if not math.isfinite(number) or number < 0.0:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return number


def unit_interval(name: str, value: object) -> float:
    """Return ``value`` as a float after checking that it lies in [0, 1)."""
    number = _as_real(name, value)
    if not 0.0 <= number < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return number


def positive_int(name: str, value: object) -> int:
    """Return ``value`` after checking that it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return int(value)


def one_of(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """Return ``value`` after checking that it is one of the ``allowed`` strings."""
    if value not in allowed:
        choices = ", ".join(repr(item) for item in allowed)
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return str(value)


def numeric_array(name: str, value: object) -> np.ndarray:
    """Return ``value`` as an ndarray of integers or floats, without copying."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric array, got {value!r}") from error
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a numeric array of integers or floats, "
            f"got dtype {array.dtype}"
        )
    return array


def float_params(name: str, value: object) -> np.ndarray:
    """Check that ``value`` is a writeable float32 or float64 ndarray.

    Optimizers update parameters in place, so a list, an integer array or a
    read-only view cannot hold the result.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array updated in place, got {type(value).__name__}"
        )
    if value.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must have dtype float32 or float64, got {value.dtype}")
    if not value.flags.writeable:
        raise ValueError(f"{name} must be writeable, got a read-only array")
    return value


def all_finite(name: str, array: np.ndarray) -> None:
    """Raise ValueError if ``array`` contains a NaN or an infinity.

    ``min`` and ``max`` propagate NaN and show infinities, so two read passes
    suffice and no temporary boolean array is allocated. A sum of squares
    would take one pass, but numpy computes it with BLAS, whose threads then
    compete for the cores with the fused kernel's.
    """
    if array.size == 0:
        return
    low = array.min()
    high = array.max()
    if not (math.isfinite(low) and math.isfinite(high)):
        bad = np.flatnonzero(~np.isfinite(array))
        raise ValueError(
            f"{name} must be finite, got {float(array.flat[bad[0]])} at flat index "
            f"{bad[0]} ({bad.size} non-finite value{'' if bad.size == 1 else 's'})"
        )


def matching_gradient(
    grads: object, params: np.ndarray, check_finite: bool = True
) -> np.ndarray:
    """Return ``grads`` as an array of the parameters' dtype after checking it.

    The gradient must be numeric, have the parameters' shape and be finite.
    A NaN or infinity would otherwise enter the accumulator and stay there.
    ``check_finite=False`` leaves the last check to the caller, as the fused
    kernel does in its own loop.
    """
    array = numeric_array("grads", grads)
    if array.shape != params.shape:
        raise ValueError(
            f"grads must have the parameters' shape {params.shape}, got {array.shape}"
        )
    if array.dtype != params.dtype:
        # A float64 gradient beyond float32's range becomes inf in the cast,
        # which all_finite reports, so numpy's overflow warning would only
        # repeat it.
        with np.errstate(over="ignore"):
            array = array.astype(params.dtype)
    if check_finite:
        all_finite("grads", array)
    return array
