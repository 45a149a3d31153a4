"""Record AdaGrad and RMSprop trajectories from PyTorch, optax and Keras 3.

The files written under ``tests/references/`` let ``tests/test_references.py``
check that optimlib reproduces each library without the libraries installed:

- ``gradients.npz``: the fixed gradient sequences and starting points;
- ``pytorch.npz``, ``optax.npz``, ``keras.npz``: parameters after every step,
  and the accumulator (G_t or E[g^2]_t) after every step;
- ``manifest.json``: every case with the library's own constructor arguments,
  the gradient sequence it used, and the versions that produced it.

Run it in an environment that has torch, jax, optax and keras (and numpy),
from the repository root::

    python scripts/record_references.py

Each library runs on the CPU in one child process per precision, because
JAX fixes its 64-bit mode at start-up. float64 runs need ``JAX_ENABLE_X64=1``.
float32 runs must not have it, or Keras promotes its Python-float
hyperparameters to float64. Keras's float64 runs also set ``floatx`` to
float64, which keeps its learning rate variable from being rounded to
float32.

This script does not import optimlib: the references come from the libraries
alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STEPS = 30
CONSTANT_STEPS = 60
# Five parameters keep torch's CPU kernels on their scalar loop, which handles
# tensors shorter than two SIMD vectors; the vector loop rounds sqrt
# differently.
DIM = 5
SEEDS = (0, 1, 2)
DTYPES = ("float32", "float64")
KINDS = ("normal", "tiny", "large", "zeros")

# (library, optimizer, case name, library arguments, optax weight-decay chain).
# A chain of "before" puts optax.add_decayed_weights in front of the optimizer
# (an L2 term in the gradient). "between" puts it after the RMS scaling and
# before the learning rate, as optax.adamw does (decoupled weight decay).
CONFIGS: list[tuple[str, str, str, dict, tuple[str, float] | None]] = [
    ("pytorch", "adagrad", "default", {"lr": 0.1}, None),
    ("pytorch", "adagrad", "lr_decay", {"lr": 0.1, "lr_decay": 0.05}, None),
    ("pytorch", "adagrad", "weight_decay", {"lr": 0.1, "weight_decay": 0.1}, None),
    (
        "pytorch",
        "adagrad",
        "initial_accumulator",
        {"lr": 0.1, "initial_accumulator_value": 0.1},
        None,
    ),
    ("pytorch", "adagrad", "eps_large", {"lr": 0.1, "eps": 1e-3}, None),
    ("pytorch", "rmsprop", "default", {"lr": 0.01}, None),
    ("pytorch", "rmsprop", "alpha", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}, None),
    ("pytorch", "rmsprop", "centered", {"lr": 0.01, "centered": True}, None),
    ("pytorch", "rmsprop", "momentum", {"lr": 0.01, "momentum": 0.9}, None),
    (
        "pytorch",
        "rmsprop",
        "centered_momentum",
        {"lr": 0.01, "alpha": 0.5, "centered": True, "momentum": 0.5},
        None,
    ),
    ("pytorch", "rmsprop", "weight_decay", {"lr": 0.01, "weight_decay": 0.1}, None),
    ("optax", "adagrad", "default", {"learning_rate": 0.1}, None),
    (
        "optax",
        "adagrad",
        "zero_start",
        {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "eps": 1e-10},
        None,
    ),
    ("optax", "rmsprop", "default", {"learning_rate": 0.01}, None),
    (
        "optax",
        "rmsprop",
        "eps_outside",
        {"learning_rate": 0.01, "decay": 0.99, "eps_in_sqrt": False},
        None,
    ),
    (
        "optax",
        "rmsprop",
        "initial_scale",
        {"learning_rate": 0.01, "initial_scale": 1.0},
        None,
    ),
    ("optax", "rmsprop", "centered", {"learning_rate": 0.01, "centered": True}, None),
    ("optax", "rmsprop", "momentum", {"learning_rate": 0.01, "momentum": 0.9}, None),
    (
        "optax",
        "rmsprop",
        "nesterov",
        {"learning_rate": 0.01, "momentum": 0.9, "nesterov": True},
        None,
    ),
    (
        "optax",
        "rmsprop",
        "bias_correction",
        {"learning_rate": 0.01, "bias_correction": True},
        None,
    ),
    (
        "optax",
        "rmsprop",
        "centered_bias_correction",
        {
            "learning_rate": 0.01,
            "decay": 0.5,
            "centered": True,
            "bias_correction": True,
            "eps_in_sqrt": False,
        },
        None,
    ),
    ("optax", "rmsprop", "decay_before", {"learning_rate": 0.01}, ("before", 0.1)),
    ("optax", "rmsprop", "decay_between", {"learning_rate": 0.01}, ("between", 0.1)),
    ("keras", "adagrad", "default", {"learning_rate": 0.1}, None),
    (
        "keras",
        "adagrad",
        "weight_decay",
        {"learning_rate": 0.1, "weight_decay": 0.1},
        None,
    ),
    (
        "keras",
        "adagrad",
        "zero_start",
        {"learning_rate": 0.1, "initial_accumulator_value": 0.0},
        None,
    ),
    ("keras", "rmsprop", "default", {"learning_rate": 0.01}, None),
    ("keras", "rmsprop", "centered", {"learning_rate": 0.01, "centered": True}, None),
    ("keras", "rmsprop", "momentum", {"learning_rate": 0.01, "momentum": 0.9}, None),
    (
        "keras",
        "rmsprop",
        "centered_momentum",
        {"learning_rate": 0.01, "rho": 0.5, "centered": True, "momentum": 0.5},
        None,
    ),
    (
        "keras",
        "rmsprop",
        "weight_decay",
        {"learning_rate": 0.01, "weight_decay": 0.1},
        None,
    ),
]


def gradient_sets() -> dict[str, np.ndarray]:
    """Return every gradient sequence and starting point, keyed by name.

    Each set has ``{key}/theta0`` (DIM,) and ``{key}/grads`` (steps, DIM) in
    its dtype. ``constant-{dtype}`` repeats one gradient, so that centered
    RMSprop's variance estimate decays to rounding noise.
    """
    sets = {}
    for dtype in DTYPES:
        for seed in SEEDS:
            for kind in KINDS if seed == 0 else ("normal",):
                rng = np.random.default_rng(seed)
                theta0 = rng.standard_normal(DIM)
                grads = rng.standard_normal((STEPS, DIM))
                if kind == "tiny":
                    grads *= 1e-10
                elif kind == "large":
                    grads *= 1e4
                elif kind == "zeros":
                    grads[rng.random((STEPS, DIM)) < 0.4] = 0.0
                    grads[:, 0] = 0.0
                    grads[2] = 0.0
                key = f"{kind}-seed{seed}-{dtype}"
                sets[f"{key}/theta0"] = theta0.astype(dtype)
                sets[f"{key}/grads"] = grads.astype(dtype)
        row = np.array([1e4, 3.0, 1.0, -0.5, 1e-3])
        sets[f"constant-{dtype}/theta0"] = np.ones(DIM, dtype=dtype)
        sets[f"constant-{dtype}/grads"] = np.tile(row, (CONSTANT_STEPS, 1)).astype(
            dtype
        )
    return sets


def cases() -> list[dict]:
    """Return one entry per (configuration, gradient set)."""
    entries = []
    for library, optimizer, name, options, chain in CONFIGS:
        keys = [f"{kind}-seed0-{dtype}" for dtype in DTYPES for kind in KINDS]
        keys += [f"normal-seed{seed}-{dtype}" for dtype in DTYPES for seed in (1, 2)]
        if options.get("centered"):
            keys += [f"constant-{dtype}" for dtype in DTYPES]
        for key in keys:
            entries.append(
                {
                    "id": f"{library}/{optimizer}/{name}/{key}",
                    "library": library,
                    "optimizer": optimizer,
                    "config": name,
                    "options": options,
                    "weight_decay_chain": (
                        None
                        if chain is None
                        else {"placement": chain[0], "weight_decay": chain[1]}
                    ),
                    "gradients": key,
                    "dtype": key.rsplit("-", 1)[1],
                }
            )
    return entries


def run_pytorch(case: dict, theta0: np.ndarray, grads: np.ndarray) -> tuple:
    """Return (params, accumulator) after every step of torch.optim."""
    import torch

    param = torch.nn.Parameter(torch.from_numpy(theta0.copy()))
    if case["optimizer"] == "adagrad":
        optimizer = torch.optim.Adagrad([param], foreach=False, **case["options"])
        slot = "sum"
    else:
        optimizer = torch.optim.RMSprop([param], foreach=False, **case["options"])
        slot = "square_avg"
    params, accumulators = [], []
    for grad in grads:
        param.grad = torch.from_numpy(grad.copy())
        optimizer.step()
        params.append(param.detach().numpy().copy())
        accumulators.append(optimizer.state[param][slot].numpy().copy())
    return np.array(params), np.array(accumulators)


def run_optax(case: dict, theta0: np.ndarray, grads: np.ndarray) -> tuple:
    """Return (params, accumulator) after every step of a jitted optax loop."""
    import jax
    import jax.numpy as jnp
    import optax

    if case["optimizer"] == "adagrad":
        transform = optax.adagrad(**case["options"])
    else:
        transform = optax.rmsprop(**case["options"])
    chain = case["weight_decay_chain"]
    if chain is not None and chain["placement"] == "before":
        transform = optax.chain(
            optax.add_decayed_weights(chain["weight_decay"]), transform
        )
    elif chain is not None:
        options = dict(case["options"])
        learning_rate = options.pop("learning_rate")
        transform = optax.chain(
            optax.scale_by_rms(**options),
            optax.add_decayed_weights(chain["weight_decay"]),
            optax.scale_by_learning_rate(learning_rate),
        )

    @jax.jit
    def train_step(params, state, grad):
        updates, state = transform.update(grad, state, params)
        return optax.apply_updates(params, updates), state

    params = jnp.asarray(theta0)
    state = transform.init(params)
    trajectory, accumulators = [], []
    for grad in grads:
        params, state = train_step(params, state, jnp.asarray(grad))
        trajectory.append(np.asarray(params))
        accumulators.append(np.asarray(_optax_accumulator(state)))
    return np.array(trajectory), np.array(accumulators)


def _optax_accumulator(state: object) -> object:
    """Return the sum of squares or nu found in an optax state tree."""
    for name in ("sum_of_squares", "nu"):
        if hasattr(state, name):
            return getattr(state, name)
    if isinstance(state, tuple):
        for item in state:
            found = _optax_accumulator(item)
            if found is not None:
                return found
    return None


def run_keras(case: dict, theta0: np.ndarray, grads: np.ndarray) -> tuple:
    """Return (params, accumulator) after every eager ``optimizer.apply`` call."""
    import keras

    keras.config.set_floatx(case["dtype"])
    variable = keras.Variable(theta0, dtype=case["dtype"])
    if case["optimizer"] == "adagrad":
        optimizer = keras.optimizers.Adagrad(**case["options"])
    else:
        optimizer = keras.optimizers.RMSprop(**case["options"])
    optimizer.build([variable])
    # NOTE: Keras 3.15.1 has no public accessor for an optimizer's slots, so
    # this reads the private lists that Adagrad.build and RMSprop.build fill.
    slots = (
        optimizer._accumulators
        if case["optimizer"] == "adagrad"
        else optimizer._velocities
    )
    params, accumulators = [], []
    for grad in grads:
        optimizer.apply([keras.ops.convert_to_tensor(grad)], [variable])
        params.append(keras.ops.convert_to_numpy(variable.value).copy())
        accumulators.append(keras.ops.convert_to_numpy(slots[0].value).copy())
    return np.array(params), np.array(accumulators)


RUNNERS = {"pytorch": run_pytorch, "optax": run_optax, "keras": run_keras}


def record(library: str, dtype: str, gradients_path: Path, out_path: Path) -> None:
    """Run every case of ``library`` in ``dtype`` and save the arrays."""
    sets = np.load(gradients_path)
    arrays = {}
    for case in cases():
        if case["library"] != library or case["dtype"] != dtype:
            continue
        key = case["gradients"]
        params, accumulator = RUNNERS[library](
            case, sets[f"{key}/theta0"], sets[f"{key}/grads"]
        )
        arrays[f"{case['id']}/params"] = params
        arrays[f"{case['id']}/accumulator"] = accumulator
    np.savez(out_path, **arrays)


def versions(library: str) -> dict[str, str]:
    """Return the versions of the packages that ran ``library``'s cases."""
    from importlib.metadata import version

    packages = {
        "pytorch": ["torch", "numpy"],
        "optax": ["optax", "jax", "jaxlib", "numpy"],
        "keras": ["keras", "jax", "jaxlib", "numpy"],
    }[library]
    return {name: version(name) for name in packages}


def torch_cpu_capability() -> str:
    """Return the SIMD level torch's CPU kernels ran with, such as AVX2.

    Kernels built for AVX2 and above fuse multiply-adds, so the last bits of
    float results depend on it.
    """
    import torch

    return torch.backends.cpu.get_cpu_capability()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "tests" / "references",
        help="folder for the reference files (default: tests/references)",
    )
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        library, dtype, gradients_path, out_path = args.worker
        record(library, dtype, Path(gradients_path), Path(out_path))
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    gradients_path = args.out / "gradients.npz"
    np.savez_compressed(gradients_path, **gradient_sets())

    with tempfile.TemporaryDirectory() as folder:
        for library in RUNNERS:
            parts = {}
            for dtype in DTYPES:
                part = Path(folder) / f"{library}-{dtype}.npz"
                env = dict(os.environ, KERAS_BACKEND="jax")
                env["JAX_ENABLE_X64"] = "1" if dtype == "float64" else "0"
                env["JAX_PLATFORMS"] = "cpu"
                command = [sys.executable, __file__, "--worker", library, dtype]
                subprocess.run(
                    command + [str(gradients_path), str(part)], env=env, check=True
                )
                parts.update(np.load(part))
            np.savez_compressed(args.out / f"{library}.npz", **parts)
            print(f"recorded {len(parts) // 2} {library} cases")

    manifest = {
        "steps": STEPS,
        "dim": DIM,
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "torch_cpu_capability": torch_cpu_capability(),
        "versions": {library: versions(library) for library in RUNNERS},
        "cases": cases(),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
