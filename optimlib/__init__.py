"""optimlib: the adaptive learning-rate optimizers of the book, in NumPy.

Public API:

- optimizers: ``SGD``, ``AdaGrad``, ``RMSprop``, each with ``init``, ``step``
  and ``effective_lr``. AdaGrad's and RMSprop's ``backend`` argument chooses
  between the NumPy step and a numba-compiled loop with the same results,
  and ``FusedAdaGrad`` and ``FusedRMSprop`` always use the loop (numba is
  imported only when the loop is first needed);
- ``conventions``: the presets of PyTorch, optax, Keras 3 and TensorFlow 1,
  and ``from_library``, which builds the optimizer a library's arguments mean;
- effective rates from a gradient history: ``adagrad_accumulator``,
  ``rmsprop_accumulator``, ``adagrad_effective_lr``, ``rmsprop_effective_lr``,
  ``CurveSet`` and ``log_spaced_indices``;
- objectives with analytic gradients: ``Quadratic``, ``Rosenbrock``,
  ``LogisticRegression`` and ``breast_cancer``;
- ``run``, which returns a ``Trajectory`` of arrays;
- figures and widgets: ``series_style``, ``plot_series``, ``PALETTE`` and
  ``EffectiveLRPanel``.

The library never prints. Invalid input raises TypeError or ValueError with
the argument's name and value.
"""

from optimlib import conventions
from optimlib.conventions import from_library
from optimlib.objectives import (
    LogisticRegression,
    Objective,
    Quadratic,
    Rosenbrock,
    breast_cancer,
)
from optimlib.optimizers import (
    SGD,
    AdaGrad,
    AdaGradState,
    Optimizer,
    RMSprop,
    RMSpropState,
    SGDState,
)
from optimlib.fused import FusedAdaGrad, FusedRMSprop
from optimlib.plotting import PALETTE, plot_series, series_style
from optimlib.runner import Trajectory, run
from optimlib.schedules import (
    CurveSet,
    adagrad_accumulator,
    adagrad_effective_lr,
    log_spaced_indices,
    rmsprop_accumulator,
    rmsprop_effective_lr,
)
from optimlib.widgets import EffectiveLRPanel

__all__ = [
    "PALETTE",
    "SGD",
    "AdaGrad",
    "AdaGradState",
    "CurveSet",
    "EffectiveLRPanel",
    "FusedAdaGrad",
    "FusedRMSprop",
    "LogisticRegression",
    "Objective",
    "Optimizer",
    "Quadratic",
    "RMSprop",
    "RMSpropState",
    "Rosenbrock",
    "SGDState",
    "Trajectory",
    "adagrad_accumulator",
    "adagrad_effective_lr",
    "breast_cancer",
    "conventions",
    "from_library",
    "log_spaced_indices",
    "plot_series",
    "rmsprop_accumulator",
    "rmsprop_effective_lr",
    "run",
    "series_style",
]

__version__ = "0.1.0"
