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

import math
import numbers

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from .base import Optimizer

__all__ = ["minimize", "OptimizeResult", "wolfe_line_search"]

_METHODS = ("newton", "bfgs", "lbfgs", "steepest", "cg", "coordinate")


class OptimizeResult:
    """The outcome of :func:`minimize`.

    Attributes
    ----------
    x : ndarray
        Final iterate.
    fun : float
        Objective at ``x`` (including the L1 term for coordinate descent).
    jac : ndarray
        Gradient of the smooth part at ``x``.
    n_iter : int
        Number of iterations (updates of ``x``).
    n_fev, n_jev, n_hev : int
        Number of function, gradient and Hessian evaluations.
    success : bool
        Whether the gradient-norm tolerance was met.
    message : str
    trajectory : ndarray of shape (n_iter + 1, n)
        Every iterate, starting with ``x0``.
    fun_history : ndarray of shape (n_iter + 1,)
        Objective along the trajectory.
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self):
        return (
            f"OptimizeResult(success={self.success}, n_iter={self.n_iter}, fun={self.fun:.6g}, "
            f"message={self.message!r})"
        )


class _Problem:
    """Counts evaluations and supplies finite differences when derivatives are missing."""

    def __init__(self, fun, jac, hess):
        if not callable(fun):
            raise TypeError(f"fun must be callable, got {fun!r}.")
        if jac is not None and jac is not True and not callable(jac):
            raise TypeError(f"jac must be None, True or callable, got {jac!r}.")
        if hess is not None and not callable(hess):
            raise TypeError(f"hess must be None or callable, got {hess!r}.")
        self._fun, self._jac, self._hess = fun, jac, hess
        self.n_fev = self.n_jev = self.n_hev = 0

    # Overflow while evaluating a diverging run is reported through the
    # non-finite result (the run then stops with a "diverged" message).
    def f(self, x):
        self.n_fev += 1
        with np.errstate(over="ignore", invalid="ignore"):
            out = self._fun(x)
        return float(out[0] if self._jac is True else out)

    def fg(self, x):
        if self._jac is True:
            self.n_fev += 1
            self.n_jev += 1
            with np.errstate(over="ignore", invalid="ignore"):
                f, g = self._fun(x)
            return float(f), np.asarray(g, dtype=float).reshape(x.shape)
        return self.f(x), self.g(x)

    def g(self, x):
        if self._jac is True:
            return self.fg(x)[1]
        if self._jac is None:
            return self._fd_grad(x)
        self.n_jev += 1
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(self._jac(x), dtype=float).reshape(x.shape)

    def h(self, x):
        if self._hess is not None:
            self.n_hev += 1
            return np.asarray(self._hess(x), dtype=float).reshape(x.size, x.size)
        # Central differences of the gradient, symmetrised.
        n = x.size
        H = np.empty((n, n))
        for i in range(n):
            h = 1e-5 * max(1.0, abs(x[i]))
            e = np.zeros(n)
            e[i] = h
            H[:, i] = (self.g(x + e) - self.g(x - e)) / (2 * h)
        return (H + H.T) / 2

    def _fd_grad(self, x):
        g = np.empty_like(x)
        for i in range(x.size):
            h = 1e-7 * max(1.0, abs(x[i]))
            e = np.zeros_like(x)
            e[i] = h
            g[i] = (self.f(x + e) - self.f(x - e)) / (2 * h)
        return g


def wolfe_line_search(phi, f0, d0, *, alpha0=1.0, c1=1e-4, c2=0.9, max_iter=60, alpha_max=1e8):
    """Find a step satisfying the strong Wolfe conditions.

    Bracketing followed by zoom with safeguarded quadratic interpolation
    (Nocedal & Wright, *Numerical Optimization*, Alg. 3.5 and 3.6).

    Parameters
    ----------
    phi : callable
        ``phi(a)`` returns ``(f(x + a d), f'(x + a d) . d, extra)``, where
        ``extra`` is returned untouched for the accepted step.
    f0, d0 : float
        ``phi`` and its derivative at 0 (``d0 < 0``).
    alpha0 : float
        First trial step.
    c1, c2 : float
        Sufficient-decrease and curvature constants, ``0 < c1 < c2 < 1``.
    max_iter : int
        Most trial steps of the bracketing phase, and again of the zoom phase, before giving up.
    alpha_max : float
        Largest step; reached with sufficient decrease (the objective may be
        unbounded below along ``d``) it is returned as is.

    Returns
    -------
    (alpha, f, extra) or None
        ``None`` when no acceptable step was found.

    Examples
    --------
    Along ``phi(a) = (a - 2)**2`` the exact minimiser satisfies both conditions:

    >>> phi = lambda a: ((a - 2) ** 2, 2 * (a - 2), None)
    >>> a, f, _ = wolfe_line_search(phi, 4.0, -4.0, c2=0.1)
    >>> abs(2 * (a - 2)) <= 0.1 * 4.0
    True
    """
    if not d0 < 0:
        raise ValueError(f"the search direction must be a descent direction (slope {d0!r} >= 0).")
    if not 0 < c1 < c2 < 1:
        raise ValueError(f"need 0 < c1 < c2 < 1, got c1={c1!r}, c2={c2!r}.")

    lo_extra = []
    # Near a minimiser the decrease f(x + a d) - f(x) drops below the rounding
    # of f, so the sufficient-decrease test cannot be decided from f values.
    # Then a point satisfying the strong curvature condition whose value is
    # within rounding of f0 is accepted (the "approximate Wolfe" idea of
    # Hager & Zhang, 2005).
    f_slack = 1e-13 * abs(f0)

    def approx_ok(f_a, d_a):
        return f_a <= f0 + f_slack and abs(d_a) <= -c2 * d0

    def zoom(lo, hi, f_lo, f_hi, d_lo):
        for _ in range(max_iter):
            width = hi - lo
            denom = 2.0 * (f_hi - f_lo - d_lo * width)
            a = lo - d_lo * width * width / denom if denom > 0 else lo + width / 2
            # Keep the trial point well inside the bracket so it always shrinks.
            if not (min(lo, hi) + 0.1 * abs(width) <= a <= max(lo, hi) - 0.1 * abs(width)):
                a = lo + width / 2
            f_a, d_a, extra = phi(a)
            if approx_ok(f_a, d_a):
                return a, f_a, extra
            if f_a > f0 + c1 * a * d0 or f_a >= f_lo:
                hi, f_hi = a, f_a
            else:
                if abs(d_a) <= -c2 * d0:
                    return a, f_a, extra
                if d_a * (hi - lo) >= 0:
                    hi, f_hi = lo, f_lo
                lo, f_lo, d_lo = a, f_a, d_a
                lo_extra[:] = [extra]
            if abs(hi - lo) < 1e-16 * max(1.0, abs(lo)):
                break
        # The bracket collapsed (rounding near a minimiser): ``lo`` still gives
        # sufficient decrease, which is the best that can be certified.
        return (lo, f_lo, lo_extra[0]) if lo > 0 and lo_extra else None

    a_prev, f_prev, d_prev = 0.0, f0, d0
    a = alpha0
    for i in range(max_iter):
        f_a, d_a, extra = phi(a)
        if math.isfinite(f_a) and approx_ok(f_a, d_a):
            return a, f_a, extra
        if not math.isfinite(f_a) or f_a > f0 + c1 * a * d0 or (i > 0 and f_a >= f_prev):
            if not math.isfinite(f_a):
                f_a = math.inf
                # An overflow tells us only that the step is too long: shrink into the bracket.
                return zoom(a_prev, a, f_prev, f_a, d_prev) if a > a_prev else None
            return zoom(a_prev, a, f_prev, f_a, d_prev)
        if abs(d_a) <= -c2 * d0:
            return a, f_a, extra
        if d_a >= 0:
            return zoom(a, a_prev, f_a, f_prev, d_a)
        if a >= alpha_max:
            return a, f_a, extra
        a_prev, f_prev, d_prev = a, f_a, d_a
        lo_extra[:] = [extra]
        a = min(2.0 * a, alpha_max)
    return None


def _backtracking(prob, x, f, g, d, alpha=1.0, c1=1e-4, shrink=0.5, max_iter=60):
    slope = float(g @ d)
    for _ in range(max_iter):
        x_new = x + alpha * d
        f_new = prob.f(x_new)
        if math.isfinite(f_new) and f_new <= f + c1 * alpha * slope:
            return alpha, x_new, f_new
        alpha *= shrink
    return None


def _exact_step(prob, x, g, d):
    """Exact minimiser along d of the local quadratic model (exact for quadratics)."""
    curv = float(d @ prob.h(x) @ d)
    if curv <= 0:
        return None
    return -float(g @ d) / curv


def _soft(v, a):
    return np.sign(v) * np.maximum(np.abs(v) - a, 0.0)


class _Run:
    """Bookkeeping shared by every method: trajectory, counters, stopping."""

    def __init__(self, prob, x0, tol, max_iter, callback, l1=0.0):
        self.prob, self.tol, self.max_iter, self.callback, self.l1 = prob, tol, max_iter, callback, l1
        self.x = x0.copy()
        self.f, self.g = prob.fg(self.x)
        self.traj, self.fhist = [self.x.copy()], [self._total(self.f, self.x)]
        self.n_iter = 0

    def _total(self, f, x):
        return f + self.l1 * float(np.abs(x).sum()) if self.l1 else f

    def gnorm(self):
        if not self.l1:
            return float(np.linalg.norm(self.g))
        # Norm of the minimum-norm subgradient of f + l1 ||x||_1.
        sub = np.where(
            self.x != 0, self.g + self.l1 * np.sign(self.x), np.sign(self.g) * np.maximum(np.abs(self.g) - self.l1, 0.0)
        )
        return float(np.linalg.norm(sub))

    def converged(self):
        return self.gnorm() <= self.tol

    def accept(self, x, f=None, g=None):
        self.x = x
        if f is None or g is None:
            self.f, self.g = self.prob.fg(x)
        else:
            self.f, self.g = f, g
        self.n_iter += 1
        self.traj.append(x.copy())
        self.fhist.append(self._total(self.f, x))
        if self.callback is not None:
            self.callback(x.copy())

    def result(self, success, message):
        return OptimizeResult(
            x=self.x,
            fun=self._total(self.f, self.x),
            jac=self.g,
            n_iter=self.n_iter,
            n_fev=self.prob.n_fev,
            n_jev=self.prob.n_jev,
            n_hev=self.prob.n_hev,
            success=bool(success),
            message=message,
            trajectory=np.array(self.traj),
            fun_history=np.array(self.fhist),
        )

    def loop(self, next_point):
        """Call ``next_point()`` until convergence; it returns (x, f, g) or a failure message."""
        while True:
            if self.converged():
                return self.result(True, f"gradient norm {self.gnorm():.3g} <= tol {self.tol:g}")
            if self.n_iter >= self.max_iter:
                return self.result(False, f"max_iter={self.max_iter} reached (gradient norm {self.gnorm():.3g})")
            # Runs that escape to infinity (e.g. on an unbounded objective)
            # overflow; that is reported by the checks below, not as warnings.
            with np.errstate(over="ignore", invalid="ignore"):
                out = next_point()
            if isinstance(out, str):
                return self.result(False, out)
            self.accept(*out)
            if not (math.isfinite(self.f) and np.all(np.isfinite(self.g))):
                return self.result(False, "the iterates diverged (non-finite objective or gradient)")


def _run_optimizer(run, optimizer):
    def next_point():
        x = run.x.copy()
        optimizer.step(x, run.g)
        return (x,)

    return run.loop(next_point)


def _run_newton(run, damping, line_search):
    n = run.x.size
    beta = 1e-3

    def next_point():
        H = run.prob.h(run.x) + damping * np.eye(n)
        diag_min = float(np.min(np.diag(H)))
        tau = 0.0 if diag_min > 0 else beta - diag_min
        for _ in range(100):
            try:
                factor = cho_factor(H + tau * np.eye(n))
                break
            except LinAlgError:
                tau = max(2.0 * tau, beta)
        else:
            return "could not make the Hessian positive definite"
        d = -cho_solve(factor, run.g)
        if line_search is None:
            return (run.x + d,)
        out = _backtracking(run.prob, run.x, run.f, run.g, d)
        if out is None:
            return "backtracking failed to decrease the objective"
        return (out[1],)

    return run.loop(next_point)


def _wolfe_step(run, d, alpha0, c2):
    x, prob = run.x, run.prob

    def phi(a):
        xa = x + a * d
        f, g = prob.fg(xa)
        return f, float(g @ d), (xa, g)

    slope = float(run.g @ d)
    if not (math.isfinite(slope) and slope < 0):
        return None
    found = wolfe_line_search(phi, run.f, slope, alpha0=alpha0, c2=c2)
    if found is None:
        return None
    a, f, (xa, g) = found
    return a, xa, f, g


def _run_quasi_newton(run, limited, memory):
    n = run.x.size
    state = {"H": None, "pairs": []}

    def direction():
        g = run.g
        if limited:
            q = g.copy()
            alphas = []
            for s, y, rho in reversed(state["pairs"]):
                a = rho * (s @ q)
                alphas.append(a)
                q -= a * y
            if state["pairs"]:
                s, y, _ = state["pairs"][-1]
                q *= (s @ y) / (y @ y)
            for (s, y, rho), a in zip(state["pairs"], reversed(alphas)):
                b = rho * (y @ q)
                q += (a - b) * s
            return -q
        return -(g if state["H"] is None else state["H"] @ g)

    def next_point():
        d = direction()
        if not float(run.g @ d) < 0:  # lost descent through rounding: restart from -g
            state["H"], state["pairs"] = None, []
            d = -run.g
        first = state["H"] is None and not state["pairs"]
        alpha0 = min(1.0, 1.0 / float(np.linalg.norm(run.g))) if first else 1.0
        step = _wolfe_step(run, d, alpha0, 0.9)
        if step is None and not first:  # a stale curvature model: restart along -g
            state["H"], state["pairs"] = None, []
            d = -run.g
            step = _wolfe_step(run, d, min(1.0, 1.0 / float(np.linalg.norm(run.g))), 0.9)
        if step is None:
            return "the line search found no step satisfying the Wolfe conditions"
        _, x_new, f_new, g_new = step
        s, y = x_new - run.x, g_new - run.g
        sy = float(s @ y)
        if sy > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            rho = 1.0 / sy
            if limited:
                state["pairs"] = (state["pairs"] + [(s, y, rho)])[-memory:]
            else:
                H = state["H"]
                if H is None:  # scale the first approximation (Nocedal & Wright eq. 6.20)
                    H = (sy / float(y @ y)) * np.eye(n)
                V = np.eye(n) - rho * np.outer(s, y)
                state["H"] = V @ H @ V.T + rho * np.outer(s, s)
        return x_new, f_new, g_new

    return run.loop(next_point)


def _run_steepest(run, line_search):
    state = {"alpha": 1.0}

    def next_point():
        d = -run.g
        if line_search == "exact":
            a = _exact_step(run.prob, run.x, run.g, d)
            if a is None:
                return "exact line search needs positive curvature along -g"
            return (run.x + a * d,)
        if line_search == "wolfe":
            step = _wolfe_step(run, d, state["alpha"], 0.9)
            if step is None:
                return "the line search found no step satisfying the Wolfe conditions"
            state["alpha"] = 2.0 * step[0]
            return step[1:]
        out = _backtracking(run.prob, run.x, run.f, run.g, d, alpha=state["alpha"])
        if out is None:
            return "backtracking failed to decrease the objective"
        state["alpha"] = 2.0 * out[0]  # try a longer step next time
        return out[1], out[2], None

    return run.loop(next_point)


def _run_cg(run, beta_rule, restart, line_search):
    n = run.x.size
    restart = n if restart is None else restart
    state = {"d": None, "g": None, "k": 0, "alpha": None}

    def next_point():
        g = run.g
        d_prev, g_prev = state["d"], state["g"]
        if d_prev is None or state["k"] % restart == 0:
            d = -g
        else:
            gg = float(g_prev @ g_prev)
            beta = float(g @ g) / gg if beta_rule == "fr" else max(float((g - g_prev) @ g) / gg, 0.0)
            d = -g + beta * d_prev
            if float(g @ d) >= 0:
                d = -g
        if line_search == "exact":
            a = _exact_step(run.prob, run.x, g, d)
            if a is None:
                return "exact line search needs positive curvature along d"
            out = (run.x + a * d,)
        else:
            # Initial trial step from the previous one (Nocedal & Wright eq. 3.60).
            alpha0 = (
                min(1.0, 1.0 / float(np.linalg.norm(g)))
                if state["alpha"] is None
                else state["alpha"] * float(g_prev @ d_prev) / float(g @ d)
            )
            step = _wolfe_step(run, d, alpha0, 0.1)
            if step is None:
                return "the line search found no step satisfying the Wolfe conditions"
            state["alpha"] = step[0]
            out = step[1:]
        state["d"], state["g"], state["k"] = d, g, state["k"] + 1
        return out

    return run.loop(next_point)


def _run_coordinate(run, l1):
    n = run.x.size

    def next_point():
        x = run.x.copy()
        diag = np.diag(run.prob.h(x)).copy()
        if np.any(diag <= 0):
            return "coordinate descent needs a positive Hessian diagonal"
        for i in range(n):
            gi = run.prob.g(x)[i]
            v = x[i] - gi / diag[i]
            x[i] = _soft(v, l1 / diag[i]) if l1 else v
        return (x,)

    return run.loop(next_point)


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
