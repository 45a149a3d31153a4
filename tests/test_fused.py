"""Tests of the numba-compiled AdaGrad and RMSprop steps in optimlib.fused.

The reference is optimlib's NumPy step, whose own tests check it against
hand-computed values. Each case here runs the NumPy optimizer (with
backend="numpy", so that it never runs the kernel itself) and its fused twin
from the same start on the same gradients and compares the results. The
kernel repeats the NumPy step's operations in the same order, so today the two
agree to the bit. The tolerances below (4 ulp) leave room for a reordering
that changes the last bit without changing the algorithm.
"""

import functools
import importlib.util
import inspect
import multiprocessing
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from optimlib import SGD, AdaGrad, RMSprop, fused, optimizers

needs_numba = pytest.mark.skipif(
    importlib.util.find_spec("numba") is None,
    reason="numba is not installed (pip install numba)",
)

NUMPY_ADAGRAD = functools.partial(AdaGrad, backend="numpy")
NUMPY_RMSPROP = functools.partial(RMSprop, backend="numpy")
PAIRS = [
    pytest.param(NUMPY_ADAGRAD, fused.FusedAdaGrad, {}, id="adagrad"),
    pytest.param(
        NUMPY_ADAGRAD, fused.FusedAdaGrad, {"lr_decay": 0.05}, id="adagrad-lr-decay"
    ),
    pytest.param(NUMPY_RMSPROP, fused.FusedRMSprop, {"rho": 0.9}, id="rmsprop-0.9"),
    pytest.param(
        NUMPY_RMSPROP, fused.FusedRMSprop, {"rho": 0.999}, id="rmsprop-0.999"
    ),
]
DTYPES = [np.float32, np.float64]
PLACEMENTS = ["inside", "outside"]
ULP_TOLERANCE = 4


def gradient_history(regime, steps, size, dtype, seed=0):
    """Return ``steps`` gradients of ``size`` elements for one regime.

    The sizes stay below the square root of the dtype's largest value over
    the number of steps, so no accumulator overflows.
    """
    rng = np.random.default_rng(seed)
    normal = rng.standard_normal((steps, size))
    tiny, large = (1e-30, 1e17) if dtype == np.float32 else (1e-170, 1e150)
    if regime == "normal":
        history = normal
    elif regime == "sparse":
        # Most gradients 0, so with eps = 0 many denominators stay 0.
        history = normal * (rng.random((steps, size)) < 0.1)
    elif regime == "tiny":
        # Squares underflow to 0 (or to subnormals) in the dtype.
        history = normal * tiny
    elif regime == "large":
        history = normal * large
    else:
        # Magnitudes from tiny to large in every step, with exact zeros.
        exponents = rng.uniform(np.log10(tiny), np.log10(large), (steps, size))
        history = normal * 10.0**exponents
        history[:, ::5] = 0.0
    return history.astype(dtype)


def run_both(numpy_optimizer, fused_optimizer, start, history):
    """Step both optimizers from ``start`` through ``history``."""
    reference = start.copy()
    reference_state = numpy_optimizer.init(reference)
    params = start.copy()
    state = fused_optimizer.init(params)
    for grads in history:
        numpy_optimizer.step(reference, grads, reference_state)
        fused_optimizer.step(params, grads, state)
    return (reference, reference_state), (params, state)


def assert_close(actual, expected):
    """Assert agreement within ULP_TOLERANCE ulp of the largest expected value.

    Relative to each element this is 4 ulp. Near zero, where one rounding of
    an update is many ulp of the element, it is 4 ulp of the array's scale.
    """
    scale = np.abs(expected).max(initial=0.0)
    eps = np.finfo(expected.dtype).eps
    np.testing.assert_allclose(
        actual, expected, rtol=ULP_TOLERANCE * eps, atol=ULP_TOLERANCE * eps * scale
    )


@needs_numba
@pytest.mark.parametrize(("numpy_class", "fused_class", "options"), PAIRS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("eps", [0.0, 1e-8, 1.0])
@pytest.mark.parametrize("regime", ["normal", "sparse", "tiny", "large", "mixed"])
def test_fused_matches_numpy_over_steps(
    numpy_class, fused_class, options, dtype, placement, eps, regime
):
    kwargs = dict(options, lr=0.01, eps=eps, eps_placement=placement)
    start = np.random.default_rng(1).standard_normal(257).astype(dtype)
    history = gradient_history(regime, 300, start.size, dtype)
    (reference, reference_state), (params, state) = run_both(
        numpy_class(**kwargs), fused_class(**kwargs), start, history
    )
    assert np.all(np.isfinite(params))
    assert_close(params, reference)
    assert_close(state.accumulator, reference_state.accumulator)
    assert state.step == reference_state.step == len(history)


@needs_numba
@pytest.mark.parametrize(("numpy_class", "fused_class", "options"), PAIRS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_initial_accumulator(numpy_class, fused_class, options, dtype):
    kwargs = dict(options, lr=0.1, eps=1e-7, initial_accumulator=0.1)
    start = np.linspace(-1.0, 1.0, 64, dtype=dtype)
    history = gradient_history("normal", 50, start.size, dtype)
    (reference, _), (params, _) = run_both(
        numpy_class(**kwargs), fused_class(**kwargs), start, history
    )
    assert_close(params, reference)


@needs_numba
@pytest.mark.parametrize(("numpy_class", "fused_class", "options"), PAIRS)
@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("dtype", DTYPES)
# 1e-50 is below float32's smallest subnormal, so it is 0 in a float32 step.
@pytest.mark.parametrize("eps", [0.0, 1e-50])
def test_fused_zero_gradients_with_eps_zero(
    numpy_class, fused_class, options, placement, dtype, eps
):
    # The denominator is 0 and so is the update: params stay where they are.
    optimizer = fused_class(lr=0.1, eps=eps, eps_placement=placement, **options)
    params = np.array([1.0, -2.0, 0.0], dtype=dtype)
    state = optimizer.init(params)
    for _ in range(3):
        optimizer.step(params, np.zeros(3, dtype=dtype), state)
    np.testing.assert_array_equal(params, [1.0, -2.0, 0.0])
    np.testing.assert_array_equal(state.accumulator, [0.0, 0.0, 0.0])


@needs_numba
@pytest.mark.parametrize(("numpy_class", "fused_class", "options"), PAIRS)
@pytest.mark.parametrize(
    "layout",
    ["2-D C order", "2-D Fortran order", "strided view", "0-D", "empty"],
)
def test_fused_array_layouts(numpy_class, fused_class, options, layout):
    base = np.random.default_rng(2).standard_normal((6, 8))
    grads = np.random.default_rng(3).standard_normal((6, 8))
    if layout == "2-D Fortran order":
        base, grads = np.asfortranarray(base), np.asfortranarray(grads)
    elif layout == "strided view":
        base, grads = base[:, ::3], grads[::2, ::3][:3].repeat(2, axis=0)
    elif layout == "0-D":
        base, grads = np.array(0.5), np.array(-2.0)
    elif layout == "empty":
        base, grads = np.zeros((0, 3)), np.zeros((0, 3))
    (reference, reference_state), (params, state) = run_both(
        numpy_class(**options), fused_class(**options), base, [grads, grads * 0.5]
    )
    assert_close(params, reference)
    assert_close(state.accumulator, reference_state.accumulator)


@needs_numba
def test_fused_updates_strided_view_in_place():
    # The kernel runs on contiguous copies of a strided view and writes back.
    whole = np.ones(10)
    view = whole[::2]
    optimizer = fused.FusedAdaGrad(lr=0.5, eps=0.0)
    optimizer.step(view, np.full(5, 2.0), optimizer.init(view))
    np.testing.assert_array_equal(whole[::2], np.full(5, 0.5))
    np.testing.assert_array_equal(whole[1::2], np.ones(5))


@needs_numba
@pytest.mark.parametrize(("numpy_class", "fused_class", "options"), PAIRS)
def test_fused_casts_gradient_like_numpy(numpy_class, fused_class, options):
    # A list and a float64 gradient for float32 params are cast to float32.
    start = np.array([1.0, -1.0, 3.0], dtype=np.float32)
    history = [[0.3, -0.2, 1e-3], np.array([1.0, 2.0, -0.5]), [1, 0, -2]]
    (reference, _), (params, _) = run_both(
        numpy_class(**options), fused_class(**options), start, history
    )
    assert params.dtype == np.float32
    np.testing.assert_array_equal(params, reference)


@needs_numba
@pytest.mark.parametrize(("numpy_class", "fused_class", "options"), PAIRS)
def test_fused_shares_state_with_numpy(numpy_class, fused_class, options):
    # One run that alternates the two steps on one state ends where a NumPy
    # run ends.
    start = np.linspace(-1.0, 1.0, 16)
    history = gradient_history("normal", 20, 16, np.float64)
    numpy_optimizer, fused_optimizer = numpy_class(**options), fused_class(**options)
    params = start.copy()
    state = numpy_optimizer.init(params)
    for index, grads in enumerate(history):
        optimizer = fused_optimizer if index % 2 else numpy_optimizer
        optimizer.step(params, grads, state)
    (reference, _), _ = run_both(numpy_optimizer, fused_optimizer, start, history)
    assert_close(params, reference)


@needs_numba
@pytest.mark.parametrize(("numpy_class", "fused_class", "options"), PAIRS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("position", [0, 500, 999])
def test_fused_nonfinite_gradient_changes_nothing(
    numpy_class, fused_class, options, dtype, bad_value, position
):
    optimizer = fused_class(**options)
    params = np.random.default_rng(4).standard_normal(1000).astype(dtype)
    state = optimizer.init(params)
    optimizer.step(params, np.ones(1000, dtype), state)
    params_before = params.copy()
    accumulator_before = state.accumulator.copy()
    grads = np.ones(1000, dtype)
    grads[position] = bad_value

    with pytest.raises(ValueError, match="grads must be finite") as fused_error:
        optimizer.step(params, grads, state)
    np.testing.assert_array_equal(params, params_before)
    np.testing.assert_array_equal(state.accumulator, accumulator_before)
    assert state.step == 1

    numpy_optimizer = numpy_class(**options)
    with pytest.raises(ValueError) as numpy_error:
        numpy_optimizer.step(params, grads, numpy_optimizer.init(params))
    assert str(fused_error.value) == str(numpy_error.value)


# Sizes for the parallel kernel: one block, a partial last block, many blocks.
PARALLEL_SIZES = [1000, fused._BLOCK + 1, 5 * fused._BLOCK + 123]


@needs_numba
@pytest.mark.parametrize(("numpy_class", "fused_class", "options"), PAIRS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eps", [0.0, 1e-8])
@pytest.mark.parametrize("size", PARALLEL_SIZES)
def test_parallel_kernel_matches_numpy(
    numpy_class, fused_class, options, dtype, eps, size, monkeypatch
):
    monkeypatch.setattr(fused, "PARALLEL_MIN_BYTES", 0)
    kwargs = dict(options, lr=0.01, eps=eps, eps_placement="outside")
    start = np.random.default_rng(5).standard_normal(size).astype(dtype)
    history = gradient_history("mixed", 20, size, dtype, seed=6)
    (reference, reference_state), (params, state) = run_both(
        numpy_class(**kwargs), fused_class(**kwargs), start, history
    )
    np.testing.assert_array_equal(params, reference)
    np.testing.assert_array_equal(state.accumulator, reference_state.accumulator)


@needs_numba
@pytest.mark.parametrize("fused_class", [fused.FusedAdaGrad, fused.FusedRMSprop])
@pytest.mark.parametrize("position", [0, fused._BLOCK - 1, 3 * fused._BLOCK + 7])
def test_parallel_kernel_nonfinite_changes_nothing(fused_class, position, monkeypatch):
    monkeypatch.setattr(fused, "PARALLEL_MIN_BYTES", 0)
    size = 4 * fused._BLOCK
    optimizer = fused_class()
    params = np.random.default_rng(7).standard_normal(size)
    state = optimizer.init(params)
    optimizer.step(params, np.ones(size), state)
    params_before = params.copy()
    accumulator_before = state.accumulator.copy()
    grads = np.ones(size)
    grads[position] = np.nan

    with pytest.raises(ValueError, match="grads must be finite"):
        optimizer.step(params, grads, state)
    np.testing.assert_array_equal(params, params_before)
    np.testing.assert_array_equal(state.accumulator, accumulator_before)
    assert state.step == 1


@needs_numba
def test_serial_and_parallel_kernels_differ():
    # numba's cache keys closures by their captured values only, so the two
    # kernels must capture different ones or one would load the other's code.
    serial = fused._compiled_kernel(False, False, False)
    parallel = fused._compiled_kernel(False, False, True)
    assert serial.py_func.__closure__ != parallel.py_func.__closure__
    assert parallel.targetoptions["parallel"]
    assert not serial.targetoptions.get("parallel", False)


@needs_numba
def test_fused_float32_cast_overflow_is_nonfinite():
    # 1e39 is a finite float64 but inf in float32 params.
    optimizer = fused.FusedRMSprop()
    params = np.zeros(3, dtype=np.float32)
    with pytest.raises(ValueError, match="grads must be finite, got inf"):
        optimizer.step(params, np.array([0.0, 1e39, 0.0]), optimizer.init(params))
    np.testing.assert_array_equal(params, np.zeros(3))


BAD_INPUTS = [
    ("params", lambda params, state: ([1.0, 2.0], np.zeros(2), state)),
    ("int params", lambda params, state: (np.zeros(2, dtype=int), np.zeros(2), state)),
    ("grads shape", lambda params, state: (params, np.zeros(3), state)),
    ("grads dtype", lambda params, state: (params, np.array(["a", "b"]), state)),
    ("state shape", lambda params, state: (np.zeros(5), np.zeros(5), state)),
]


@needs_numba
@pytest.mark.parametrize(("numpy_class", "fused_class", "options"), PAIRS)
@pytest.mark.parametrize(
    "make_arguments",
    [case[1] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_fused_rejects_bad_step_input_like_numpy(
    numpy_class, fused_class, options, make_arguments
):
    params = np.zeros(2)
    numpy_optimizer, fused_optimizer = numpy_class(**options), fused_class(**options)
    with pytest.raises((TypeError, ValueError)) as numpy_error:
        numpy_optimizer.step(*make_arguments(params, numpy_optimizer.init(params)))
    with pytest.raises(numpy_error.type) as fused_error:
        fused_optimizer.step(*make_arguments(params, fused_optimizer.init(params)))
    assert str(fused_error.value) == str(numpy_error.value)


@needs_numba
@pytest.mark.parametrize(
    ("fused_class", "kwargs"),
    [
        (fused.FusedAdaGrad, {"lr": -1.0}),
        (fused.FusedAdaGrad, {"eps": float("nan")}),
        (fused.FusedAdaGrad, {"eps_placement": "middle"}),
        (fused.FusedRMSprop, {"rho": 1.0}),
        (fused.FusedRMSprop, {"initial_accumulator": -1.0}),
    ],
)
def test_fused_validates_arguments_like_numpy(fused_class, kwargs):
    numpy_class = fused_class.__mro__[1]
    with pytest.raises(ValueError) as numpy_error:
        numpy_class(**kwargs)
    with pytest.raises(ValueError) as fused_error:
        fused_class(**kwargs)
    assert str(fused_error.value) == str(numpy_error.value)


UNSUPPORTED = [
    (fused.FusedAdaGrad, "weight_decay", 1e-4),
    (fused.FusedRMSprop, "weight_decay", 1e-4),
    (fused.FusedRMSprop, "centered", True),
    (fused.FusedRMSprop, "momentum", 0.9),
    (fused.FusedRMSprop, "bias_correction", True),
]


@needs_numba
@pytest.mark.parametrize(("fused_class", "option", "value"), UNSUPPORTED)
def test_fused_rejects_unsupported_option(fused_class, option, value):
    numpy_class = fused_class.__mro__[1]
    if option not in inspect.signature(numpy_class).parameters:
        pytest.skip(f"{numpy_class.__name__} has no option {option}")
    with pytest.raises(ValueError, match=f"does not support {option}="):
        fused_class(**{option: value})


@needs_numba
@pytest.mark.parametrize("fused_class", [fused.FusedAdaGrad, fused.FusedRMSprop])
@pytest.mark.parametrize("convention", ["book", "pytorch", "optax", "keras", "tf1"])
def test_fused_accepts_presets(fused_class, convention):
    numpy_class = fused_class.__mro__[1]
    if "convention" not in inspect.signature(numpy_class).parameters:
        pytest.skip(f"{numpy_class.__name__} has no convention presets")
    assert vars(fused_class(convention=convention)) == vars(
        numpy_class(convention=convention, backend="fused")
    )


finite_floats = st.floats(
    min_value=-1e15, max_value=1e15, allow_nan=False, allow_subnormal=True, width=64
)


@needs_numba
@settings(max_examples=60, deadline=None)
@given(
    history=hnp.arrays(np.float64, (8, 5), elements=finite_floats),
    eps=st.sampled_from([0.0, 1e-12, 1e-3]),
    placement=st.sampled_from(PLACEMENTS),
    rho=st.sampled_from([None, 0.0, 0.5, 0.99]),
)
def test_fused_matches_numpy_on_any_finite_history(history, eps, placement, rho):
    if rho is None:
        pair = (NUMPY_ADAGRAD, fused.FusedAdaGrad, {})
    else:
        pair = (NUMPY_RMSPROP, fused.FusedRMSprop, {"rho": rho})
    numpy_class, fused_class, options = pair
    kwargs = dict(options, lr=0.1, eps=eps, eps_placement=placement)
    (reference, _), (params, _) = run_both(
        numpy_class(**kwargs), fused_class(**kwargs), np.zeros(5), history
    )
    assert_close(params, reference)


@pytest.fixture
def without_numba(monkeypatch):
    """Make ``import numba`` fail, as it does where numba is not installed."""
    # None in sys.modules makes `import numba` raise ImportError.
    monkeypatch.setitem(sys.modules, "numba", None)
    fused.require_numba.cache_clear()
    optimizers._fused_module.cache_clear()
    yield
    fused.require_numba.cache_clear()
    optimizers._fused_module.cache_clear()


@pytest.mark.parametrize("make", [fused.FusedAdaGrad, fused.FusedRMSprop])
def test_fused_without_numba_raises_import_error(without_numba, make):
    with pytest.raises(ImportError, match="kernel needs numba"):
        make()
    with pytest.raises(ImportError, match="kernel needs numba"):
        make.__mro__[1](backend="fused")


def test_import_optimlib_does_not_import_numba():
    code = "import sys, optimlib, optimlib.fused; print('numba' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@needs_numba
@pytest.mark.parametrize(
    "fused_class, other_class",
    [(fused.FusedAdaGrad, RMSprop), (fused.FusedRMSprop, AdaGrad)],
    ids=["adagrad", "rmsprop"],
)
def test_fused_step_rejects_other_state(fused_class, other_class):
    theta = np.zeros(3)
    other_state = other_class(lr=0.1).init(theta)
    with pytest.raises(TypeError, match="state must be the"):
        fused_class(lr=0.1).step(theta, np.ones(3), other_state)


# The backend argument of AdaGrad and RMSprop. Options the kernel implements,
# options that only change something together with another option, and for
# every other option a value that switches it on.
KERNEL_OPTIONS = {
    AdaGrad: {"lr", "eps", "eps_placement", "initial_accumulator", "lr_decay"},
    RMSprop: {"lr", "rho", "eps", "eps_placement", "initial_accumulator"},
}
DEPENDENT_OPTIONS = {"weight_decay_form", "momentum_form", "nesterov"}
NOT_OPTIONS = {"convention", "backend"}
SWITCHED_ON = {
    AdaGrad: {"weight_decay": 1e-4},
    RMSprop: {
        "weight_decay": 1e-4,
        "centered": True,
        "momentum": 0.9,
        "bias_correction": True,
    },
}
LARGE = optimizers.AUTO_FUSED_MIN_SIZE


@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
def test_every_option_is_classified_for_the_kernel(optimizer_class):
    # An option added to a class fails here until the kernel implements it
    # or _kernel_lacks reports it.
    names = set(inspect.signature(optimizer_class).parameters)
    classified = (
        KERNEL_OPTIONS[optimizer_class]
        | DEPENDENT_OPTIONS
        | NOT_OPTIONS
        | set(SWITCHED_ON[optimizer_class])
    )
    assert names <= classified, names - classified


@needs_numba
@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
@pytest.mark.parametrize("convention", ["book", "pytorch", "optax", "keras", "tf1"])
def test_auto_backend_takes_kernel_from_threshold(optimizer_class, convention):
    optimizer = optimizer_class(convention=convention)
    assert optimizer.backend == "auto"
    assert optimizer.backend_for(np.zeros(LARGE - 1)) == "numpy"
    assert optimizer.backend_for(np.zeros(LARGE)) == "fused"
    # The size counts elements, whatever the shape.
    assert optimizer.backend_for(np.zeros((2, LARGE // 2))) == "fused"


@needs_numba
@pytest.mark.parametrize(
    ("optimizer_class", "option", "value"),
    [
        (cls, name, value)
        for cls, options in SWITCHED_ON.items()
        for name, value in options.items()
    ],
)
def test_auto_backend_unsupported_option_uses_numpy(
    optimizer_class, option, value
):
    optimizer = optimizer_class(**{option: value})
    assert optimizer.backend_for(np.zeros(LARGE)) == "numpy"
    with pytest.raises(ValueError, match=f"does not support {option}="):
        optimizer_class(**{option: value}, backend="fused")


@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
def test_numpy_backend_never_takes_kernel(optimizer_class):
    assert optimizer_class(backend="numpy").backend_for(np.zeros(10 * LARGE)) == "numpy"


def test_sgd_has_numpy_step_only():
    assert SGD().backend_for(np.zeros(LARGE)) == "numpy"


@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
def test_auto_backend_without_numba_takes_numpy_step(without_numba, optimizer_class):
    optimizer = optimizer_class(lr=0.1)
    params = np.ones(LARGE)
    assert optimizer.backend_for(params) == "numpy"
    optimizer.step(params, np.ones(LARGE), optimizer.init(params))
    assert np.all(params < 1.0)


@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
@pytest.mark.parametrize("backend", ["gpu", "Fused", None])
def test_backend_must_be_known(optimizer_class, backend):
    with pytest.raises(ValueError, match=f"backend must be one of .*got {backend!r}"):
        optimizer_class(backend=backend)


@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
def test_backend_is_fixed_after_construction(optimizer_class):
    optimizer = optimizer_class(backend="numpy")
    with pytest.raises(AttributeError, match="backend is fixed"):
        optimizer.backend = "auto"


@needs_numba
@pytest.mark.parametrize(
    ("optimizer_class", "options"),
    [
        (AdaGrad, {}),
        (AdaGrad, {"lr_decay": 0.05, "convention": "pytorch"}),
        (RMSprop, {"rho": 0.9}),
        (RMSprop, {"convention": "tf1"}),
    ],
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_auto_backend_runs_kernel_and_matches_numpy(
    optimizer_class, options, dtype, monkeypatch
):
    calls = []
    kernel_step = fused.kernel_step

    def counted(*args):
        calls.append(args[1].size)
        kernel_step(*args)

    monkeypatch.setattr(fused, "kernel_step", counted)
    size = 3 * LARGE + 5
    start = np.random.default_rng(8).standard_normal(size).astype(dtype)
    history = gradient_history("mixed", 12, size, dtype, seed=9)
    (reference, reference_state), (params, state) = run_both(
        optimizer_class(**options, backend="numpy"),
        optimizer_class(**options),
        start,
        history,
    )
    assert calls == [size] * len(history)
    np.testing.assert_array_equal(params, reference)
    np.testing.assert_array_equal(state.accumulator, reference_state.accumulator)
    assert state.step == reference_state.step == len(history)


@needs_numba
@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
def test_auto_backend_nonfinite_gradient_changes_nothing(optimizer_class):
    optimizer = optimizer_class()
    params = np.random.default_rng(10).standard_normal(LARGE)
    state = optimizer.init(params)
    before = params.copy(), state.accumulator.copy()
    grads = np.ones(LARGE)
    grads[LARGE - 1] = np.inf
    with pytest.raises(ValueError, match=f"got inf at flat index {LARGE - 1}"):
        optimizer.step(params, grads, state)
    np.testing.assert_array_equal(params, before[0])
    np.testing.assert_array_equal(state.accumulator, before[1])
    assert state.step == 0


# Checks that both backends make before a step changes anything.
BACKENDS = [
    "numpy",
    pytest.param("fused", marks=needs_numba),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
@pytest.mark.parametrize(
    "alias", ["params", "state.accumulator", "state.scratch", "overlapping view"]
)
def test_step_rejects_aliased_gradient(optimizer_class, backend, alias):
    optimizer = optimizer_class(backend=backend)
    buffer = np.linspace(1.0, 2.0, LARGE + 1)
    params = buffer[1:]
    state = optimizer.init(params)
    grads = {
        "params": params,
        "state.accumulator": state.accumulator,
        "state.scratch": state.scratch,
        "overlapping view": buffer[:-1],
    }[alias]
    before = params.copy()
    name = "params" if alias == "overlapping view" else alias
    with pytest.raises(ValueError, match=f"grads must not share memory with {name}"):
        optimizer.step(params, grads, state)
    np.testing.assert_array_equal(params, before)
    assert state.step == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
def test_read_only_accumulator_is_rejected(optimizer_class, backend):
    optimizer = optimizer_class(backend=backend)
    params = np.ones(LARGE)
    state = optimizer.init(params)
    state.accumulator.flags.writeable = False
    with pytest.raises(ValueError, match="state.accumulator must be writeable"):
        optimizer.step(params, np.ones(LARGE), state)
    np.testing.assert_array_equal(params, np.ones(LARGE))
    assert state.step == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
def test_step_rejects_state_without_mask(optimizer_class, backend):
    # A state from an optimizer with eps > 0 has no mask for 0 / 0.
    params = np.zeros(LARGE)
    state = optimizer_class(eps=1e-8).init(params)
    with pytest.raises(ValueError, match="eps=0.0; call init"):
        optimizer_class(eps=0.0, backend=backend).step(params, np.zeros(LARGE), state)
    assert state.step == 0


@needs_numba
@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop])
# Each eps is 0 in its dtype: 1e-300 rounds to 0 in float32.
@pytest.mark.parametrize(
    ("dtype", "eps"), [(np.float32, 0.0), (np.float32, 1e-300), (np.float64, 0.0)]
)
def test_zero_update_sign_matches_numpy(optimizer_class, dtype, eps):
    # -0.0 - (+0.0) is -0.0, which assert_array_equal does not tell from 0.0,
    # so the bits are compared.
    results = []
    for backend in ("numpy", "fused"):
        optimizer = optimizer_class(eps=eps, backend=backend)
        params = np.full(3, -0.0, dtype=dtype)
        state = optimizer.init(params)
        optimizer.step(params, np.array([-0.0, 0.0, -1e-200]), state)
        results.append(params.view(np.uint8).copy())
    np.testing.assert_array_equal(results[0], results[1])


class TaggedArray(np.ndarray):
    """An ndarray subclass that adds nothing, as a stand-in for any subclass."""


@needs_numba
def test_auto_backend_takes_numpy_step_for_array_subclasses(tmp_path):
    optimizer = AdaGrad()
    masked = np.ma.masked_array(np.ones(LARGE), mask=np.zeros(LARGE, dtype=bool))
    assert optimizer.backend_for(masked) == "numpy"
    assert optimizer.backend_for(np.ones(LARGE).view(TaggedArray)) == "numpy"
    assert optimizer.backend_for([[1.0], [2.0, 3.0]]) == "numpy"
    memmap = np.memmap(tmp_path / "params", dtype=np.float64, mode="w+", shape=LARGE)
    assert optimizer.backend_for(memmap) == "fused"


@needs_numba
def test_auto_backend_ragged_params_error_matches_numpy():
    optimizer = AdaGrad()
    ragged = [[1.0], [2.0, 3.0]] * LARGE
    state = optimizer.init(np.ones(2))
    with pytest.raises(TypeError, match="params must be a NumPy array"):
        optimizer.step(ragged, np.ones(2), state)


@needs_numba
def test_fused_backend_rejects_array_subclasses():
    params = np.ones(8).view(TaggedArray)
    optimizer = fused.FusedAdaGrad()
    with pytest.raises(TypeError, match="got TaggedArray; use backend='numpy'"):
        optimizer.step(params, np.ones(8), optimizer.init(params))


def _step_in_child(size):
    optimizer = RMSprop(lr=0.01)
    params = np.ones(size)
    optimizer.step(params, np.linspace(-1.0, 1.0, size), optimizer.init(params))
    return params


@needs_numba
@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork here"
)
def test_auto_backend_in_forked_child(monkeypatch):
    # GNU OpenMP aborts a child that starts a parallel loop after its parent
    # ran one, so the child must fall back to the serial kernel.
    monkeypatch.setattr(fused, "PARALLEL_MIN_BYTES", 0)
    size = 4 * LARGE
    expected = _step_in_child(size)
    assert fused._parallel_ran
    with multiprocessing.get_context("fork").Pool(1) as pool:
        result = pool.apply_async(_step_in_child, (size,)).get(timeout=60)
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("optimizer_class", [SGD, AdaGrad, RMSprop])
def test_hyperparameters_cannot_be_deleted(optimizer_class):
    optimizer = optimizer_class()
    with pytest.raises(AttributeError, match="lr cannot be deleted"):
        del optimizer.lr
    with pytest.raises(AttributeError, match="backend cannot be deleted"):
        del optimizer.backend


def test_sgd_backend_is_fixed():
    with pytest.raises(AttributeError, match="backend is fixed"):
        SGD().backend = "fused"


@pytest.mark.parametrize("fused_class", [fused.FusedAdaGrad, fused.FusedRMSprop])
def test_fused_class_rejects_backend_argument(fused_class):
    with pytest.raises(TypeError, match=f"{fused_class.__name__} always uses"):
        fused_class(backend="numpy")
