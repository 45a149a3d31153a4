"""Definitions of AdaGrad and RMSprop in PyTorch, optax, Keras 3 and TensorFlow 1.

The libraries share the names AdaGrad and RMSprop but not the algorithms: they
disagree on where epsilon goes, on the accumulator's starting value, on the
default hyperparameters and on how momentum and weight decay enter. This
module stores those differences as data:

- ``PRESETS`` maps an optimizer name and a convention to the defaults that
  ``AdaGrad(convention=...)`` and ``RMSprop(convention=...)`` take;
- ``translate`` turns a library's own constructor arguments into optimlib's
  keyword arguments, and ``from_library`` builds the optimizer from them.

The values were read from the sources of torch 2.13.0 (``torch/optim/adagrad.py``,
``torch/optim/rmsprop.py``), optax 0.2.8 (``optax/_src/alias.py``,
``optax/_src/transform.py``), Keras 3.15.1 (``keras/src/optimizers/adagrad.py``,
``rmsprop.py``, ``base_optimizer.py``) and TensorFlow 1's
``tensorflow/python/training/adagrad.py`` and ``rmsprop.py``. The recorded
trajectories under ``tests/references/`` check the first three.

optax and TensorFlow 1 have no default learning rate, so their presets keep
the book's 0.01.
"""

from __future__ import annotations

from typing import Any

from optimlib import _validation as check

CONVENTIONS = ("book", "pytorch", "optax", "keras", "tf1")
OPTIMIZERS = ("adagrad", "rmsprop")
LIBRARIES = ("pytorch", "optax", "keras", "tf1")


class PresetDefault:
    """Type of ``FROM_PRESET``, the default of options that a convention sets."""

    def __repr__(self) -> str:
        return "FROM_PRESET"


#: Default value of an optimizer argument that takes the convention's value.
#: None is not used for this, because None is an invalid value to reject.
FROM_PRESET = PresetDefault()

#: Defaults per optimizer and convention. Options missing here (lr_decay,
#: weight_decay, centered, momentum, nesterov, bias_correction) are off in
#: every convention.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "adagrad": {
        "book": {
            "lr": 0.01,
            "eps": 1e-8,
            "eps_placement": "inside",
            "initial_accumulator": 0.0,
            "weight_decay_form": "l2",
        },
        "pytorch": {
            "lr": 0.01,
            "eps": 1e-10,
            "eps_placement": "outside",
            "initial_accumulator": 0.0,
            "weight_decay_form": "l2",
        },
        "optax": {
            "lr": 0.01,
            "eps": 1e-7,
            "eps_placement": "inside",
            "initial_accumulator": 0.1,
            "weight_decay_form": "l2",
        },
        "keras": {
            "lr": 0.001,
            "eps": 1e-7,
            "eps_placement": "inside",
            "initial_accumulator": 0.1,
            "weight_decay_form": "decoupled",
        },
        # TensorFlow 1's kernel computes lr * g * rsqrt(G) with no epsilon.
        "tf1": {
            "lr": 0.01,
            "eps": 0.0,
            "eps_placement": "inside",
            "initial_accumulator": 0.1,
            "weight_decay_form": "l2",
        },
    },
    "rmsprop": {
        "book": {
            "lr": 0.01,
            "rho": 0.9,
            "eps": 1e-8,
            "eps_placement": "inside",
            "initial_accumulator": 0.0,
            "momentum_form": "pytorch",
            "weight_decay_form": "l2",
        },
        "pytorch": {
            "lr": 0.01,
            "rho": 0.99,
            "eps": 1e-8,
            "eps_placement": "outside",
            "initial_accumulator": 0.0,
            "momentum_form": "pytorch",
            "weight_decay_form": "l2",
        },
        "optax": {
            "lr": 0.01,
            "rho": 0.9,
            "eps": 1e-8,
            "eps_placement": "inside",
            "initial_accumulator": 0.0,
            "momentum_form": "keras",
            "weight_decay_form": "l2",
        },
        "keras": {
            "lr": 0.001,
            "rho": 0.9,
            "eps": 1e-7,
            "eps_placement": "inside",
            "initial_accumulator": 0.0,
            "momentum_form": "keras",
            "weight_decay_form": "decoupled",
        },
        "tf1": {
            "lr": 0.01,
            "rho": 0.9,
            "eps": 1e-10,
            "eps_placement": "inside",
            "initial_accumulator": 1.0,
            "momentum_form": "keras",
            "weight_decay_form": "l2",
        },
    },
}

# Each library's constructor arguments and the optimlib keyword each one sets.
# None marks an argument that is accepted but needs a conversion below.
_ARGUMENTS: dict[tuple[str, str], dict[str, str | None]] = {
    ("pytorch", "adagrad"): {
        "lr": "lr",
        "lr_decay": "lr_decay",
        "weight_decay": "weight_decay",
        "initial_accumulator_value": "initial_accumulator",
        "eps": "eps",
    },
    ("pytorch", "rmsprop"): {
        "lr": "lr",
        "alpha": "rho",
        "eps": "eps",
        "weight_decay": "weight_decay",
        "momentum": "momentum",
        "centered": "centered",
    },
    ("optax", "adagrad"): {
        "learning_rate": "lr",
        "initial_accumulator_value": "initial_accumulator",
        "eps": "eps",
    },
    ("optax", "rmsprop"): {
        "learning_rate": "lr",
        "decay": "rho",
        "eps": "eps",
        "initial_scale": "initial_accumulator",
        "eps_in_sqrt": None,
        "centered": "centered",
        "momentum": None,
        "nesterov": "nesterov",
        "bias_correction": "bias_correction",
    },
    ("keras", "adagrad"): {
        "learning_rate": "lr",
        "initial_accumulator_value": "initial_accumulator",
        "epsilon": "eps",
        "weight_decay": None,
    },
    ("keras", "rmsprop"): {
        "learning_rate": "lr",
        "rho": "rho",
        "momentum": "momentum",
        "epsilon": "eps",
        "centered": "centered",
        "weight_decay": None,
    },
    ("tf1", "adagrad"): {
        "learning_rate": "lr",
        "initial_accumulator_value": "initial_accumulator",
    },
    ("tf1", "rmsprop"): {
        "learning_rate": "lr",
        "decay": "rho",
        "momentum": "momentum",
        "epsilon": "eps",
        "centered": "centered",
    },
}


def preset(optimizer: str, convention: str) -> dict[str, Any]:
    """Return a copy of the defaults of ``optimizer`` under ``convention``.

    Args:
        optimizer: ``"adagrad"`` or ``"rmsprop"``.
        convention: one of ``CONVENTIONS``.

    Returns:
        A new dict of optimlib keyword arguments.

    Example:
        >>> preset("rmsprop", "pytorch")["eps_placement"]
        'outside'
    """
    check.one_of("optimizer", optimizer, OPTIMIZERS)
    check.one_of("convention", convention, CONVENTIONS)
    return dict(PRESETS[optimizer][convention])


def translate(library: str, optimizer: str, **options: Any) -> dict[str, Any]:
    """Convert a library's constructor arguments into optimlib's keywords.

    The result starts from the library's preset, so an argument left out
    takes that library's default, as it would in the library.

    Args:
        library: ``"pytorch"``, ``"optax"``, ``"keras"`` or ``"tf1"``.
        optimizer: ``"adagrad"`` or ``"rmsprop"``.
        **options: the arguments as the library names them, for example
            ``alpha=0.9, centered=True`` for ``torch.optim.RMSprop`` or
            ``decay=0.9, eps_in_sqrt=False`` for ``optax.rmsprop``. Keras's
            ``weight_decay=None`` means no weight decay, and so does optax's
            ``momentum=None``.

    Returns:
        Keyword arguments for ``AdaGrad`` or ``RMSprop``, with ``convention``
        set to the library.

    Raises:
        TypeError: for an argument the library does not have, or one that
            optimlib does not model (``maximize``, ``clipnorm``, a schedule).

    Example:
        >>> translate("optax", "rmsprop", learning_rate=0.1, eps_in_sqrt=False)[
        ...     "eps_placement"]
        'outside'
    """
    check.one_of("library", library, LIBRARIES)
    check.one_of("optimizer", optimizer, OPTIMIZERS)
    names = _ARGUMENTS[(library, optimizer)]
    kwargs = preset(optimizer, library)
    kwargs["convention"] = library

    for name, value in options.items():
        if name not in names:
            known = ", ".join(sorted(names))
            raise TypeError(
                f"{library} {optimizer} has no argument {name!r} that optimlib "
                f"models; expected one of: {known}"
            )
        if callable(value):
            raise TypeError(
                f"{name} must be a number, got the callable {value!r}; optimlib "
                "takes a constant learning rate"
            )
        target = names[name]
        if target is not None:
            kwargs[target] = value
        elif name == "eps_in_sqrt":
            kwargs["eps_placement"] = "inside" if value else "outside"
        elif name == "momentum":
            kwargs["momentum"] = 0.0 if value is None else value
        elif name == "weight_decay":
            kwargs["weight_decay"] = 0.0 if value is None else value
    return kwargs


def from_library(library: str, optimizer: str, **options: Any) -> Any:
    """Build the optimlib optimizer that reproduces a library's optimizer.

    Args:
        library: ``"pytorch"``, ``"optax"``, ``"keras"`` or ``"tf1"``.
        optimizer: ``"adagrad"`` or ``"rmsprop"``.
        **options: the library's own constructor arguments (see ``translate``).

    Returns:
        An ``AdaGrad`` or ``RMSprop`` instance.

    Example:
        >>> opt = from_library("pytorch", "rmsprop", lr=0.1, alpha=0.9)
        >>> (opt.rho, opt.eps_placement)
        (0.9, 'outside')
    """
    # Imported here because optimlib.optimizers reads PRESETS from this module.
    from optimlib.optimizers import AdaGrad, RMSprop

    kwargs = translate(library, optimizer, **options)
    if optimizer == "adagrad":
        return AdaGrad(**kwargs)
    return RMSprop(**kwargs)
