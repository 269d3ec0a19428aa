"""The methods of :func:`~ftrlx.optim.minimize`, each run on the shared bookkeeping of :class:`_Run`, and the
:class:`OptimizeResult` they return (re-exported by :mod:`ftrlx.optim.minimize`, which stays its module)."""

import math

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ._linesearch import _backtracking, _exact_step, wolfe_line_search


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


def _norm(v):
    """The Euclidean norm of ``v``; where the sum of squares overflows although every entry is finite (a run
    escaping to infinity), computed scaled by the largest entry instead of as infinity with a warning."""
    with np.errstate(over="ignore"):
        norm = float(np.linalg.norm(v))
    if math.isinf(norm) and np.all(np.isfinite(v)):
        big = float(np.max(np.abs(v)))
        norm = big * float(np.linalg.norm(v / big))
    return norm


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
            return _norm(self.g)
        # Norm of the minimum-norm subgradient of f + l1 ||x||_1.
        sub = np.where(
            self.x != 0, self.g + self.l1 * np.sign(self.x), np.sign(self.g) * np.maximum(np.abs(self.g) - self.l1, 0.0)
        )
        return _norm(sub)

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
