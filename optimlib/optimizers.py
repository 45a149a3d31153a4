"""SGD, AdaGrad and RMSprop in NumPy, behind one API.

Every optimizer is an object that stores hyperparameters only. ``init(params)``
allocates its state, and ``step(params, grads, state)`` updates the parameters
and the state in place::

    opt = AdaGrad(lr=0.1)
    theta = np.array([1.0, -2.0])
    state = opt.init(theta)
    for _ in range(100):
        opt.step(theta, objective.grad(theta), state)

The state contains the step count and every buffer the update needs, so a step
allocates no array of the parameters' size. ``effective_lr(state)`` returns the
per-parameter factor that multiplied the last gradient, before any momentum.

AdaGrad and RMSprop have a second implementation of ``step``: a loop
compiled by numba (``optimlib.fused``), which gives the same numbers several
times faster on large arrays. ``backend="auto"``, the default, runs it on
parameters of at least ``AUTO_FUSED_MIN_SIZE`` elements when numba is
installed and the kernel implements every option that is switched on;
``backend="numpy"`` always runs the NumPy step, and ``backend="fused"``
always runs the kernel. ``backend_for(params)`` says which one a step takes.

The defaults follow the book: epsilon inside the square root, a zero starting
accumulator. ``convention="pytorch"``, ``"optax"``, ``"keras"`` or ``"tf1"``
selects a library's defaults in one argument, and keyword arguments override
single options (see ``optimlib.conventions``). The update rules and their
floating-point order are written in ``optimlib._updates``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from optimlib import _updates
from optimlib import _validation as check
from optimlib.conventions import CONVENTIONS, FROM_PRESET, PresetDefault, preset

EPS_PLACEMENTS = _updates.EPS_PLACEMENTS
WEIGHT_DECAY_FORMS = ("l2", "decoupled")
MOMENTUM_FORMS = ("pytorch", "keras")
BACKENDS = ("auto", "numpy", "fused")
# The array types the fused kernel updates in place.
KERNEL_ARRAY_TYPES = (np.ndarray, np.memmap)

# With backend="auto", steps on parameters of at least this many elements run
# the fused kernel, and smaller ones the NumPy step. On 10^3 elements the
# NumPy step already took under half the time of torch.optim's default step
# (benchmarks.md). The chapters' problems, of at most a thousand parameters,
# therefore run the NumPy step and do not wait for numba to compile.
AUTO_FUSED_MIN_SIZE = 1 << 12


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
        work: a second such buffer.
        mask: a boolean buffer, allocated only when eps is 0 in the
            parameters' precision, that marks the zero denominators.
    """

    step: int
    accumulator: np.ndarray
    scratch: np.ndarray = field(repr=False)
    work: np.ndarray | None = field(default=None, repr=False)
    mask: np.ndarray | None = field(default=None, repr=False)


@dataclass(eq=False)
class RMSpropState:
    """State of RMSprop.

    Attributes:
        step: number of steps taken.
        accumulator: E[g^2]_t, the exponential moving average of squared
            gradients.
        scratch: a buffer of the parameters' shape reused by every step.
        grad_average: E[g]_t, the moving average of gradients, when centered.
        momentum_buffer: the momentum buffer, when momentum > 0.
        work: a second scratch buffer.
        spare: a third one, allocated only for centered bias correction.
        mask: a boolean buffer, allocated only when eps is 0 in the
            parameters' precision.
    """

    step: int
    accumulator: np.ndarray
    scratch: np.ndarray = field(repr=False)
    grad_average: np.ndarray | None = None
    momentum_buffer: np.ndarray | None = None
    work: np.ndarray | None = field(default=None, repr=False)
    spare: np.ndarray | None = field(default=None, repr=False)
    mask: np.ndarray | None = field(default=None, repr=False)


class Optimizer:
    """Base class: hyperparameters, state allocation and input checks."""

    lr: float
    backend: str

    def init(self, params: np.ndarray) -> object:
        """Allocate the optimizer's state for ``params``."""
        raise NotImplementedError

    def step(self, params: np.ndarray, grads: np.ndarray, state: object) -> None:
        """Update ``params`` and ``state`` in place from the gradient ``grads``."""
        raise NotImplementedError

    def effective_lr(self, state: object) -> np.ndarray:
        """Return the per-parameter factor that multiplied the last gradient."""
        raise NotImplementedError

    def backend_for(self, params: np.ndarray) -> str:
        """Return ``"fused"`` or ``"numpy"``: the code a step on ``params`` runs.

        With ``backend="auto"`` it is the fused kernel when ``params`` has at
        least ``AUTO_FUSED_MIN_SIZE`` elements, numba can be imported and the
        kernel implements every option of this optimizer. Both give the same
        numbers (``tests/test_fused.py`` compares them bit for bit).
        """
        if self.backend != "auto":
            return self.backend
        # The kernel takes plain arrays and memory maps only. Other array
        # subclasses (masked arrays, np.matrix) and other types take the NumPy
        # step, which accepts the subclasses and rejects the rest.
        if type(params) not in KERNEL_ARRAY_TYPES:
            return "numpy"
        if params.size < AUTO_FUSED_MIN_SIZE or self._kernel_lacks() is not None:
            return "numpy"
        return "fused" if _fused_module() is not None else "numpy"

    def _kernel_lacks(self) -> str | None:
        """Return an option the fused kernel lacks, as ``name=value``, or None."""
        return f"{type(self).__name__} has no fused kernel"

    def _set_denominator_options(
        self,
        defaults: dict[str, object],
        eps: object,
        eps_placement: object,
        initial_accumulator: object,
    ) -> None:
        """Check and store the options of AdaGrad's and RMSprop's denominator."""
        self.eps = check.nonnegative_finite("eps", _option(eps, defaults, "eps"))
        self.eps_placement = check.one_of(
            "eps_placement",
            _option(eps_placement, defaults, "eps_placement"),
            EPS_PLACEMENTS,
        )
        self.initial_accumulator = check.nonnegative_finite(
            "initial_accumulator",
            _option(initial_accumulator, defaults, "initial_accumulator"),
        )

    def _set_final_options(
        self,
        defaults: dict[str, object],
        weight_decay: object,
        weight_decay_form: object,
        convention: str,
        backend: str,
    ) -> None:
        """Check and store weight decay, the preset's name and the backend.

        The backend comes last because whether the kernel can run depends on
        every other option.
        """
        self.weight_decay = check.nonnegative_finite("weight_decay", weight_decay)
        self.weight_decay_form = check.one_of(
            "weight_decay_form",
            _option(weight_decay_form, defaults, "weight_decay_form"),
            WEIGHT_DECAY_FORMS,
        )
        self.convention = convention
        self._set_backend(backend)

    def _set_backend(self, backend: str) -> None:
        """Store ``backend`` and, for ``"fused"``, check that the kernel can run."""
        self.backend = check.one_of("backend", backend, BACKENDS)
        if backend != "fused":
            return
        lacking = self._kernel_lacks()
        if lacking is not None:
            raise ValueError(
                f"backend='fused' does not support {lacking}: the kernel "
                f"implements {self._KERNEL_OPTIONS}. Use backend='numpy' or "
                f"'auto' for this option"
            )
        from optimlib import fused

        fused.require_numba()

    def _check_step(
        self,
        params: np.ndarray,
        grads: object,
        state: object,
        check_finite: bool = True,
    ) -> np.ndarray:
        """Check a step's arguments and return the gradient in params' dtype.

        Both backends run these checks before they change anything.
        ``check_finite=False`` skips the finiteness of the gradient, which
        the fused kernel checks in its own loop.
        """
        check.float_params("params", params)
        buffer = getattr(state, "accumulator", None)
        if buffer is not None and (
            buffer.shape != params.shape or buffer.dtype != params.dtype
        ):
            raise ValueError(
                f"state was allocated for shape {buffer.shape} and dtype "
                f"{buffer.dtype}, got params of shape {params.shape} and dtype "
                f"{params.dtype}; call init(params) again"
            )
        if buffer is not None and not buffer.flags.writeable:
            raise ValueError(
                "state.accumulator must be writeable, got a read-only array; "
                "copy it with np.array(state.accumulator) first"
            )
        # A state allocated with eps > 0 has no buffer for zero denominators.
        # 1e-44 is above float32's smallest subnormal, so a larger eps never
        # rounds to 0 and the comparison on the left settles most steps.
        eps = getattr(self, "eps", 1.0)
        if eps < 1e-44 and getattr(state, "mask", True) is None:
            if _zero_mask(params, eps) is not None:
                raise ValueError(
                    f"state was allocated by an optimizer whose eps is not 0 in "
                    f"{params.dtype}, but this one has eps={eps!r}; call "
                    f"init(params) again"
                )
        grads = check.matching_gradient(grads, params, check_finite)
        _reject_overlap(grads, params, state)
        return grads

    def __setattr__(self, name: str, value: object) -> None:
        # lr may change between steps, as a schedule does, and is checked
        # again. The other hyperparameters shape the state that init
        # allocates (the zero-denominator mask, the momentum buffer), so
        # they are fixed once set.
        if name == "lr":
            value = check.positive_finite("lr", value)
        elif name in _FIXED_HYPERPARAMETERS and name in vars(self):
            raise AttributeError(
                f"{name} is fixed when the optimizer is created; create a new "
                f"{type(self).__name__} with {name}={value!r} instead"
            )
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if name == "lr" or name in _FIXED_HYPERPARAMETERS:
            raise AttributeError(f"{name} cannot be deleted from an optimizer")
        super().__delattr__(name)

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in vars(self).items())
        return f"{type(self).__name__}({fields})"


_FIXED_HYPERPARAMETERS = frozenset(
    {
        "rho", "eps", "eps_placement", "initial_accumulator", "lr_decay",
        "weight_decay", "weight_decay_form", "centered", "momentum",
        "momentum_form", "nesterov", "bias_correction", "convention", "backend",
    }
)


def _reject_overlap(grads: np.ndarray, params: np.ndarray, state: object) -> None:
    """Raise ValueError if ``grads`` may share memory with what a step writes.

    A step writes params and the state's arrays while it still reads the
    gradient, so a gradient stored in one of them would be read after it
    changed.
    """
    # Arrays can share memory only if they are views of one owner, and
    # comparing owners costs less than np.may_share_memory, so that runs only
    # on arrays with the gradient's owner.
    owner = _memory_owner(grads)
    overlap = None
    if _memory_owner(params) is owner and np.may_share_memory(grads, params):
        overlap = "params"
    for name, value in vars(state).items():
        if (
            overlap is None
            and isinstance(value, np.ndarray)
            and _memory_owner(value) is owner
            and np.may_share_memory(grads, value)
        ):
            overlap = f"state.{name}"
    if overlap is not None:
        raise ValueError(
            f"grads must not share memory with {overlap}, which the step "
            f"writes; pass a copy, for example grads.copy()"
        )


def _memory_owner(array: np.ndarray) -> np.ndarray:
    """Return the array at the end of ``array``'s chain of views."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


@functools.cache
def _fused_module() -> ModuleType | None:
    """Return ``optimlib.fused`` if numba can be imported, and None if not."""
    from optimlib import fused

    try:
        fused.require_numba()
    except ImportError:
        return None
    return fused


def _check_state(state: object, expected: type) -> None:
    if not isinstance(state, expected):
        raise TypeError(
            f"state must be the {expected.__name__} that init returned, "
            f"got {type(state).__name__}"
        )


def _option(value: object, defaults: dict[str, object], name: str) -> object:
    """Return ``value``, or the preset's default for ``name`` if it is FROM_PRESET."""
    return defaults[name] if value is FROM_PRESET else value


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _zero_mask(params: np.ndarray, eps: float) -> np.ndarray | None:
    """Return a boolean buffer when a denominator can be 0, and None otherwise.

    A denominator can be 0 when eps is 0 in the parameters' precision: eps = 0,
    or an eps below float32's smallest subnormal (about 1.4e-45), which
    rounds to 0 in a float32 step.
    """
    if params.dtype.type(eps) == 0.0:
        return np.empty(params.shape, dtype=bool)
    return None


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
        self.backend = "numpy"

    def init(self, params: np.ndarray) -> SGDState:
        check.float_params("params", params)
        check.all_finite("params", params)
        return SGDState(0, params.shape)

    def step(self, params: np.ndarray, grads: np.ndarray, state: SGDState) -> None:
        _check_state(state, SGDState)
        grads = self._check_step(params, grads, state)
        if params.shape != state.shape:
            raise ValueError(
                f"state was allocated for shape {state.shape}, got params of shape "
                f"{params.shape}; call init(params) again"
            )
        params -= self.lr * grads
        state.step += 1

    def effective_lr(self, state: SGDState) -> np.ndarray:
        return np.full(state.shape, self.lr)


class AdaGrad(Optimizer):
    r"""AdaGrad: a per-parameter learning rate from the sum of squared gradients.

    Update rule of step t, elementwise, with epsilon inside the root (the
    default)::

        g     = g_t + weight_decay * theta_t           (weight_decay_form "l2")
        G_t   = G_{t-1} + g^2
        lr_t  = lr / (1 + (t - 1) * lr_decay)
        theta = theta_t - lr_t * weight_decay * theta_t (form "decoupled")
        theta_{t+1} = theta - lr_t * g / sqrt(G_t + eps)

    With ``eps_placement="outside"`` the denominator is ``sqrt(G_t) + eps``, as
    in PyTorch and in Duchi, Hazan and Singer, "Adaptive Subgradient Methods
    for Online Learning and Stochastic Optimization", JMLR 12 (2011).

    The defaults follow the book's convention: lr 0.01, eps 1e-8 inside the
    root, G_0 = 0. ``convention="pytorch"`` gives PyTorch's (eps 1e-10
    outside, G_0 = 0), ``"optax"`` optax's (eps 1e-7 inside, G_0 = 0.1),
    ``"keras"`` Keras 3's (lr 1e-3, eps 1e-7 inside, G_0 = 0.1, decoupled
    weight decay) and ``"tf1"`` TensorFlow 1's (no eps, G_0 = 0.1). Any
    keyword given explicitly overrides the preset: the arguments whose
    default is ``FROM_PRESET`` take the convention's value.

    Args:
        lr: the learning rate eta, positive and finite.
        eps: epsilon, finite and >= 0. With eps = 0 a zero gradient on a zero
            accumulator gives a zero update.
        eps_placement: ``"inside"`` or ``"outside"`` the square root.
        initial_accumulator: G_0, finite and >= 0.
        lr_decay: PyTorch's decay of the learning rate, finite and >= 0.
        weight_decay: the weight decay coefficient, finite and >= 0.
        weight_decay_form: ``"l2"`` adds weight_decay * theta to the gradient
            before it enters G (PyTorch). ``"decoupled"`` shrinks theta by
            lr_t * weight_decay * theta before the update, and G does not
            include it (Keras 3).
        convention: the preset the unset options come from: ``"book"``,
            ``"pytorch"``, ``"optax"``, ``"keras"`` or ``"tf1"``.
        backend: ``"auto"``, ``"numpy"`` or ``"fused"``: which code runs a
            step (see the module's docstring). The fused kernel implements
            every option except weight decay; ``"fused"`` raises ValueError
            with weight decay and ImportError without numba.

    Example:
        >>> opt = AdaGrad(lr=0.1, eps=0.0)
        >>> theta = np.array([1.0, 1.0])
        >>> state = opt.init(theta)
        >>> opt.step(theta, np.array([3.0, -0.01]), state)
        >>> theta   # the first step is -lr * sign(g) when G_0 = 0 and eps = 0
        array([0.9, 1.1])
    """

    def __init__(
        self,
        lr: float | PresetDefault = FROM_PRESET,
        eps: float | PresetDefault = FROM_PRESET,
        *,
        eps_placement: str | PresetDefault = FROM_PRESET,
        initial_accumulator: float | PresetDefault = FROM_PRESET,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        weight_decay_form: str | PresetDefault = FROM_PRESET,
        convention: str = "book",
        backend: str = "auto",
    ) -> None:
        check.one_of("convention", convention, CONVENTIONS)
        defaults = preset("adagrad", convention)
        self.lr = check.positive_finite("lr", _option(lr, defaults, "lr"))
        self._set_denominator_options(defaults, eps, eps_placement, initial_accumulator)
        self.lr_decay = check.nonnegative_finite("lr_decay", lr_decay)
        self._set_final_options(
            defaults, weight_decay, weight_decay_form, convention, backend
        )

    _KERNEL_OPTIONS = "lr, eps, eps_placement, initial_accumulator and lr_decay"

    def _kernel_lacks(self) -> str | None:
        if self.weight_decay != 0.0:
            return f"weight_decay={self.weight_decay!r}"
        return None

    def lr_at(self, step: int) -> float:
        """Return lr / (1 + (step - 1) * lr_decay), the rate of step ``step``."""
        return self.lr / (1.0 + (max(step, 1) - 1) * self.lr_decay)

    def init(self, params: np.ndarray) -> AdaGradState:
        check.float_params("params", params)
        check.all_finite("params", params)
        return AdaGradState(
            step=0,
            accumulator=np.full_like(params, self.initial_accumulator),
            scratch=np.empty_like(params),
            work=np.empty_like(params),
            mask=_zero_mask(params, self.eps),
        )

    def step(self, params: np.ndarray, grads: np.ndarray, state: AdaGradState) -> None:
        _check_state(state, AdaGradState)
        if self.backend_for(params) == "fused":
            _fused_module().kernel_step(self, params, grads, state)
            return
        grads = self._check_step(params, grads, state)
        state.step += 1
        lr = self.lr_at(state.step)
        scratch, work = state.scratch, state.work

        grads = _updates.apply_weight_decay(
            params, grads, self.weight_decay, self.weight_decay_form, lr, work
        )
        np.multiply(grads, grads, out=scratch)
        state.accumulator += scratch

        _updates.denominator(state.accumulator, self.eps, self.eps_placement, scratch)
        np.multiply(grads, lr, out=work)
        _updates.divide(work, scratch, work, state.mask)
        params -= work

    def effective_lr(self, state: AdaGradState) -> np.ndarray:
        """Return lr_t / sqrt(G_t + eps), or lr_t / (sqrt(G_t) + eps), per parameter.

        lr_t is the decayed rate of the last step (of the first step before
        any step). With L2 weight decay the factor multiplies g + weight_decay
        * theta. Where the denominator is 0 (eps = 0 and no gradient yet) the
        value is inf, although the update there is 0.
        """
        denom = _updates.denominator(
            state.accumulator,
            self.eps,
            self.eps_placement,
            np.empty_like(state.accumulator),
        )
        return _updates.lr_over(self.lr_at(state.step), denom)


class RMSprop(Optimizer):
    r"""RMSprop: a per-parameter learning rate from a moving average of g^2.

    Update rule of step t, elementwise, with epsilon inside the root (the
    default) and no option switched on::

        E[g^2]_t = rho * E[g^2]_{t-1} + (1 - rho) * g_t^2
        theta_{t+1} = theta_t - lr * g_t / sqrt(E[g^2]_t + eps)

    This is the rule of Hinton's Coursera lecture 6e (2012), which had no
    epsilon. The options, each off by default:

    - ``centered``: Graves (2013), "Generating Sequences With Recurrent
      Neural Networks". E[g]_t = rho E[g]_{t-1} + (1 - rho) g_t, and
      E[g^2]_t - E[g]_t^2 replaces E[g^2]_t in the denominator. A variance
      that rounding makes slightly negative is clamped to 0, so finite
      gradients never give NaN, where PyTorch, optax and Keras return NaN.
      Requires eps > 0, since the variance of a constant gradient is 0.
    - ``momentum`` mu, with u = g_t / denominator:
      ``momentum_form="pytorch"``: b = mu b + u, theta -= lr b;
      ``momentum_form="keras"`` (also optax and TF1): b = mu b + lr u,
      theta -= b. The two agree while lr is constant.
      ``nesterov=True`` (optax) steps by u + mu b with the new b instead.
    - ``bias_correction`` (optax): E[g^2]_t and E[g]_t are divided by
      1 - rho^t before they enter the denominator.
    - ``weight_decay`` as in ``AdaGrad``: ``"l2"`` adds it to the gradient,
      ``"decoupled"`` shrinks theta by lr * weight_decay * theta first.

    The defaults follow the book's convention: lr 0.01, rho 0.9, eps 1e-8
    inside the root, E[g^2]_0 = 0. ``convention="pytorch"`` gives PyTorch's
    (rho 0.99, eps 1e-8 outside), ``"optax"`` optax's (rho 0.9, eps 1e-8
    inside), ``"keras"`` Keras 3's (lr 1e-3, rho 0.9, eps 1e-7 inside,
    decoupled weight decay) and ``"tf1"`` TensorFlow 1's (eps 1e-10 inside,
    E[g^2]_0 = 1). Any keyword given explicitly overrides the preset: the
    arguments whose default is ``FROM_PRESET`` take the convention's value.

    Args:
        lr: the learning rate eta, positive and finite.
        rho: the decay of the moving averages, in [0, 1). PyTorch calls it
            ``alpha``, optax ``decay``.
        eps: epsilon, finite and >= 0 (> 0 when centered).
        eps_placement: ``"inside"`` or ``"outside"`` the square root.
        initial_accumulator: E[g^2]_0, finite and >= 0.
        centered: divide by the estimated standard deviation instead.
        momentum: mu, in [0, 1).
        momentum_form: ``"pytorch"`` or ``"keras"``, see above.
        nesterov: Nesterov momentum as optax computes it; needs momentum > 0.
        bias_correction: optax's division by 1 - rho^t.
        weight_decay: the weight decay coefficient, finite and >= 0.
        weight_decay_form: ``"l2"`` or ``"decoupled"``.
        convention: the preset the unset options come from: ``"book"``,
            ``"pytorch"``, ``"optax"``, ``"keras"`` or ``"tf1"``.
        backend: ``"auto"``, ``"numpy"`` or ``"fused"``, as in ``AdaGrad``.
            The fused kernel implements lr, rho, eps, eps_placement and
            initial_accumulator; ``"fused"`` raises ValueError with any other
            option switched on.

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
        lr: float | PresetDefault = FROM_PRESET,
        rho: float | PresetDefault = FROM_PRESET,
        eps: float | PresetDefault = FROM_PRESET,
        *,
        eps_placement: str | PresetDefault = FROM_PRESET,
        initial_accumulator: float | PresetDefault = FROM_PRESET,
        centered: bool = False,
        momentum: float = 0.0,
        momentum_form: str | PresetDefault = FROM_PRESET,
        nesterov: bool = False,
        bias_correction: bool = False,
        weight_decay: float = 0.0,
        weight_decay_form: str | PresetDefault = FROM_PRESET,
        convention: str = "book",
        backend: str = "auto",
    ) -> None:
        check.one_of("convention", convention, CONVENTIONS)
        defaults = preset("rmsprop", convention)
        self.lr = check.positive_finite("lr", _option(lr, defaults, "lr"))
        self.rho = check.unit_interval("rho", _option(rho, defaults, "rho"))
        self._set_denominator_options(defaults, eps, eps_placement, initial_accumulator)
        self.centered = _flag("centered", centered)
        if self.centered and self.eps == 0.0:
            raise ValueError(
                "eps must be > 0 when centered=True, got 0.0: the variance of a "
                "constant gradient is 0 and the update would divide by it"
            )
        self.momentum = check.unit_interval("momentum", momentum)
        self.momentum_form = check.one_of(
            "momentum_form",
            _option(momentum_form, defaults, "momentum_form"),
            MOMENTUM_FORMS,
        )
        self.nesterov = _flag("nesterov", nesterov)
        if self.nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True requires momentum > 0, got momentum=0.0")
        self.bias_correction = _flag("bias_correction", bias_correction)
        self._set_final_options(
            defaults, weight_decay, weight_decay_form, convention, backend
        )

    _KERNEL_OPTIONS = "lr, rho, eps, eps_placement and initial_accumulator"

    def _kernel_lacks(self) -> str | None:
        # nesterov needs momentum, and the two forms differ only with
        # momentum or weight decay, so these four cover every option.
        for name, off in (
            ("centered", False),
            ("momentum", 0.0),
            ("bias_correction", False),
            ("weight_decay", 0.0),
        ):
            if getattr(self, name) != off:
                return f"{name}={getattr(self, name)!r}"
        return None

    def init(self, params: np.ndarray) -> RMSpropState:
        check.float_params("params", params)
        check.all_finite("params", params)
        return RMSpropState(
            step=0,
            accumulator=np.full_like(params, self.initial_accumulator),
            scratch=np.empty_like(params),
            grad_average=np.zeros_like(params) if self.centered else None,
            momentum_buffer=np.zeros_like(params) if self.momentum > 0 else None,
            work=np.empty_like(params),
            spare=(
                np.empty_like(params)
                if self.centered and self.bias_correction
                else None
            ),
            mask=_zero_mask(params, self.eps),
        )

    def step(self, params: np.ndarray, grads: np.ndarray, state: RMSpropState) -> None:
        _check_state(state, RMSpropState)
        if self.backend_for(params) == "fused":
            _fused_module().kernel_step(self, params, grads, state)
            return
        grads = self._check_step(params, grads, state)
        state.step += 1
        scratch, work = state.scratch, state.work

        grads = _updates.apply_weight_decay(
            params, grads, self.weight_decay, self.weight_decay_form, self.lr, work
        )
        _updates.moving_average(state.accumulator, grads, self.rho, scratch, True)
        if self.centered:
            _updates.moving_average(state.grad_average, grads, self.rho, scratch)
        self._denominator(state, state.step, scratch, state.spare)

        if self.momentum == 0.0:
            np.multiply(grads, self.lr, out=work)
            _updates.divide(work, scratch, work, state.mask)
            params -= work
        elif self.momentum_form == "pytorch":
            _updates.divide(grads, scratch, work, state.mask)
            _updates.momentum_step(
                params,
                work,
                state.momentum_buffer,
                self.momentum,
                self.nesterov,
                self.lr,
                scratch,
            )
        else:
            np.multiply(grads, self.lr, out=work)
            _updates.divide(work, scratch, work, state.mask)
            _updates.momentum_step(
                params,
                work,
                state.momentum_buffer,
                self.momentum,
                self.nesterov,
                None,
                scratch,
            )

    def _denominator(
        self,
        state: RMSpropState,
        step: int,
        out: np.ndarray,
        spare: np.ndarray | None,
    ) -> np.ndarray:
        """Write the denominator that divides the gradient of step ``step``."""
        correction = None
        if self.bias_correction and step > 0:
            correction = _updates.bias_correction(self.rho, step, out.dtype)
        if self.centered:
            variance = _updates.centered_variance(
                state.accumulator, state.grad_average, correction, out, spare
            )
        elif correction is not None:
            variance = np.divide(state.accumulator, correction, out=out)
        else:
            variance = state.accumulator
        return _updates.denominator(variance, self.eps, self.eps_placement, out)

    def effective_lr(self, state: RMSpropState) -> np.ndarray:
        """Return lr / denominator per parameter: the factor on the last gradient.

        The denominator is sqrt(E[g^2]_t + eps), or sqrt(E[g^2]_t) + eps, with
        the variance in place of E[g^2]_t when centered and the bias-corrected
        averages with ``bias_correction`` (uncorrected before the first step).
        It is the factor before momentum: with momentum the step also carries
        the earlier gradients.
        """
        out = np.empty_like(state.accumulator)
        spare = np.empty_like(out) if self.centered and self.bias_correction else None
        denom = self._denominator(state, state.step, out, spare)
        return _updates.lr_over(self.lr, denom)
