"""The optimizer interface shared by every dense first-order method.

An optimizer is an object with ``step(params, grads)``: ``params`` is one
NumPy array, a dict of arrays or a list/tuple of arrays, ``grads`` has the
same structure and shapes, and the arrays in ``params`` are updated in
place.  Each optimizer keeps its per-array state (moments, accumulators) in
``state`` -- a dict keyed like ``params`` whose values are dicts of arrays --
and counts completed steps in ``t``.  ``zero_state()`` forgets both.

Every input is checked before anything is written, so a call that raises
leaves the parameters and the optimizer exactly as they were.
"""

import math
import numbers

import numpy as np

__all__ = ["Optimizer", "Schedule", "as_schedule"]


class Schedule:
    """Base class of learning-rate schedules.

    A schedule maps the number ``t`` of completed optimizer steps
    (``t = 0`` for the first step) to a step size.  Any optimizer accepts a
    schedule wherever it accepts a float learning rate.

    Examples
    --------
    >>> from ftrlx.optim import InverseSqrt
    >>> InverseSqrt(1.0)(3)
    0.5
    """

    def __call__(self, t):
        t = _check_step_index(t)
        value = float(self._value(t))
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"{type(self).__name__} produced the step size {value!r} at t={t}; check the schedule's parameters."
            )
        return value

    def _value(self, t):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self), tuple(sorted(vars(self).items()))))

    @classmethod
    def _unit_test_params(cls):
        """Keyword arguments that build a small, valid instance for the tests."""
        return {}


def _check_step_index(t):
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
        raise ValueError(f"the step index must be an integer >= 0, got {t!r}.")
    return int(t)


def check_positive(name, value, *, allow_zero=False, owner=""):
    """Return ``value`` as a float after checking it is finite and > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}{name} must be a real number, got {value!r}.")
    value = float(value)
    bad = not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero)
    if bad:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{owner}{name} must be finite and {bound}, got {value!r}.")
    return value


def check_unit_interval(name, value, *, owner="", closed_right=False):
    """Check ``0 <= value < 1`` (or ``<= 1`` when ``closed_right``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}{name} must be a real number, got {value!r}.")
    value = float(value)
    ok = 0.0 <= value <= 1.0 if closed_right else 0.0 <= value < 1.0
    if not ok:
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(f"{owner}{name} must lie in {interval}, got {value!r}.")
    return value


def check_bool(name, value, *, owner=""):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}{name} must be True or False, got {value!r}.")
    return bool(value)


def check_nesterov(nesterov, momentum, *, owner=""):
    if check_bool("nesterov", nesterov, owner=owner) and momentum == 0:
        raise ValueError(f"{owner}nesterov=True needs momentum > 0; set momentum, e.g. 0.9.")


def check_choice(name, value, choices, *, owner=""):
    if value not in choices:
        raise ValueError(f"{owner}{name} must be one of {sorted(choices)}, got {value!r}.")
    return value


def as_schedule(lr, *, owner=""):
    """Validate a learning rate given as a float or a :class:`Schedule`.

    Parameters
    ----------
    lr : float or Schedule
        A finite non-negative step size, or a schedule object.
    owner : str, optional
        Prefix for error messages.

    Returns
    -------
    float or Schedule
        ``lr`` as a float, or the schedule unchanged.

    Examples
    --------
    >>> as_schedule(0.1)
    0.1
    >>> as_schedule(-1.0)
    Traceback (most recent call last):
    ...
    ValueError: lr must be finite and >= 0, got -1.0.
    """
    if isinstance(lr, Schedule):
        return lr
    if callable(lr) and not isinstance(lr, numbers.Real):
        raise TypeError(
            f"{owner}lr must be a float or an ftrlx.optim Schedule, got {lr!r}; "
            "wrap a custom rule in a Schedule subclass that defines _value(t)."
        )
    return check_positive("lr", lr, allow_zero=True, owner=owner)


def _leaves(tree, what):
    """Flatten one array, a dict of arrays or a list/tuple of arrays."""
    if isinstance(tree, np.ndarray):
        return [(None, tree)]
    if isinstance(tree, dict):
        return list(tree.items())
    if isinstance(tree, (list, tuple)):
        return list(enumerate(tree))
    raise TypeError(f"{what} must be a NumPy array, a dict of arrays or a list of arrays, got {type(tree).__name__}.")


def pair_leaves(params, grads):
    """Match ``params`` and ``grads`` leaf by leaf and check them.

    Returns a list of ``(key, param, grad)`` with ``grad`` as a float64 array.
    Raises before anything is modified when the structures, shapes, dtypes
    or values do not fit.
    """
    p_leaves = _leaves(params, "params")
    if isinstance(params, np.ndarray):
        g_leaves = [(None, grads)]
    elif isinstance(params, dict) and isinstance(grads, dict):
        g_leaves = list(grads.items())
    elif isinstance(params, (list, tuple)) and isinstance(grads, (list, tuple)):
        g_leaves = list(enumerate(grads))
    else:
        raise TypeError(
            f"params and grads must have the same structure, got {type(params).__name__} and {type(grads).__name__}."
        )
    p_keys = [k for k, _ in p_leaves]
    g_keys = [k for k, _ in g_leaves]
    if p_keys != g_keys:
        raise ValueError(f"params and grads must have the same keys in the same order, got {p_keys} and {g_keys}.")
    pairs = []
    for (key, w), (_, g) in zip(p_leaves, g_leaves):
        where = "" if key is None else f"[{key!r}]"
        if not isinstance(w, np.ndarray) or w.dtype.kind != "f":
            raise TypeError(
                f"params{where} must be a floating-point NumPy array updated in place, got "
                f"{type(w).__name__} with dtype {getattr(w, 'dtype', None)}; "
                "use np.asarray(x, dtype=float)."
            )
        if not w.flags.writeable:
            raise ValueError(f"params{where} is read-only; pass a writeable copy (x.copy()).")
        g = np.asarray(g)
        if g.dtype.kind not in "fiu":
            raise TypeError(f"grads{where} must be numeric, got dtype {g.dtype}.")
        if g.shape != w.shape:
            raise ValueError(
                f"grads{where} has shape {g.shape} but params{where} has shape {w.shape}; they must match exactly."
            )
        g = g.astype(np.float64, copy=False)
        if not np.all(np.isfinite(g)):
            bad = np.flatnonzero(~np.isfinite(g.ravel()))
            raise ValueError(
                f"grads{where} contains non-finite values (first at flat index {bad[0]}: "
                f"{g.ravel()[bad[0]]!r}); nothing was updated. Lower the learning rate or "
                "clip the gradients (ftrlx.optim.ClipGradient)."
            )
        pairs.append((key, w, g))
    return pairs


def rebuild(params, values):
    """Return ``values`` (a list in leaf order) in the structure of ``params``."""
    if isinstance(params, np.ndarray):
        return values[0]
    if isinstance(params, dict):
        return dict(zip(params.keys(), values))
    return type(params)(values) if isinstance(params, tuple) else list(values)


class Optimizer:
    """Base class of the dense first-order optimizers.

    Subclasses define ``_check_params()`` (validate hyper-parameters, called at
    construction and again before every step), ``_init_state(w)`` (the state
    of one array) and ``_update(w, g, state, lr, t)`` (one in-place step with
    the 1-based step number ``t``).

    Parameters
    ----------
    lr : float or Schedule
        Step size, or a schedule giving it as a function of the step count.

    Attributes
    ----------
    t : int
        Number of completed steps.
    state : dict
        Per-array state, keyed like ``params`` (``None`` for a single array).

    Examples
    --------
    >>> import numpy as np
    >>> from ftrlx.optim import SGD
    >>> w = np.array([1.0, -2.0])
    >>> opt = SGD(lr=0.5)
    >>> opt.step(w, 2 * w)      # gradient of ||w||^2
    >>> w
    array([0., 0.])
    >>> opt.t
    1
    """

    def __init__(self, lr=0.01):
        self.lr = lr
        self.t = 0
        self.state = {}
        self._check_params()

    # -- hyper-parameters -------------------------------------------------
    def _owner(self):
        return f"{type(self).__name__}: "

    def _check_params(self):
        as_schedule(self.lr, owner=self._owner())

    def current_lr(self):
        """The step size the next step will use."""
        lr = as_schedule(self.lr, owner=self._owner())
        return lr(self.t) if isinstance(lr, Schedule) else lr

    # -- state ------------------------------------------------------------
    def zero_state(self):
        """Forget all state and reset the step count to 0."""
        self.t = 0
        self.state = {}

    reset = zero_state

    def _init_state(self, w):
        return {}

    def _check_state(self, pairs):
        """Check that existing state fits the arrays (shape changes are errors)."""
        new = {}
        for key, w, _ in pairs:
            st = self.state.get(key)
            if st is None:
                new[key] = self._init_state(w)
                continue
            for name, arr in st.items():
                if isinstance(arr, np.ndarray) and arr.ndim and arr.shape != w.shape:
                    raise ValueError(
                        f"{self._owner()}state {name!r} for params[{key!r}] has shape {arr.shape} "
                        f"but the array now has shape {w.shape}; call zero_state() first."
                    )
        return new

    # -- stepping ---------------------------------------------------------
    def step(self, params, grads):
        """Update ``params`` in place with the gradients ``grads``.

        Parameters
        ----------
        params : ndarray, dict of ndarray or list of ndarray
            Floating-point arrays, modified in place.
        grads : same structure as ``params``
            Gradients of the objective at ``params``; must be finite.
        """
        self._step(params, grads)

    def _step(self, params, grads, aux=None):
        self._check_params()
        pairs = pair_leaves(params, grads)
        if aux is not None:
            aux = self._check_aux(params, pairs, aux)
        lr = self.current_lr()
        t = self.t + 1
        new_state = self._check_state(pairs)
        self.state.update(new_state)
        self._apply(pairs, lr, t, aux)
        self.t = t

    def _check_aux(self, params, pairs, aux):  # pragma: no cover - overridden where used
        raise TypeError(f"{type(self).__name__}.step takes no extra arguments.")

    def _apply(self, pairs, lr, t, aux):
        for i, (key, w, g) in enumerate(pairs):
            extra = {} if aux is None else {"aux": aux[i]}
            self._update(w, g, self.state[key], lr, t, **extra)

    def _update(self, w, g, state, lr, t):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- misc ---------------------------------------------------------------
    def get_params(self):
        """Hyper-parameters as a dict (what ``__init__`` received)."""
        return {k: v for k, v in vars(self).items() if k not in ("t", "state") and not k.startswith("_")}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @classmethod
    def _unit_test_params(cls):
        """Keyword arguments for a small valid instance used by the common tests."""
        return {}

    @classmethod
    def _convergence_params(cls):
        """Keyword arguments (and an iteration budget) for the convergence test.

        Returns ``(kwargs, n_iter)``: with ``kwargs`` the optimizer must bring
        the gradient norm of the common test quadratic (condition number 10,
        gradient norm 1 at the start) below 1e-6 within ``n_iter`` steps.
        """
        return cls._unit_test_params(), 500


def all_optimizers():
    """Every concrete optimizer class defined in :mod:`ftrlx.optim`.

    Examples
    --------
    >>> from ftrlx.optim.base import all_optimizers
    >>> "Adam" in [cls.__name__ for cls in all_optimizers()]
    True
    """
    import ftrlx.optim  # noqa: F401  (registers every subclass)

    seen, out, todo = set(), [], list(Optimizer.__subclasses__())
    while todo:
        cls = todo.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("ftrlx.optim") and not cls.__name__.startswith("_"):
            out.append(cls)
    return sorted(out, key=lambda c: c.__name__)


def all_schedules():
    """Every concrete schedule class defined in :mod:`ftrlx.optim`."""
    import ftrlx.optim  # noqa: F401

    return sorted(
        (c for c in Schedule.__subclasses__() if c.__module__.startswith("ftrlx.optim")),
        key=lambda c: c.__name__,
    )
