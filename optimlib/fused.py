"""AdaGrad and RMSprop steps fused into one compiled loop (optional, needs numba).

The NumPy step in ``optimlib.optimizers`` is the reference: it is written to
be read, one array operation per line of the update rule. Each operation is a
separate pass over the arrays, about nine per step counting the check of the
gradient, and with large arrays every pass goes to main memory. The kernel
here computes the same numbers in a loop compiled by numba, which reads the
gradient twice and params and the accumulator once, and writes params and
the accumulator once.

``optimlib.AdaGrad`` and ``optimlib.RMSprop`` run it through their
``backend`` argument: ``"auto"`` (the default) on large parameters when numba
is installed, ``"fused"`` always. ``FusedAdaGrad`` and ``FusedRMSprop`` are
the two classes with ``backend="fused"``::

    from optimlib.fused import FusedAdaGrad

    opt = FusedAdaGrad(lr=0.1)          # the arguments of optimlib.AdaGrad
    state = opt.init(theta)             # the same state as AdaGrad's
    opt.step(theta, grads, state)

Both backends validate arguments in the same way and use the same state, so
a run can switch between them. The kernel performs the reference's
operations in the same order and in the parameters' dtype, without
fast-math, so its results equal those of the NumPy step.
``tests/test_fused.py`` compares the two over hundreds of steps in float32
and float64.

Non-finite gradients. The NumPy step checks the gradient before it changes
anything, so an error leaves params and state as they were. The kernel keeps
that contract with two loops: the first only reads the gradient and checks
for NaN and infinity, and the second, run only when every value is finite,
updates. A check inside the update loop would save that read (one array pass
in six), but a NaN at index k would leave the elements before k updated and
the rest not. Undoing those updates cannot restore the old values exactly
after rounding, and keeping a copy to restore from costs more than the read.

numba is imported when an optimizer with ``backend="fused"`` is created or
when ``backend="auto"`` first meets large parameters, so ``import optimlib``
and ``import optimlib.fused`` work without it.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from types import ModuleType

import numpy as np

from optimlib import _validation as check
from optimlib.optimizers import (
    KERNEL_ARRAY_TYPES,
    AdaGrad,
    AdaGradState,
    RMSprop,
    RMSpropState,
)

# Steps on arrays of at least this many bytes run the parallel kernel, when
# numba has more than one thread. On 2 cores (the machine in benchmarks.md)
# two threads were faster from 2^16 float32 or 2^15 float64 elements up and
# slower below, where starting the threads costs more than they save.
PARALLEL_MIN_BYTES = 1 << 18

# GNU OpenMP, numba's threading layer on Linux unless TBB is installed, aborts
# a process forked after its parent ran a parallel loop as soon as the child
# starts one. Such a child, and its own children, run the serial kernel.
_parallel_ran = False
_parallel_unsafe = False


def _after_fork_in_child() -> None:
    global _parallel_unsafe
    _parallel_unsafe = _parallel_unsafe or _parallel_ran


os.register_at_fork(after_in_child=_after_fork_in_child)

# Elements per block of the kernel's loops. Each block is one task of the
# parallel kernel and runs as a plain loop that the compiler vectorises.
_BLOCK = 1 << 14


def _make_kernel(eps_inside: bool, eps_zero: bool, prange: Callable) -> Callable:
    """Return the step kernel, as plain Python, for one combination of flags.

    The flags are constants of the closure, so numba compiles each
    combination on its own and drops the branches that do not apply. A test
    for eps == 0 left inside the loop made float32 steps of 10^7 elements
    about 20% slower, although it is never true when eps > 0 (measured with
    numba 0.68.1 on the machine that benchmarks.md describes).

    ``prange`` is ``numba.prange`` for the parallel kernel, which spreads the
    blocks over numba's threads, and ``range`` for the serial one. Every
    element is computed by the same operations either way, so the two
    kernels return the same bits.
    """

    def step_kernel(params, grads, accumulator, lr, decay, scale, eps, largest):
        # Apply one step in place, or return False at once if grads contains
        # a NaN or an infinity. The accumulator follows
        # G = decay * G + scale * g^2: RMSprop's moving average with decay rho
        # and scale 1 - rho, and AdaGrad's sum with decay and scale 1, since
        # multiplying by 1 is exact in floating point.
        size = grads.size
        blocks = (size + _BLOCK - 1) // _BLOCK

        # abs(g) <= largest is False for NaN and +-inf. A loop with no early
        # exit vectorises, so it costs less than one that stops at the first.
        # The count of non-finite blocks is a reduction that numba's parallel
        # loops support, and the update starts only after every block is read.
        # Each block loops over views: with index bounds computed per block
        # instead, numba 0.68.1 no longer vectorised the loops and a step
        # took 3.5 times as long.
        nonfinite_blocks = 0
        for block in prange(blocks):
            grads_block = grads[block * _BLOCK : (block + 1) * _BLOCK]
            finite = True
            for i in range(grads_block.size):
                finite &= abs(grads_block[i]) <= largest
            if not finite:
                nonfinite_blocks += 1
        if nonfinite_blocks > 0:
            return False

        # The operations of AdaGrad.step and RMSprop.step, in the same order
        # and dtype. A denominator is 0 only when eps is 0, and the NumPy
        # step's mask then makes the update (g * lr) * 0.
        for block in prange(blocks):
            start, stop = block * _BLOCK, (block + 1) * _BLOCK
            params_block = params[start:stop]
            grads_block = grads[start:stop]
            accumulator_block = accumulator[start:stop]
            for i in range(grads_block.size):
                g = grads_block[i]
                total = accumulator_block[i] * decay + (g * g) * scale
                accumulator_block[i] = total
                if eps_inside:
                    denom = math.sqrt(total + eps)
                else:
                    denom = math.sqrt(total) + eps
                update = (g * lr) / denom
                if eps_zero and denom == 0:
                    # +0 in g's dtype, as the NumPy step's mask writes. g is
                    # finite here, so g - g is +0 and not NaN.
                    update = g - g
                params_block[i] -= update
        return True

    return step_kernel


@functools.cache
def require_numba() -> ModuleType:
    """Import numba, or raise ImportError saying how to install it."""
    try:
        import numba
    except ImportError as error:
        raise ImportError(
            "the fused kernel needs numba, which is not installed. Install it "
            "with `pip install numba` (the book's requirements.txt pins it), or "
            "pass backend='numpy' or 'auto' to optimlib.AdaGrad and "
            "optimlib.RMSprop"
        ) from error
    return numba


@functools.cache
def _compiled_kernel(eps_inside: bool, eps_zero: bool, parallel: bool) -> Callable:
    """Return the kernel for these flags wrapped by numba's jit.

    numba compiles it on the first call for each dtype and caches the machine
    code in ``__pycache__``.
    """
    numba = require_numba()
    # error_model="numpy": a division by 0 gives inf or nan instead of raising
    # ZeroDivisionError, a branch that would stop the loops from vectorising.
    # No fastmath: it would let the compiler reorder and fuse the arithmetic
    # (the results would then differ from the NumPy step) and assume no NaN.
    # numba's cache distinguishes closures by the values they capture, not by
    # the jit options. Passing range, not numba.prange, to the serial kernel
    # keeps it from loading the parallel kernel's machine code, or the reverse.
    jit = numba.njit(cache=True, nogil=True, error_model="numpy", parallel=parallel)
    return jit(_make_kernel(eps_inside, eps_zero, numba.prange if parallel else range))


@functools.lru_cache(maxsize=64)
def _kernel_scalars(dtype: np.dtype, *values: float) -> tuple[np.floating, ...]:
    """Return ``values`` rounded to ``dtype``, then the largest finite value.

    NumPy rounds a Python float to the array's dtype before it multiplies or
    adds, so the kernel has to receive the same rounded numbers.
    """
    return (*(dtype.type(value) for value in values), np.finfo(dtype).max)


def _run_kernel(
    params: np.ndarray,
    grads: np.ndarray,
    accumulator: np.ndarray,
    *,
    lr: float,
    decay: float,
    scale: float,
    eps: float,
    eps_placement: str,
) -> None:
    """Run the kernel on 1-D views of the arrays. Raise if grads is not finite."""
    global _parallel_ran
    scalars = _kernel_scalars(params.dtype, lr, decay, scale, eps)
    eps_zero = bool(scalars[3] == 0)  # eps as rounded to the dtype
    parallel = (
        params.nbytes >= PARALLEL_MIN_BYTES
        and not _parallel_unsafe
        and require_numba().get_num_threads() > 1
    )
    _parallel_ran = _parallel_ran or parallel
    kernel = _compiled_kernel(eps_placement == "inside", eps_zero, parallel)
    arrays = (params, grads, accumulator)
    c_order = (
        params.flags.c_contiguous
        and grads.flags.c_contiguous
        and accumulator.flags.c_contiguous
    )
    if c_order and params.ndim == 1:
        finite = kernel(params, grads, accumulator, *scalars)
    elif c_order:
        finite = kernel(*[a.reshape(-1) for a in arrays], *scalars)
    elif all(a.flags.f_contiguous for a in arrays):
        finite = kernel(*[a.reshape(-1, order="F") for a in arrays], *scalars)
    else:
        # Strided or mixed layouts: update contiguous copies, then copy back.
        copies = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
        finite = kernel(*copies, *scalars)
        if finite:
            params[...] = copies[0].reshape(params.shape)
            accumulator[...] = copies[2].reshape(accumulator.shape)

    if not finite:
        # The kernel wrote nothing. all_finite raises with the message of the
        # NumPy step, which names the first non-finite value.
        check.all_finite("grads", grads)
        raise ValueError("grads must be finite")


def kernel_step(
    optimizer: AdaGrad | RMSprop,
    params: np.ndarray,
    grads: object,
    state: AdaGradState | RMSpropState,
) -> None:
    """Take one step of ``optimizer`` with the kernel: what its ``step`` runs
    when ``backend_for(params)`` is ``"fused"``.

    The caller has checked the type of ``state`` and that the kernel
    implements the optimizer's options.
    """
    grads = optimizer._check_step(params, grads, state, check_finite=False)
    if type(params) not in KERNEL_ARRAY_TYPES:
        raise TypeError(
            f"backend='fused' updates params of type numpy.ndarray, got "
            f"{type(params).__name__}; use backend='numpy' or 'auto' for it"
        )
    if isinstance(optimizer, RMSprop):
        lr, decay, scale = optimizer.lr, optimizer.rho, 1.0 - optimizer.rho
    else:
        # The rate of the step about to be taken, as AdaGrad.step computes it.
        lr, decay, scale = optimizer.lr_at(state.step + 1), 1.0, 1.0
    _run_kernel(
        params,
        grads,
        state.accumulator,
        lr=lr,
        decay=decay,
        scale=scale,
        eps=optimizer.eps,
        eps_placement=optimizer.eps_placement,
    )
    state.step += 1


class FusedAdaGrad(AdaGrad):
    """``AdaGrad`` with ``backend="fused"``: every step runs the kernel.

    Takes the other arguments of ``optimlib.AdaGrad``, validates them the same
    way and uses the same state. ``step`` gives the numbers of the NumPy
    step and, like it, raises ValueError on a non-finite gradient before
    changing anything.

    Raises:
        ValueError: with weight decay, which the kernel does not implement.
        ImportError: if numba is not installed.

    Example:
        >>> opt = FusedAdaGrad(lr=0.1, eps=0.0)
        >>> theta = np.array([1.0, 1.0])
        >>> state = opt.init(theta)
        >>> opt.step(theta, np.array([3.0, -0.01]), state)
        >>> theta
        array([0.9, 1.1])
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        _reject_backend(type(self), kwargs)
        super().__init__(*args, backend="fused", **kwargs)


class FusedRMSprop(RMSprop):
    """``RMSprop`` with ``backend="fused"``: every step runs the kernel.

    Takes the other arguments of ``optimlib.RMSprop``, validates them the same
    way and uses the same state. ``step`` gives the numbers of the NumPy
    step and, like it, raises ValueError on a non-finite gradient before
    changing anything.

    Raises:
        ValueError: with centered, momentum, bias_correction or weight
            decay, which the kernel does not implement.
        ImportError: if numba is not installed.

    Example:
        >>> opt = FusedRMSprop(lr=0.01, rho=0.99, eps=0.0)
        >>> theta = np.array([0.0])
        >>> state = opt.init(theta)
        >>> opt.step(theta, np.array([5.0]), state)
        >>> round(float(theta[0]), 6)
        -0.1
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        _reject_backend(type(self), kwargs)
        super().__init__(*args, backend="fused", **kwargs)


def _reject_backend(cls: type, kwargs: dict[str, object]) -> None:
    """Raise TypeError if a fused class is given a backend of its own."""
    if "backend" in kwargs:
        base = cls.__mro__[1].__name__
        raise TypeError(
            f"{cls.__name__} always uses backend='fused', got "
            f"backend={kwargs['backend']!r}; use optimlib.{base} to choose another"
        )
