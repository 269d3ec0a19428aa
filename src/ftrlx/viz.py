"""Pictures and tables of optimizer behaviour on 2-D test functions.

Matplotlib is imported inside the plotting functions, so ``import ftrlx.viz``
works without it; plotting then raises an ImportError that says how to
install it (``pip install "ftrlx[viz]"``).  :func:`iterations_table` needs
neither matplotlib nor pandas (it returns a DataFrame when pandas is present).
"""

import copy
import math

import numpy as np

from .optim import (
    SGD,
    AdaDelta,
    AdaGrad,
    Adam,
    AdaMax,
    AMSGrad,
    DeltaBarDelta,
    NAdam,
    Optimizer,
    RMSProp,
    minimize,
    standard_objectives,
)

__all__ = [
    "default_optimizers",
    "run_optimizers",
    "plot_trajectories",
    "plot_loss_curves",
    "plot_optimizers",
    "iterations_table",
    "table_to_markdown",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ImportError('ftrlx.viz needs matplotlib for plotting; install it with pip install "ftrlx[viz]"') from exc
    return plt


# Step sizes per objective for the first-order methods (chosen so that each
# method makes visible progress without diverging on the standard start).
_LR = {
    #             quadratic, Rosenbrock, saddle, Beale
    "GD": (0.09, 1.5e-3, 0.1, 0.01),
    "Momentum": (0.02, 3e-4, 0.02, 2e-3),
    "Nesterov": (0.02, 3e-4, 0.02, 2e-3),
    "AdaGrad": (1.0, 0.5, 0.5, 0.5),
    "RMSProp": (0.05, 0.01, 0.05, 0.01),
    "AdaDelta": (1.0, 1.0, 1.0, 1.0),
    "Adam": (0.1, 0.05, 0.05, 0.05),
    "AMSGrad": (0.1, 0.05, 0.05, 0.05),
    "NAdam": (0.1, 0.05, 0.05, 0.05),
    "AdaMax": (0.1, 0.05, 0.05, 0.05),
    "DeltaBarDelta": (0.02, 3e-4, 0.02, 2e-3),
}
_BUILD = {
    "GD": lambda lr: SGD(lr=lr),
    "Momentum": lambda lr: SGD(lr=lr, momentum=0.9),
    "Nesterov": lambda lr: SGD(lr=lr, momentum=0.9, nesterov=True),
    "AdaGrad": lambda lr: AdaGrad(lr=lr),
    "RMSProp": lambda lr: RMSProp(lr=lr, alpha=0.9),
    "AdaDelta": lambda lr: AdaDelta(lr=lr, rho=0.95, eps=1e-3),
    "Adam": lambda lr: Adam(lr=lr),
    "AMSGrad": lambda lr: AMSGrad(lr=lr),
    "NAdam": lambda lr: NAdam(lr=lr),
    "AdaMax": lambda lr: AdaMax(lr=lr),
    "DeltaBarDelta": lambda lr: DeltaBarDelta(lr=lr),
}
_COLUMN = {"ill-conditioned quadratic": 0, "Rosenbrock": 1, "saddle": 2, "Beale": 3}


def default_optimizers():
    """The optimizers compared by the figures and the table.

    Returns
    -------
    dict
        Name to spec; a spec is an :class:`~ftrlx.optim.Optimizer`, a
        :func:`~ftrlx.optim.minimize` method name, a dict of ``minimize``
        keyword arguments, or a callable ``spec(objective)`` returning one of
        those (used here to pick a step size per objective).

    Examples
    --------
    >>> specs = default_optimizers()
    >>> "BFGS" in specs and "Adam" in specs
    True
    """
    specs = {}
    for name, build in _BUILD.items():

        def spec(objective, name=name, build=build):
            return build(_LR[name][_COLUMN.get(objective.name, 0)])

        specs[name] = spec
    specs.update(
        {
            "CG (PR+)": {"method": "cg"},
            "BFGS": {"method": "bfgs"},
            "L-BFGS": {"method": "lbfgs"},
            "Newton": {"method": "newton"},
        }
    )
    return specs


def _resolve(spec, objective):
    if callable(spec) and not isinstance(spec, Optimizer):
        spec = spec(objective)
    if isinstance(spec, Optimizer):
        opt = copy.deepcopy(spec)
        opt.zero_state()
        return {"method": opt}
    if isinstance(spec, str):
        return {"method": spec}
    if isinstance(spec, dict) and "method" in spec:
        return dict(spec)
    raise TypeError(f"an optimizer spec must be an Optimizer, a method name or a dict with 'method', got {spec!r}.")


def run_optimizers(objective, optimizers=None, *, max_iter=200, tol=1e-10):
    """Run every optimizer from ``objective.x0``.

    Parameters
    ----------
    objective : ftrlx.optim.Objective
    optimizers : dict, optional
        Name to spec (see :func:`default_optimizers`); optimizer objects are
        copied, never stepped.
    max_iter : int, default=200
    tol : float, default=1e-10
        Gradient-norm tolerance passed to :func:`~ftrlx.optim.minimize`.

    Returns
    -------
    dict
        Name to :class:`~ftrlx.optim.OptimizeResult`.

    Examples
    --------
    >>> from ftrlx.optim import Rosenbrock
    >>> res = run_optimizers(Rosenbrock(), {"BFGS": "bfgs"}, max_iter=100)
    >>> bool(res["BFGS"].success)
    True
    """
    optimizers = default_optimizers() if optimizers is None else optimizers
    out = {}
    for name, spec in optimizers.items():
        kw = _resolve(spec, objective)
        out[name] = minimize(
            objective, objective.x0, jac=objective.grad, hess=objective.hess, max_iter=max_iter, tol=tol, **kw
        )
    return out


def _levels(objective, Z):
    if math.isfinite(objective.fmin):
        lo = max(float(np.min(Z)) - objective.fmin, 1e-3)
        return objective.fmin + np.logspace(math.log10(lo), math.log10(float(np.max(Z)) - objective.fmin), 25)
    return np.linspace(float(np.min(Z)), float(np.max(Z)), 25)


def _axes_and_runs(ax, results):
    """The Axes to draw on (a new figure's when ``ax`` is None) and ``(name, result, colour)`` of each run."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    colors = plt.get_cmap("tab20")
    return ax, [(name, res, colors(i % 20)) for i, (name, res) in enumerate(results.items())]


def _finish(ax, legend):
    if legend:
        ax.legend(fontsize=6, loc="best", ncol=2)
    return ax


def plot_trajectories(objective, results, ax=None, *, resolution=200, legend=True):
    """Draw the iterates of each run over the contour plot of a 2-D objective.

    Parameters
    ----------
    objective : ftrlx.optim.Objective
        A 2-D objective with ``xlim``/``ylim``.
    results : dict
        Name to :class:`~ftrlx.optim.OptimizeResult` (from :func:`run_optimizers`).
    ax : matplotlib Axes, optional
    resolution : int, default=200
        Grid points per axis for the contours.
    legend : bool, default=True

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from ftrlx.optim import Beale
    >>> ax = plot_trajectories(Beale(), run_optimizers(Beale(), {"BFGS": "bfgs"}))
    >>> ax.get_title()
    'Beale'
    """
    ax, runs = _axes_and_runs(ax, results)
    xs = np.linspace(*objective.xlim, resolution)
    ys = np.linspace(*objective.ylim, resolution)
    X, Y = np.meshgrid(xs, ys)
    Z = np.vectorize(lambda a, b: objective(np.array([a, b])))(X, Y)
    ax.contour(X, Y, Z, levels=_levels(objective, Z), cmap="Greys", linewidths=0.6, alpha=0.8)
    for name, res, color in runs:
        path = res.trajectory
        ax.plot(path[:, 0], path[:, 1], "-", lw=1.2, color=color, label=name)
        ax.plot(path[-1, 0], path[-1, 1], "o", ms=3, color=color)
    ax.plot(*objective.x0, "k^", ms=6)
    if objective.xmin is not None:
        ax.plot(*objective.xmin, "r*", ms=10)
    ax.set_xlim(*objective.xlim)
    ax.set_ylim(*objective.ylim)
    ax.set_title(objective.name)
    return _finish(ax, legend)


def plot_loss_curves(objective, results, ax=None, *, legend=True):
    """Plot the objective gap ``f(x_k) - f*`` (or ``f(x_k)`` when unbounded) against ``k``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from ftrlx.optim import Rosenbrock
    >>> ax = plot_loss_curves(Rosenbrock(), run_optimizers(Rosenbrock(), {"L-BFGS": "lbfgs"}))
    >>> ax.get_yscale()
    'log'
    """
    ax, runs = _axes_and_runs(ax, results)
    bounded = math.isfinite(objective.fmin)
    for name, res, color in runs:
        f = np.asarray(res.fun_history, dtype=float)
        y = np.maximum(f - objective.fmin, 1e-16) if bounded else f
        ax.plot(np.arange(len(y)), y, lw=1.2, color=color, label=name)
    if bounded:
        ax.set_yscale("log")
        ax.set_ylabel("f(x_k) - f*")
    else:
        # Unbounded below: show the approach to the escape level, not the runaway values.
        f0 = float(objective(objective.x0))
        ax.set_ylim(2.0 * objective.escape_value, max(f0, 0.0) + 0.5)
        ax.axhline(objective.escape_value, color="k", lw=0.6, ls=":")
        ax.set_ylabel("f(x_k)")
    ax.set_xlabel("iteration k")
    ax.set_title(f"{objective.name}: loss")
    return _finish(ax, legend)


def plot_optimizers(objectives=None, optimizers=None, *, max_iter=200, figsize=None, resolution=200):
    """All optimizers on all objectives in one figure: contours and loss curves.

    One row per objective; the left panel shows trajectories over the
    contours, the right panel the loss against the iteration.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from ftrlx.optim import Saddle
    >>> fig = plot_optimizers([Saddle()], {"GD": "steepest"}, max_iter=20)
    >>> len(fig.axes)
    2
    """
    plt = _pyplot()
    objectives = standard_objectives() if objectives is None else list(objectives)
    fig, axes = plt.subplots(len(objectives), 2, figsize=figsize or (11, 4.2 * len(objectives)), squeeze=False)
    for row, objective in zip(axes, objectives):
        results = run_optimizers(objective, optimizers, max_iter=max_iter)
        plot_trajectories(objective, results, ax=row[0], legend=False, resolution=resolution)
        plot_loss_curves(objective, results, ax=row[1], legend=False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 8), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig


def iterations_table(objectives=None, optimizers=None, *, tol=1e-6, max_iter=5000, as_frame=None):
    """Iterations each optimizer needs to bring each objective within ``tol`` of its minimum.

    An entry is the first ``k`` with ``f(x_k) - f* <= tol`` (for the
    saddle, which is unbounded below: the first ``k`` with
    ``f(x_k) <= escape_value``), or ``None`` if that does not happen within
    ``max_iter`` iterations.

    Parameters
    ----------
    objectives : list of Objective, optional
        Defaults to :func:`~ftrlx.optim.standard_objectives`.
    optimizers : dict, optional
        Defaults to :func:`default_optimizers`.
    tol : float, default=1e-6
    max_iter : int, default=5000
    as_frame : bool, optional
        Return a pandas DataFrame (index: optimizer, columns: objectives);
        default: when pandas is installed.  Otherwise a list of dicts with an
        ``"optimizer"`` key and one key per objective.

    Examples
    --------
    >>> from ftrlx.optim import Rosenbrock, ill_conditioned_quadratic
    >>> rows = iterations_table([ill_conditioned_quadratic(), Rosenbrock()],
    ...                         {"Newton": "newton"}, as_frame=False)
    >>> rows
    [{'optimizer': 'Newton', 'ill-conditioned quadratic': 1, 'Rosenbrock': 19}]
    >>> print(table_to_markdown(rows))
    | optimizer | ill-conditioned quadratic | Rosenbrock |
    |---|---|---|
    | Newton | 1 | 19 |
    """
    objectives = standard_objectives() if objectives is None else list(objectives)
    optimizers = default_optimizers() if optimizers is None else optimizers
    rows = {name: {"optimizer": name} for name in optimizers}
    for objective in objectives:
        results = run_optimizers(objective, optimizers, max_iter=max_iter, tol=0.0)
        for name, res in results.items():
            hit = next((k for k, x in enumerate(res.trajectory) if objective.reached(x, tol)), None)
            rows[name][objective.name] = hit
    rows = list(rows.values())
    if as_frame is None:
        try:
            import pandas  # noqa: F401

            as_frame = True
        except ImportError:
            as_frame = False
    if as_frame:
        import pandas as pd

        return pd.DataFrame(rows).set_index("optimizer").astype("Int64")
    return rows


def table_to_markdown(table, missing="—"):
    """Render an :func:`iterations_table` result (list of dicts or DataFrame) as a markdown table.

    Examples
    --------
    >>> print(table_to_markdown([{"optimizer": "GD", "f": None}]))
    | optimizer | f |
    |---|---|
    | GD | — |
    """
    if hasattr(table, "reset_index"):
        table = [
            {
                k: (None if v is None or (isinstance(v, float) and math.isnan(v)) or str(v) == "<NA>" else v)
                for k, v in row.items()
            }
            for row in table.reset_index().to_dict("records")
        ]
    if not table:
        return ""
    cols = list(table[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table:
        lines.append("| " + " | ".join(missing if row.get(c) is None else str(row[c]) for c in cols) + " |")
    return "\n".join(lines)
