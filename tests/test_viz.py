"""ftrlx.viz: figures render with the Agg backend; the table counts iterations correctly."""

import numpy as np
import pytest

from ftrlx import optim, viz


@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")


SMALL = {"GD": optim.SGD(lr=0.05), "Adam": optim.Adam(lr=0.1), "BFGS": "bfgs", "CG": {"method": "cg", "beta": "fr"}}


def test_all_optimizers_on_all_functions_render_to_png(plt, tmp_path):
    fig = viz.plot_optimizers(optimizers=SMALL, max_iter=40, resolution=40)
    assert len(fig.axes) == 8
    path = tmp_path / "all.png"
    fig.savefig(path, dpi=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


@pytest.mark.parametrize("objective", optim.standard_objectives(), ids=lambda o: o.name)
def test_single_panels_render(plt, tmp_path, objective):
    results = viz.run_optimizers(objective, SMALL, max_iter=30)
    fig, (a, b) = plt.subplots(1, 2)
    viz.plot_trajectories(objective, results, ax=a, resolution=40)
    viz.plot_loss_curves(objective, results, ax=b)
    assert len(a.lines) >= 2 * len(SMALL) and len(b.lines) >= len(SMALL)
    fig.savefig(tmp_path / "panel.png", dpi=40)


def test_run_optimizers_never_steps_the_given_object():
    opt = optim.Adam(lr=0.1)
    viz.run_optimizers(optim.Beale(), {"Adam": opt}, max_iter=5)
    assert opt.t == 0 and opt.state == {}


def test_iterations_table_counts_the_first_hit():
    q = optim.ill_conditioned_quadratic()
    rows = viz.iterations_table(
        [q], {"GD": optim.SGD(lr=0.09), "never": optim.SGD(lr=0.0)}, tol=1e-6, max_iter=300, as_frame=False
    )
    res = optim.minimize(q, q.x0, jac=q.grad, method=optim.SGD(lr=0.09), tol=0, max_iter=300)
    gaps = res.fun_history - q.fmin
    first = int(np.argmax(gaps <= 1e-6))
    assert gaps[first] <= 1e-6 and gaps[first - 1] > 1e-6
    assert rows == [{"optimizer": "GD", q.name: first}, {"optimizer": "never", q.name: None}]
    md = viz.table_to_markdown(rows)
    assert f"| GD | {first} |" in md and "| never | — |" in md


def test_iterations_table_as_dataframe():
    pd = pytest.importorskip("pandas")
    df = viz.iterations_table([optim.Saddle()], {"Newton": "newton"}, as_frame=True)
    assert isinstance(df, pd.DataFrame) and df.loc["Newton", "saddle"] == 1
    assert "| Newton | 1 |" in viz.table_to_markdown(df)


def test_bad_spec_is_named():
    with pytest.raises(TypeError, match="optimizer spec"):
        viz.run_optimizers(optim.Beale(), {"x": 3})
