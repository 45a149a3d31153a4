"""Time one optimizer step of optimlib, torch.optim and the fused kernel.

For flat vectors of 10^3 to 10^7 elements in float32 and float64, the script
prints:

- the memory bandwidth of this machine, from a stream triad a = b + s * c in
  NumPy (and in numba when it is installed) and from the in-place stream
  a = a + s * b that has the access pattern of an optimizer step;
- the bytes-moved lower bound of one AdaGrad or RMSprop step, which reads
  params, grads and the accumulator and writes params and the accumulator;
- the time of a loop that does only the arithmetic a step cannot avoid, one
  square root and one division per element;
- the step time of optimlib's ``AdaGrad`` and ``RMSprop`` as created with
  their defaults (``backend="auto"``: the NumPy step below
  ``AUTO_FUSED_MIN_SIZE`` elements and the fused kernel from there, when
  numba is installed), of the NumPy step alone (``backend="numpy"``), of the
  fused kernel alone (``optimlib.fused``, needs numba) and of
  ``torch.optim.Adagrad`` and ``RMSprop`` on the CPU in their default,
  ``foreach=True`` and ``fused=True`` forms (needs torch);
- the ratios that the book's targets are stated in;
- the time to recompute the curves of one ``EffectiveLRPanel`` of 10^4 steps.

Every implementation computes the same update, with PyTorch's conventions
(lr 0.01, eps outside the root, eps 1e-10 for AdaGrad, rho 0.99 and eps 1e-8
for RMSprop), and a last table shows that their parameters agree after 100
steps. NumPy's elementwise operations run on one thread. The fused kernel
runs on numba's threads from 2^18 bytes up, and torch runs on as many
threads as numba unless --torch-threads sets another count. The bound uses the
fastest stream, serial or on numba's threads.

Usage::

    python benchmarks/bench_step.py           # about two minutes
    python benchmarks/bench_step.py --quick   # fewer rounds, about 20 s
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from timing import CLOCKS, Settings, format_seconds, print_table, time_interleaved

import optimlib as ol
from optimlib.optimizers import AUTO_FUSED_MIN_SIZE

SIZES = (10**3, 10**4, 10**5, 10**6, 10**7)
DTYPES = (np.float32, np.float64)

# The update every implementation computes: PyTorch's defaults.
ADAGRAD_OPTIONS = {"lr": 0.01, "eps": 1e-10, "eps_placement": "outside"}
RMSPROP_OPTIONS = {"lr": 0.01, "rho": 0.99, "eps": 1e-8, "eps_placement": "outside"}
TORCH_ADAGRAD_OPTIONS = {"lr": 0.01, "eps": 1e-10}
TORCH_RMSPROP_OPTIONS = {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}
TORCH_FORMS = {"default": {}, "foreach": {"foreach": True}, "fused": {"fused": True}}

# A step of AdaGrad or RMSprop reads params, grads and the accumulator and
# writes params and the accumulator: five arrays of the parameters' size.
ARRAYS_PER_STEP = 5
# Ratio targets: torch default / optimlib, fused / bound and
# fused / torch fused.
TARGET_SPEEDUP_OVER_TORCH = 2.0
TARGET_FUSED_OVER_BOUND = 1.25
TARGET_FUSED_OVER_TORCH_FUSED = 1.0
# The streams that measure bandwidth, and how many arrays each one moves.
STREAM_ARRAYS = {
    "triad numpy": 3,
    "triad numba": 3,
    "in-place numba": 3,
    "in-place numba parallel": 3,
    "check numba": 1,
    "sqrt-divide numba": 3,
    "sqrt-divide numba parallel": 3,
}
# The streams whose bandwidth sets the bound. The read-only check is left
# out, since a step also writes, and so are the sqrt-divide loops, which
# measure arithmetic.
BANDWIDTH_STREAMS = (
    "triad numpy",
    "triad numba",
    "in-place numba",
    "in-place numba parallel",
)
ARITHMETIC_STREAMS = ("sqrt-divide numba", "sqrt-divide numba parallel")
# Chunk of the NumPy triad: its second operation reads the first one's output
# from the cache, so each array crosses the memory bus once, as in a compiled
# triad.
TRIAD_CHUNK = 1 << 15


@dataclass
class Backends:
    """The optional libraries, or why each one is missing."""

    numba_missing: str = ""
    torch_missing: str = ""
    torch: object = None
    numba_threads: int = 1
    kernels: dict[str, Callable] = field(default_factory=dict)


def load_backends(torch_threads: int | None) -> Backends:
    """Import numba and torch where installed, and compile the numba loops.

    torch gets ``torch_threads`` threads, or numba's thread count when None.
    """
    backends = Backends()
    try:
        import numba
    except ImportError as error:
        backends.numba_missing = f"numba is not importable ({error})"
    else:
        backends.kernels = compile_streams(numba)
        backends.numba_threads = numba.get_num_threads()
    try:
        import torch
    except ImportError as error:
        backends.torch_missing = f"torch is not importable ({error})"
    else:
        torch.set_num_threads(torch_threads or backends.numba_threads)
        backends.torch = torch
    return backends


def compile_streams(numba) -> dict[str, Callable]:
    """Return the compiled stream loops: triad, in-place update and check."""
    jit = numba.njit(nogil=True, error_model="numpy")

    def triad(a, b, c, s):
        for i in range(a.size):
            a[i] = b[i] + s * c[i]

    def update_in_place(a, b, s):
        for i in range(a.size):
            a[i] = a[i] + s * b[i]

    def check_finite(a, largest):
        # The first loop of optimlib.fused's kernel: a read-only stream.
        finite = True
        for i in range(a.size):
            finite &= abs(a[i]) <= largest
        return finite

    def update_in_place_parallel(a, b, s):
        for i in numba.prange(a.size):
            a[i] = a[i] + s * b[i]

    def sqrt_divide(a, b, s):
        # The arithmetic of a step that no exact implementation avoids: a
        # correctly rounded square root and division per element.
        for i in range(a.size):
            a[i] = b[i] / (math.sqrt(a[i]) + s)

    def sqrt_divide_parallel(a, b, s):
        for i in numba.prange(a.size):
            a[i] = b[i] / (math.sqrt(a[i]) + s)

    parallel_jit = numba.njit(nogil=True, error_model="numpy", parallel=True)
    return {
        "triad": jit(triad),
        "in_place": jit(update_in_place),
        "in_place_parallel": parallel_jit(update_in_place_parallel),
        "check": jit(check_finite),
        "sqrt_divide": jit(sqrt_divide),
        "sqrt_divide_parallel": parallel_jit(sqrt_divide_parallel),
    }


def stream_candidates(
    size: int, dtype: type, backends: Backends
) -> dict[str, Callable[[], object]]:
    """Return the bandwidth loops for arrays of ``size`` elements."""
    a, b, c = (np.ones(size, dtype) for _ in range(3))
    scalar = dtype(0.5)
    chunks = [slice(k, k + TRIAD_CHUNK) for k in range(0, size, TRIAD_CHUNK)]

    def numpy_triad() -> None:
        for chunk in chunks:
            np.multiply(c[chunk], scalar, out=a[chunk])
            np.add(a[chunk], b[chunk], out=a[chunk])

    candidates = {"triad numpy": numpy_triad}
    if backends.kernels:
        triad, in_place = backends.kernels["triad"], backends.kernels["in_place"]
        check = backends.kernels["check"]
        largest = np.finfo(dtype).max
        candidates["triad numba"] = lambda: triad(a, b, c, scalar)
        candidates["in-place numba"] = lambda: in_place(a, b, scalar)
        in_place_parallel = backends.kernels["in_place_parallel"]
        candidates["in-place numba parallel"] = lambda: in_place_parallel(
            a, b, scalar
        )
        candidates["check numba"] = lambda: check(a, largest)
        sqrt_divide = backends.kernels["sqrt_divide"]
        sqrt_divide_parallel = backends.kernels["sqrt_divide_parallel"]
        # a stays positive: it starts at 1 and becomes b / (sqrt(a) + s).
        candidates["sqrt-divide numba"] = lambda: sqrt_divide(a, b, scalar)
        candidates["sqrt-divide numba parallel"] = lambda: sqrt_divide_parallel(
            a, b, scalar
        )
    return candidates


def optimizer_candidates(
    name: str, size: int, dtype: type, backends: Backends
) -> tuple[dict[str, Callable[[], object]], dict[str, str]]:
    """Return the step of every implementation of ``name`` and the skip reasons."""
    rng = np.random.default_rng(0)
    params = rng.standard_normal(size).astype(dtype)
    grads = rng.standard_normal(size).astype(dtype)
    candidates: dict[str, Callable[[], object]] = {}
    skipped: dict[str, str] = {}

    candidates["optimlib"] = bind_step(
        make_numpy_optimizer(name, backend="auto"), params.copy(), grads
    )
    candidates["numpy"] = bind_step(make_numpy_optimizer(name), params.copy(), grads)
    if backends.numba_missing:
        skipped["fused"] = backends.numba_missing
    else:
        candidates["fused"] = bind_step(
            make_fused_optimizer(name), params.copy(), grads
        )

    if backends.torch is None:
        for form in TORCH_FORMS:
            skipped[f"torch {form}"] = backends.torch_missing
        return candidates, skipped
    for form, options in TORCH_FORMS.items():
        try:
            optimizer = make_torch_optimizer(
                backends.torch, name, params, grads, options
            )
        except (TypeError, RuntimeError, ValueError) as error:
            skipped[f"torch {form}"] = f"{type(error).__name__}: {error}"
        else:
            candidates[f"torch {form}"] = optimizer.step
    return candidates, skipped


def make_numpy_optimizer(name: str, backend: str = "numpy") -> ol.Optimizer:
    """Return optimlib's optimizer ``name``, by default with the NumPy step only."""
    if name == "AdaGrad":
        return ol.AdaGrad(**ADAGRAD_OPTIONS, backend=backend)
    return ol.RMSprop(**RMSPROP_OPTIONS, backend=backend)


def make_fused_optimizer(name: str) -> ol.Optimizer:
    from optimlib.fused import FusedAdaGrad, FusedRMSprop

    if name == "AdaGrad":
        return FusedAdaGrad(**ADAGRAD_OPTIONS)
    return FusedRMSprop(**RMSPROP_OPTIONS)


def make_torch_optimizer(torch, name, params, grads, options):
    tensor = torch.from_numpy(params.copy())
    tensor.grad = torch.from_numpy(grads.copy())
    if name == "AdaGrad":
        return torch.optim.Adagrad([tensor], **TORCH_ADAGRAD_OPTIONS, **options)
    return torch.optim.RMSprop([tensor], **TORCH_RMSPROP_OPTIONS, **options)


def bind_step(
    optimizer: ol.Optimizer, params: np.ndarray, grads: np.ndarray
) -> Callable[[], None]:
    state = optimizer.init(params)
    return lambda: optimizer.step(params, grads, state)


@dataclass
class Row:
    """The timings of one dtype and size, in seconds."""

    dtype: str
    size: int
    streams: dict[str, float]
    steps: dict[str, dict[str, float]]
    skipped: dict[str, dict[str, str]]

    def bandwidth(self, itemsize: int) -> float:
        """Return the best bandwidth of the streams that write, in bytes/s.

        A triad moves three arrays. The in-place stream also moves three but
        needs no read of its output before writing it, as a step in place.
        """
        fastest = min(
            seconds
            for name, seconds in self.streams.items()
            if name in BANDWIDTH_STREAMS
        )
        return 3 * self.size * itemsize / fastest

    def arithmetic(self) -> float | None:
        """Return the faster sqrt-divide loop's time, or None without numba."""
        times = [
            self.streams[name] for name in ARITHMETIC_STREAMS if name in self.streams
        ]
        return min(times, default=None)

    def bound(self, itemsize: int) -> float:
        return ARRAYS_PER_STEP * self.size * itemsize / self.bandwidth(itemsize)


def measure(settings: Settings, backends: Backends) -> list[Row]:
    rows = []
    for dtype in DTYPES:
        for size in SIZES:
            streams = time_interleaved(
                stream_candidates(size, dtype, backends), settings
            )
            steps, skipped = {}, {}
            for name in ("AdaGrad", "RMSprop"):
                candidates, skipped[name] = optimizer_candidates(
                    name, size, dtype, backends
                )
                steps[name] = time_interleaved(candidates, settings)
            rows.append(Row(np.dtype(dtype).name, size, streams, steps, skipped))
            print(f"  measured {np.dtype(dtype).name} {size:.0e}", file=sys.stderr)
    return rows


def format_ratio(value: float | None, target: float, higher_is_better: bool) -> str:
    if value is None:
        return "n/a"
    met = value >= target if higher_is_better else value <= target
    return f"{value:.2f}" + ("" if met else " MISS")


def format_plain(value: float | None) -> str:
    """Format a ratio that has no target."""
    return "n/a" if value is None else f"{value:.2f}"


def print_bandwidth(rows: list[Row]) -> None:
    print(
        "\n## Memory bandwidth: triad a = b + s*c, in-place a = a + s*b, check "
        "(read only), sqrt-divide a = b / (sqrt(a) + s); GB/s = 1e9 bytes/s\n"
    )
    header = ["dtype", "size"]
    for name in STREAM_ARRAYS:
        header += [f"{name} us", "GB/s"]
    lines = []
    for row in rows:
        itemsize = np.dtype(row.dtype).itemsize
        cells = [row.dtype, f"{row.size:.0e}"]
        for name, arrays in STREAM_ARRAYS.items():
            seconds = row.streams.get(name)
            moved = arrays * row.size * itemsize
            rate = None if seconds is None else moved / seconds / 1e9
            cells += [format_seconds(seconds), "n/a" if rate is None else f"{rate:.1f}"]
        lines.append(cells)
    print_table(header, lines)


def print_steps(rows: list[Row], name: str) -> None:
    print(f"\n## {name} step, times in microseconds (median)\n")
    header = [
        "dtype",
        "size",
        "bound",
        "arith",
        "optimlib",
        "numpy",
        "fused",
        "torch default",
        "torch foreach",
        "torch fused",
        "torch default / optimlib",
        "torch default / numpy",
        "fused / bound",
        "fused / arith",
        "fused / torch fused",
    ]
    lines = []
    for row in rows:
        itemsize = np.dtype(row.dtype).itemsize
        times = row.steps[name]
        optimlib, numpy_time = times.get("optimlib"), times.get("numpy")
        fused, arithmetic = times.get("fused"), row.arithmetic()
        torch_default, torch_fused = (
            times.get("torch default"),
            times.get("torch fused"),
        )
        bound = row.bound(itemsize)
        lines.append(
            [
                row.dtype,
                f"{row.size:.0e}",
                format_seconds(bound),
                format_seconds(arithmetic),
                format_seconds(optimlib),
                format_seconds(numpy_time),
                format_seconds(fused),
                format_seconds(torch_default),
                format_seconds(times.get("torch foreach")),
                format_seconds(torch_fused),
                format_ratio(
                    ratio(torch_default, optimlib), TARGET_SPEEDUP_OVER_TORCH, True
                ),
                format_plain(ratio(torch_default, numpy_time)),
                format_ratio(ratio(fused, bound), TARGET_FUSED_OVER_BOUND, False),
                format_plain(ratio(fused, arithmetic)),
                format_ratio(
                    ratio(fused, torch_fused), TARGET_FUSED_OVER_TORCH_FUSED, False
                ),
            ]
        )
    print_table(header, lines)
    reasons = {
        f"{column}: {reason}"
        for row in rows
        for column, reason in row.skipped[name].items()
    }
    for reason in sorted(reasons):
        print(f"\nn/a {reason}")


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None:
        return None
    return numerator / denominator


def print_widget(settings: Settings) -> None:
    """Time the recomputation of one panel's curves, as a slider move does."""
    print("\n## Widget curves: EffectiveLRPanel('both'), 10^4 steps, 3 curves each\n")
    start = time.perf_counter()
    panel = ol.EffectiveLRPanel("both", steps=10_000)
    construction = time.perf_counter() - start
    curves = panel.curves
    rhos = iter(np.tile([0.9, 0.95], 10**7))

    candidates = {
        "panel.compute, new scale and lr": lambda: panel.compute(2.0, 0.01, 0.9),
        "panel.compute, new rho": lambda: panel.compute(2.0, 0.01, next(rhos)),
        "CurveSet.adagrad": lambda: curves.adagrad(2.0, 0.01),
        "CurveSet.rmsprop, same rho": lambda: curves.rmsprop(2.0, 0.01, 0.9),
        "CurveSet.rmsprop, new rho": lambda: curves.rmsprop(2.0, 0.01, next(rhos)),
    }
    times = time_interleaved(candidates, settings)
    lines = [
        ["EffectiveLRPanel('both', steps=10_000), once", f"{construction * 1e3:.2f}"]
    ]
    lines += [[label, f"{seconds * 1e3:.3f}"] for label, seconds in times.items()]
    print_table(["operation", "ms"], lines)


def print_agreement(backends: Backends) -> None:
    """Print how far each implementation's parameters are from optimlib's."""
    print(
        "\n## Agreement after 100 steps, 10^3 parameters: max |theta - theta_numpy| "
        "/ max |theta_numpy|\n"
    )
    rng = np.random.default_rng(1)
    lines = []
    for dtype in DTYPES:
        start = rng.standard_normal(1000).astype(dtype)
        history = rng.standard_normal((100, 1000)).astype(dtype)
        for name in ("AdaGrad", "RMSprop"):
            reference = run_numpy(make_numpy_optimizer(name), start, history)
            cells = [np.dtype(dtype).name, name]
            others = {}
            if not backends.numba_missing:
                others["fused"] = run_numpy(make_fused_optimizer(name), start, history)
            if backends.torch is not None:
                for form, options in TORCH_FORMS.items():
                    try:
                        others[f"torch {form}"] = run_torch(
                            backends.torch, name, start, history, options
                        )
                    except (TypeError, RuntimeError, ValueError):
                        pass
            scale = np.abs(reference).max()
            for column in ("fused", "torch default", "torch foreach", "torch fused"):
                theta = others.get(column)
                if theta is None:
                    cells.append("n/a")
                else:
                    cells.append(f"{np.abs(theta - reference).max() / scale:.1e}")
            lines.append(cells)
    print_table(
        [
            "dtype",
            "optimizer",
            "fused",
            "torch default",
            "torch foreach",
            "torch fused",
        ],
        lines,
    )


def run_numpy(
    optimizer: ol.Optimizer, start: np.ndarray, history: np.ndarray
) -> np.ndarray:
    params = start.copy()
    state = optimizer.init(params)
    for grads in history:
        optimizer.step(params, grads, state)
    return params


def run_torch(torch, name, start, history, options) -> np.ndarray:
    optimizer = make_torch_optimizer(torch, name, start, history[0], options)
    tensor = optimizer.param_groups[0]["params"][0]
    for grads in history:
        tensor.grad = torch.from_numpy(grads.copy())
        optimizer.step()
    return tensor.numpy()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def print_machine(backends: Backends, settings: Settings) -> None:
    print("# optimlib step benchmark\n")
    print(
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} "
        f"{platform.release()}"
    )
    versions = [
        f"Python {platform.python_version()}",
        f"NumPy {np.__version__}",
        f"optimlib {ol.__version__}",
    ]
    if not backends.numba_missing:
        import numba

        versions.append(f"numba {numba.__version__}")
    if backends.torch is not None:
        versions.append(f"torch {backends.torch.__version__}")
    print(f"- versions: {', '.join(versions)}")
    print(f"- threads: {', '.join(thread_counts(backends))}")
    blas = {
        key: value for key, value in os.environ.items() if key.startswith("OPENBLAS")
    }
    if blas:
        print(f"- environment: {blas} (no BLAS call is timed)")
    print(f"- load average before the run: {format_load()}")
    print(
        f"- each time is the median of {settings.rounds} rounds; a round times a "
        f"batch of calls lasting at least {settings.min_batch_seconds * 1e3:g} ms, "
        f"on the {settings.clock} clock ({CLOCKS[settings.clock].__name__})"
    )
    print(
        "- bound: 5 arrays of the step's size over the best bandwidth measured at "
        "that size; arith: the faster sqrt-divide loop at that size"
    )
    print(
        "- optimlib: AdaGrad(...) and RMSprop(...) as created, backend 'auto': "
        f"the NumPy step below {AUTO_FUSED_MIN_SIZE} elements, and from there "
        + ("the fused kernel" if not backends.numba_missing else "also the NumPy "
           "step, since numba is missing")
        + "; numpy: backend='numpy'; fused: optimlib.fused"
    )


def thread_counts(backends: Backends) -> list[str]:
    """Return the number of threads of each contender, as text."""
    from optimlib import fused

    counts = ["NumPy step 1"]
    if not backends.numba_missing:
        counts.append(
            f"fused {backends.numba_threads} from {fused.PARALLEL_MIN_BYTES} "
            "bytes of params up and 1 below, in-place numba parallel "
            f"{backends.numba_threads}, other streams 1"
        )
    if backends.torch is not None:
        counts.append(f"torch {backends.torch.get_num_threads()}")
    return counts


def format_load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unavailable"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 rounds of batches of at least 1 ms instead of 21 of 3 ms",
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall: elapsed time (the default). cpu: CPU time of the timing "
        "thread, steadier when other programs load the machine",
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="threads for torch (torch.set_num_threads). Default: numba's "
        "thread count, or 1 without numba",
    )
    arguments = parser.parse_args(argv)
    if arguments.quick:
        settings = Settings(rounds=5, min_batch_seconds=1e-3, clock=arguments.clock)
    else:
        settings = Settings(rounds=21, min_batch_seconds=3e-3, clock=arguments.clock)

    backends = load_backends(arguments.torch_threads)
    print_machine(backends, settings)
    rows = measure(settings, backends)
    print_bandwidth(rows)
    print_steps(rows, "AdaGrad")
    print_steps(rows, "RMSprop")
    print_widget(settings)
    print_agreement(backends)
    print(f"\nload average after the run: {format_load()}")
    print(
        f"ratio targets: torch default / optimlib >= {TARGET_SPEEDUP_OVER_TORCH:g}, "
        f"fused / bound <= {TARGET_FUSED_OVER_BOUND:g}, fused / torch fused <= "
        f"{TARGET_FUSED_OVER_TORCH_FUSED:g}; MISS marks a ratio that misses its target"
    )


if __name__ == "__main__":
    main()
