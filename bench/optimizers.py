"""Compare the dense optimizers of ftrlx.optim on four 2-D test functions.

Writes, next to this script:

* results/optimizer_trajectories.png -- trajectories over contour plots and
  loss curves, all optimizers on one figure;
* results/optimizer_iterations.md -- iterations to reach f - f* <= tol
  (escape below f = -1 for the saddle), optimizer x function.

Run:  python bench/optimizers.py [--tol 1e-6] [--max-iter 5000] [--plot-iter 300]
"""

import argparse
import pathlib
import platform
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from ftrlx.optim import standard_objectives  # noqa: E402
from ftrlx.viz import iterations_table, plot_optimizers, table_to_markdown  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--max-iter", type=int, default=5000)
    parser.add_argument("--plot-iter", type=int, default=300)
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    fig = plot_optimizers(max_iter=args.plot_iter, figsize=(11, 15))
    png = args.out / "optimizer_trajectories.png"
    fig.savefig(png, dpi=72)
    print(f"wrote {png} ({png.stat().st_size // 1024} KB)")

    objectives = standard_objectives()
    table = iterations_table(objectives, tol=args.tol, max_iter=args.max_iter, as_frame=False)
    cmd = "python bench/optimizers.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    lines = [
        "# Iterations to tolerance",
        "",
        f"Iterations until f(x_k) - f* <= {args.tol:g} from each function's standard start "
        f"(saddle x² − y²: until f <= −1, i.e. escaped), at most {args.max_iter}; "
        "— = not reached (diverged, stalled or too slow). One iteration is one update of x: "
        "a gradient step for first-order methods, a line-search step for CG/BFGS/L-BFGS, "
        "a (modified, backtracked) Newton step for Newton.",
        "",
        "Step sizes of the first-order methods are fixed per function (see `ftrlx.viz.default_optimizers`), "
        "not tuned per method, so the table compares behaviour at reasonable settings, not best cases.",
        "",
        "Starts: " + "; ".join(f"{o.name} {tuple(np.round(o.x0, 3).tolist())}" for o in objectives) + ".",
        "",
        table_to_markdown(table),
        "",
        f"Produced by `{cmd.strip()}` (Python {platform.python_version()}, NumPy {np.__version__}).",
        "",
    ]
    md = args.out / "optimizer_iterations.md"
    md.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {md}")
    print(table_to_markdown(table))


if __name__ == "__main__":
    main()
