"""Split the time of optimlib's NumPy AdaGrad step into its array operations.

For each size the script times the whole ``AdaGrad.step`` (PyTorch's
conventions: eps 1e-10 outside the root), each array operation of the step
alone, the same operations run over cache-sized chunks after one check of the
whole gradient, and ``torch.optim.Adagrad``'s default step when torch is
installed. It shows which operations set the step's time at each size, and
what chunking would save.

Usage::

    python benchmarks/numpy_step_breakdown.py [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import CLOCKS, Settings, format_seconds, print_table, time_interleaved

import optimlib as ol
from optimlib import _validation as check

SIZES = (10**3, 10**4, 10**5, 10**6, 10**7)
LR, EPS = 0.01, 1e-10
# 2^15 elements: the five arrays of a chunk take 640 KiB in float32 and
# 1.25 MiB in float64, which fit the 2 MiB L2 cache per core of the machine in
# benchmarks.md. There, chunks of 2^15 and 2^16 were the fastest of 2^13 to
# 2^17 at 10^6 and 10^7 elements. Smaller chunks pay for more Python calls,
# and larger ones spill out of L2.
CHUNK = 1 << 15


def chunked_step(
    params: np.ndarray,
    grads: np.ndarray,
    accumulator: np.ndarray,
    scratch: np.ndarray,
    work: np.ndarray,
) -> None:
    """Apply AdaGrad.step's operations chunk by chunk, after a chunked check.

    The first loop checks the whole gradient before anything changes, so a
    NaN still leaves params and state as they were.
    """
    for start in range(0, grads.size, CHUNK):
        check.all_finite("grads", grads[start : start + CHUNK])
    for start in range(0, params.size, CHUNK):
        part = slice(start, start + CHUNK)
        g, s, w, a = grads[part], scratch[part], work[part], accumulator[part]
        np.multiply(g, g, out=s)
        a += s
        np.sqrt(a, out=s)
        s += EPS
        np.multiply(g, LR, out=w)
        np.divide(w, s, out=w)
        params[part] -= w


def candidates_for(size: int, dtype: type, torch) -> dict:
    """Return the timed calls for one size: the step, each operation, torch."""
    rng = np.random.default_rng(0)
    params = rng.standard_normal(size).astype(dtype)
    grads = rng.standard_normal(size).astype(dtype)
    accumulator, scratch, work, quotient = (np.ones(size, dtype) for _ in range(4))

    optimizer = ol.AdaGrad(lr=LR, eps=EPS, eps_placement="outside", backend="numpy")
    state = optimizer.init(params.copy())
    step_params = params.copy()
    chunk_params, chunk_accumulator = params.copy(), np.zeros(size, dtype)
    chunk_scratch = np.empty_like(grads)

    candidates = {
        "step": lambda: optimizer.step(step_params, grads, state),
        "finite check": lambda: check.all_finite("grads", grads),
        "g*g": lambda: np.multiply(grads, grads, out=scratch),
        "G += g*g": lambda: np.add(accumulator, scratch, out=accumulator),
        "sqrt": lambda: np.sqrt(accumulator, out=scratch),
        "+ eps": lambda: np.add(scratch, EPS, out=scratch),
        "g*lr": lambda: np.multiply(grads, LR, out=work),
        # Into its own buffer: dividing work in place call after call would
        # shrink it into subnormal numbers, which are slow.
        "divide": lambda: np.divide(work, scratch, out=quotient),
        "theta -= u": lambda: np.subtract(params, work, out=params),
        "chunked": lambda: chunked_step(
            chunk_params, grads, chunk_accumulator, chunk_scratch, work
        ),
    }
    if torch is not None:
        tensor = torch.from_numpy(params.copy())
        tensor.grad = torch.from_numpy(grads.copy())
        candidates["torch default"] = torch.optim.Adagrad([tensor], lr=LR, eps=EPS).step
    return candidates


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 15")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall: elapsed time (the default). cpu: CPU time of the timing thread",
    )
    arguments = parser.parse_args(argv)
    settings = Settings(
        rounds=5 if arguments.quick else 15,
        min_batch_seconds=3e-3,
        clock=arguments.clock,
    )
    try:
        import torch
    except ImportError as error:
        print(f"torch is not importable ({error}); its column is n/a")
        torch = None
    else:
        torch.set_num_threads(1)

    operations = [
        "finite check",
        "g*g",
        "G += g*g",
        "sqrt",
        "+ eps",
        "g*lr",
        "divide",
        "theta -= u",
    ]
    header = ["dtype", "size", *operations, "sum", "step", "chunked", "torch default"]
    rows = []
    for dtype in (np.float32, np.float64):
        for size in SIZES:
            times = time_interleaved(candidates_for(size, dtype, torch), settings)
            total = sum(times[name] for name in operations)
            rows.append(
                [
                    np.dtype(dtype).name,
                    f"{size:.0e}",
                    *(format_seconds(times[name]) for name in operations),
                    format_seconds(total),
                    format_seconds(times["step"]),
                    format_seconds(times["chunked"]),
                    format_seconds(times.get("torch default")),
                ]
            )
    print("AdaGrad step of optimlib, by array operation, microseconds (median)\n")
    print_table(header, rows)


if __name__ == "__main__":
    main()
