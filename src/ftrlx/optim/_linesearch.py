"""The objective as :func:`~ftrlx.optim.minimize` sees it (counted evaluations, finite differences) and the line
searches of its methods; :func:`wolfe_line_search` is re-exported by :mod:`ftrlx.optim.minimize`."""

import math

import numpy as np


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
