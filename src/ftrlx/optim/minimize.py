"""``minimize``: second-order and line-search methods, and a driver for any
first-order :class:`~ftrlx.optim.Optimizer`.

Methods (``method=``):

``"newton"``
    ``x <- x - a (H + damping I)^{-1} g`` solved by Cholesky; if the damped
    Hessian is not positive definite a multiple of the identity is added
    until it is (Nocedal & Wright, Alg. 3.3), then a backtracking step.
``"bfgs"``, ``"lbfgs"``
    Quasi-Newton with a strong-Wolfe line search; L-BFGS keeps ``memory``
    pairs and uses the two-loop recursion with ``M0 = gamma I``,
    ``gamma = s'y / y'y``.
``"steepest"``
    ``d = -g`` with ``line_search`` in {"exact", "backtracking", "wolfe"};
    "exact" is ``a = g'g / g'Hg``, the exact minimiser along ``d`` for a
    quadratic (successive directions are then orthogonal).
``"cg"``
    Nonlinear conjugate gradient, ``beta`` "fr" (Fletcher-Reeves) or "pr+"
    (Polak-Ribiere, clipped at 0), restart every ``restart`` iterations
    (default ``n``), ``line_search`` "wolfe" or "exact" (quadratics).
``"coordinate"``
    Cyclic coordinate descent; one iteration is a sweep over all coordinates,
    each moved by ``-g_i / H_ii`` (the exact minimiser for a quadratic) or,
    with ``l1 > 0``, to ``soft(x_i - g_i/H_ii, l1/H_ii)``, which minimises
    ``f + l1 ||x||_1`` exactly per coordinate for a quadratic ``f`` (lasso).
an :class:`~ftrlx.optim.Optimizer`
    ``optimizer.step(x, grad(x))`` repeated.

Every method stops when ``||grad||_2 <= tol`` (success) or after
``max_iter`` iterations.
"""

import numbers

import numpy as np

from ._linesearch import _Problem
from ._linesearch import wolfe_line_search as wolfe_line_search
from ._methods import (
    OptimizeResult,
    _Run,
    _run_cg,
    _run_coordinate,
    _run_newton,
    _run_optimizer,
    _run_quasi_newton,
    _run_steepest,
)
from .base import Optimizer

__all__ = ["minimize", "OptimizeResult", "wolfe_line_search"]

_METHODS = ("newton", "bfgs", "lbfgs", "steepest", "cg", "coordinate")

# The classes and functions that moved keep ftrlx.optim.minimize as their module (the documented one, and the
# one pickles of a result record).
for _obj in (OptimizeResult, wolfe_line_search):
    _obj.__module__ = __name__
del _obj


def minimize(
    fun,
    x0,
    jac=None,
    hess=None,
    method="bfgs",
    *,
    tol=1e-6,
    max_iter=1000,
    callback=None,
    damping=0.0,
    line_search=None,
    memory=10,
    beta="pr+",
    restart=None,
    l1=0.0,
):
    """Minimise a smooth function with a second-order, line-search or first-order method.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``, or ``(float, gradient)`` when ``jac=True``.
    x0 : array-like of shape (n,)
        Starting point (not modified).
    jac : callable, True or None
        Gradient; ``None`` uses central finite differences.
    hess : callable or None
        Hessian (``newton``, exact line searches, ``coordinate``); ``None``
        uses finite differences of the gradient.
    method : str or Optimizer, default="bfgs"
        One of "newton", "bfgs", "lbfgs", "steepest", "cg", "coordinate", or an
        optimizer object, which is stepped in place (its state carries over).
    tol : float, default=1e-6
        Stop when the Euclidean norm of the gradient (of the minimum-norm
        subgradient with ``l1``) is at most ``tol``.
    max_iter : int, default=1000
    callback : callable, optional
        Called with a copy of each new iterate.
    damping : float, default=0
        Newton's ``alpha`` in ``H + alpha I``.
    line_search : str or None
        Newton: "backtracking" (default) or "none" for full steps; steepest:
        "backtracking" (default), "exact" or "wolfe"; cg: "wolfe" (default)
        or "exact".
    memory : int, default=10
        L-BFGS pairs.
    beta : {"pr+", "fr"}, default="pr+"
        Conjugate-gradient formula.
    restart : int, optional
        CG restarts with ``-g`` every ``restart`` iterations (default ``n``).
    l1 : float, default=0
        L1 penalty for ``coordinate``.

    Returns
    -------
    OptimizeResult

    Examples
    --------
    >>> import numpy as np
    >>> from ftrlx.optim import Rosenbrock, Adam
    >>> f = Rosenbrock()
    >>> res = minimize(f, f.x0, jac=f.grad, method="bfgs", tol=1e-8)
    >>> res.success, np.round(res.x, 6)
    (True, array([1., 1.]))
    >>> res = minimize(f, f.x0, jac=f.grad, method=Adam(lr=0.02), max_iter=50)
    >>> res.n_iter, res.trajectory.shape
    (50, (51, 2))
    """
    x0 = np.array(x0, dtype=float)
    _check_options(x0, tol, max_iter, damping, l1, method, beta, restart, memory)
    line_search = _line_search_for(method, line_search)
    run = _Run(_Problem(fun, jac, hess), x0, float(tol), int(max_iter), callback, float(l1))
    if isinstance(method, Optimizer):
        return _run_optimizer(run, method)
    if method == "newton":
        return _run_newton(run, float(damping), None if line_search == "none" else line_search)
    if method in ("bfgs", "lbfgs"):
        return _run_quasi_newton(run, method == "lbfgs", int(memory))
    if method == "steepest":
        return _run_steepest(run, line_search)
    if method == "cg":
        return _run_cg(run, beta, restart, line_search)
    return _run_coordinate(run, float(l1))


def _check_options(x0, tol, max_iter, damping, l1, method, beta, restart, memory):
    """A ValueError naming the first argument of :func:`minimize` out of its range."""
    if x0.ndim != 1 or x0.size == 0:
        raise ValueError(f"x0 must be a non-empty 1-D array, got shape {x0.shape}.")
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 contains non-finite values.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 0:
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}.")
    if not (isinstance(tol, numbers.Real) and tol >= 0):
        raise ValueError(f"tol must be a number >= 0, got {tol!r}.")
    if not (isinstance(damping, numbers.Real) and damping >= 0):
        raise ValueError(f"damping must be >= 0, got {damping!r}.")
    if not (isinstance(l1, numbers.Real) and l1 >= 0):
        raise ValueError(f"l1 must be >= 0, got {l1!r}.")
    if l1 and method != "coordinate":
        raise ValueError(f"l1 is only supported by method='coordinate', not {method!r}.")
    if beta not in ("pr+", "fr"):
        raise ValueError(f"beta must be 'pr+' or 'fr', got {beta!r}.")
    if restart is not None and (isinstance(restart, bool) or not isinstance(restart, numbers.Integral) or restart < 1):
        raise ValueError(f"restart must be an integer >= 1, got {restart!r}.")
    if isinstance(memory, bool) or not isinstance(memory, numbers.Integral) or memory < 1:
        raise ValueError(f"memory must be an integer >= 1, got {memory!r}.")


def _line_search_for(method, line_search):
    """The line search a method uses (its default for None); a ValueError for one it has not, or for a method
    that is not one of :func:`minimize`'s."""
    searches = {
        "newton": ("backtracking", "none"),
        "steepest": ("backtracking", "exact", "wolfe"),
        "cg": ("wolfe", "exact"),
    }
    if isinstance(method, str) and method in searches:
        line_search = searches[method][0] if line_search is None else line_search
        if line_search not in searches[method]:
            raise ValueError(f"line_search for {method!r} must be one of {searches[method]}, got {line_search!r}.")
    elif line_search is not None:
        raise ValueError(f"line_search is not used by method={method!r}.")
    if not isinstance(method, Optimizer) and method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS} or an ftrlx.optim Optimizer, got {method!r}.")
    return line_search
