"""Classic test objectives with value, gradient and Hessian.

Each objective is a callable ``f(x)`` with ``grad(x)``, ``hess(x)``, a
suggested start ``x0``, the minimiser ``xmin`` and value ``fmin`` when they
exist, and plotting limits ``xlim``/``ylim`` for the 2-D ones.
"""

import math

import numpy as np

__all__ = [
    "Objective",
    "Quadratic",
    "ill_conditioned_quadratic",
    "Rosenbrock",
    "Saddle",
    "Beale",
    "standard_objectives",
]


class Objective:
    """Base class: a smooth function with gradient and Hessian.

    Attributes
    ----------
    name : str
    x0 : ndarray
        Suggested starting point.
    xmin : ndarray or None
        A minimiser (``None`` when the function is unbounded below).
    fmin : float
        Minimum value (``-inf`` when unbounded below).
    xlim, ylim : (float, float)
        Plotting window for 2-D objectives.
    """

    name = "objective"
    xmin = None
    fmin = -math.inf
    xlim = ylim = (-2.0, 2.0)

    def __call__(self, x):
        return float(self.fun(np.asarray(x, dtype=float)))

    def fun(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def grad(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def hess(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def reached(self, x, tol):
        """Whether ``x`` is within ``tol`` of the optimum in objective value.

        For an objective unbounded below this means ``f(x) <= escape_value``.
        """
        f = self(x)
        if math.isfinite(self.fmin):
            return f - self.fmin <= tol
        return f <= self.escape_value

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"


class Quadratic(Objective):
    """``f(x) = x'Qx / 2 - b'x`` with symmetric positive definite ``Q``.

    Parameters
    ----------
    Q : array of shape (n, n)
    b : array of shape (n,), optional
        Defaults to zeros.
    x0 : array of shape (n,), optional
        Defaults to ones.
    name : str, optional

    Examples
    --------
    >>> import numpy as np
    >>> q = Quadratic(np.diag([1.0, 4.0]), b=np.array([1.0, 4.0]))
    >>> q.xmin, q.fmin
    (array([1., 1.]), -2.5)
    >>> q.grad(np.zeros(2))
    array([-1., -4.])
    """

    def __init__(self, Q, b=None, x0=None, name="quadratic"):
        Q = np.array(Q, dtype=float)
        if Q.ndim != 2 or Q.shape[0] != Q.shape[1] or not np.allclose(Q, Q.T):
            raise ValueError(f"Q must be a symmetric square matrix, got shape {Q.shape}.")
        n = Q.shape[0]
        self.Q = Q
        self.b = np.zeros(n) if b is None else np.array(b, dtype=float).reshape(n)
        self.x0 = np.ones(n) if x0 is None else np.array(x0, dtype=float).reshape(n)
        self.name = name
        self.xmin = np.linalg.solve(Q, self.b)
        self.fmin = float(self.fun(self.xmin))
        r = 1.5 * max(1.0, float(np.max(np.abs(self.x0 - self.xmin))))
        self.xlim = (self.xmin[0] - r, self.xmin[0] + r)
        self.ylim = (self.xmin[-1] - r, self.xmin[-1] + r)

    def fun(self, x):
        return 0.5 * x @ self.Q @ x - self.b @ x

    def grad(self, x):
        return self.Q @ x - self.b

    def hess(self, x):
        return self.Q.copy()


def ill_conditioned_quadratic(condition=20.0, angle=math.pi / 6, x0=(-4.0, 2.0)):
    """A 2-D quadratic with eigenvalues ``1`` and ``condition``, axes rotated by ``angle``.

    Examples
    --------
    >>> import numpy as np
    >>> q = ill_conditioned_quadratic(condition=10.0)
    >>> np.round(np.linalg.eigvalsh(q.Q), 12)
    array([ 1., 10.])
    """
    if not condition >= 1:
        raise ValueError(f"condition must be >= 1, got {condition!r}.")
    c, s = math.cos(angle), math.sin(angle)
    R = np.array([[c, -s], [s, c]])
    Q = R @ np.diag([1.0, float(condition)]) @ R.T
    q = Quadratic((Q + Q.T) / 2, x0=x0, name="ill-conditioned quadratic")
    q.xlim, q.ylim = (-5.0, 5.0), (-5.0, 5.0)
    return q


class Rosenbrock(Objective):
    """``f(x) = sum_i b (x_{i+1} - x_i**2)**2 + (a - x_i)**2`` (n >= 2 dimensions).

    Examples
    --------
    >>> import numpy as np
    >>> r = Rosenbrock()
    >>> r(r.x0), r.grad(r.xmin)
    (24.2, array([0., 0.]))
    """

    name = "Rosenbrock"
    xlim = (-2.0, 2.0)
    ylim = (-1.0, 3.0)

    def __init__(self, a=1.0, b=100.0, n=2):
        if n < 2:
            raise ValueError(f"n must be >= 2, got {n!r}.")
        self.a, self.b, self.n = float(a), float(b), int(n)
        self.x0 = np.array([-1.2, 1.0] * (n // 2) + [-1.2] * (n % 2))
        self.xmin = np.full(n, self.a)
        self.fmin = 0.0

    def fun(self, x):
        return float(np.sum(self.b * (x[1:] - x[:-1] ** 2) ** 2 + (self.a - x[:-1]) ** 2))

    def grad(self, x):
        g = np.zeros_like(x, dtype=float)
        inner = x[1:] - x[:-1] ** 2
        g[:-1] += -4.0 * self.b * x[:-1] * inner - 2.0 * (self.a - x[:-1])
        g[1:] += 2.0 * self.b * inner
        return g

    def hess(self, x):
        n = x.shape[0]
        H = np.zeros((n, n))
        idx = np.arange(n - 1)
        H[idx, idx] += 12.0 * self.b * x[:-1] ** 2 - 4.0 * self.b * x[1:] + 2.0
        H[idx + 1, idx + 1] += 2.0 * self.b
        H[idx, idx + 1] = H[idx + 1, idx] = -4.0 * self.b * x[:-1]
        return H


class Saddle(Objective):
    """``f(x, y) = x**2 - y**2``: a saddle at the origin, unbounded below.

    ``reached`` means escaping the saddle: ``f <= escape_value`` (default -1).

    Examples
    --------
    >>> import numpy as np
    >>> s = Saddle()
    >>> s.grad(np.array([1.0, 2.0])), s.hess(np.zeros(2))
    (array([ 2., -4.]), array([[ 2.,  0.],
           [ 0., -2.]]))
    """

    name = "saddle"
    xlim = (-1.5, 1.5)
    ylim = (-1.5, 1.5)

    def __init__(self, x0=(1.0, 1e-3), escape_value=-1.0):
        self.x0 = np.array(x0, dtype=float)
        self.escape_value = float(escape_value)

    def fun(self, x):
        return x[0] ** 2 - x[1] ** 2

    def grad(self, x):
        return np.array([2.0 * x[0], -2.0 * x[1]])

    def hess(self, x):
        return np.diag([2.0, -2.0])


class Beale(Objective):
    """Beale's function, minimum 0 at (3, 0.5).

    ``f = (1.5 - x + xy)**2 + (2.25 - x + xy**2)**2 + (2.625 - x + xy**3)**2``.

    Examples
    --------
    >>> import numpy as np
    >>> b = Beale()
    >>> b(b.xmin), b.grad(b.xmin)
    (0.0, array([0., 0.]))
    """

    name = "Beale"
    xlim = (-1.0, 4.5)
    ylim = (-1.5, 2.0)
    _C = (1.5, 2.25, 2.625)

    def __init__(self, x0=(1.0, 1.5)):
        self.x0 = np.array(x0, dtype=float)
        self.xmin = np.array([3.0, 0.5])
        self.fmin = 0.0

    def _terms(self, x):
        u, v = x
        return [c - u + u * v**k for k, c in enumerate(self._C, start=1)]

    def fun(self, x):
        return float(sum(t * t for t in self._terms(x)))

    def grad(self, x):
        u, v = x
        ts = self._terms(x)
        gx = sum(2.0 * t * (v**k - 1.0) for k, t in enumerate(ts, start=1))
        gy = sum(2.0 * t * k * u * v ** (k - 1) for k, t in enumerate(ts, start=1))
        return np.array([gx, gy])

    def hess(self, x):
        u, v = x
        hxx = hxy = hyy = 0.0
        for k, t in enumerate(self._terms(x), start=1):
            dx, dy = v**k - 1.0, k * u * v ** (k - 1)  # partial derivatives of the term
            dxy = k * v ** (k - 1)
            dyy = k * (k - 1) * u * v ** (k - 2) if k > 1 else 0.0
            hxx += 2.0 * dx * dx
            hxy += 2.0 * (dx * dy + t * dxy)
            hyy += 2.0 * (dy * dy + t * dyy)
        return np.array([[hxx, hxy], [hxy, hyy]])


def standard_objectives():
    """The four 2-D objectives used by the figures and the iteration table.

    Examples
    --------
    >>> [o.name for o in standard_objectives()]
    ['ill-conditioned quadratic', 'Rosenbrock', 'saddle', 'Beale']
    """
    return [ill_conditioned_quadratic(), Rosenbrock(), Saddle(), Beale()]
