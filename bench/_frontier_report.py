"""What frontier.py reports: the non-zero weights each learner needs to reach the best accuracy, the plots, the
Markdown tables and the JSON.
"""

import json
import math

TOLERANCE = 0.01  # "equal accuracy": within 1% of the best log loss (see frontier_summary)


# --------------------------------------------------------------------------- summary


def nnz_at(points, metric, target):
    """Fewest non-zero weights at which a frontier reaches ``metric <= target``: the sparsest point that does,
    moved toward the next sparser point by linear interpolation of the loss in log(nnz); None if none does."""
    pts = sorted(
        (p["n_nonzero"], p[metric]) for p in points if p["n_nonzero"] is not None and not math.isnan(p[metric])
    )
    ok = [(nz, v) for nz, v in pts if v <= target]
    if not ok:
        return None
    n_hi, v_hi = min(ok)
    sparser = [(nz, v) for nz, v in pts if nz < n_hi]
    if not sparser or n_hi == 0:
        return float(n_hi)
    n_lo, v_lo = max(sparser)
    if n_lo == 0 or v_lo <= v_hi:
        return float(n_hi)
    frac = (v_lo - target) / (v_lo - v_hi)
    return float(math.exp(math.log(n_lo) + frac * (math.log(n_hi) - math.log(n_lo))))


def frontier_summary(results, metric):
    """Every family's non-zero weights against FTRL's at equal accuracy, as in McMahan et al. 2013, Table 1.

    For each family the level is the worse of the two families' best losses, plus TOLERANCE (relative): both
    frontiers reach it, and each is read at the fewest weights that reach it (``nnz_at``)."""
    ftrl = next(r for r in results if r["family"] == "FTRL")
    ftrl_best = min_of(ftrl["points"], metric)
    if math.isnan(ftrl_best):
        return None  # e.g. a held-out split with one class only
    rows = []
    for r in results:
        best = min_of(r["points"], metric)
        if math.isnan(best):
            continue
        level = max(best, ftrl_best) * (1 + TOLERANCE)
        nz, base = nnz_at(r["points"], metric, level), nnz_at(ftrl["points"], metric, level)
        rows.append(
            {
                "family": r["family"],
                "best": best,
                "level": level,
                "nnz": nz,
                "ftrl_nnz": base,
                "vs_ftrl": None if nz is None or not base else nz / base - 1,
            }
        )
    return {"metric": metric, "ftrl_best": ftrl_best, "tolerance": TOLERANCE, "rows": rows}


# --------------------------------------------------------------------------- outputs

STYLES = {"ftrlx": "-", "scikit-learn": "--", "vowpalwabbit": ":", "river": "-."}


def plot_dataset(name, note, results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, metric, title in (
        (axes[0], "progressive_logloss", "progressive (each row scored before training)"),
        (axes[1], "heldout_logloss", "held-out split"),
    ):
        for i, r in enumerate(results):
            pts = sorted(
                (p["n_nonzero"], p[metric]) for p in r["points"] if p["n_nonzero"] and not math.isnan(p[metric])
            )
            if pts:  # tab20: one colour per family (the default cycle repeats after ten)
                ax.plot(
                    *zip(*pts),
                    marker="o",
                    markersize=3.5,
                    linestyle=STYLES[r["library"]],
                    label=r["family"],
                    color=plt.cm.tab20(i % 20),
                )
        ax.set_xscale("log")
        ax.set_xlabel("non-zero weights (log scale)")
        ax.set_ylabel(f"{metric.split('_')[0].replace('heldout', 'held-out')} log loss")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        _zoom(ax, results, metric)
    axes[1].legend(fontsize=7, loc="upper right")
    fig.suptitle(f"{name}: sparsity/accuracy frontier ({note})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _zoom(ax, results, metric):
    """Keep the interesting part: from the best loss to a little above the worst of the families' best points."""
    bests = [
        min(v for v in (p[metric] for p in r["points"]) if not math.isnan(v))
        for r in results
        if any(not math.isnan(p[metric]) for p in r["points"])
    ]
    lo = min(bests)
    hi = max(max(bests), lo * 1.15)
    ax.set_ylim(lo - 0.02 * (hi - lo), hi + 0.25 * (hi - lo))


def format_value(v, spec=".4f"):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def markdown_dataset(entry):
    out = [f"### {entry['name']}", "", entry["note"] + f"; {entry['n_train']:,} training rows.", ""]
    out += [
        "| family | progressive | rows | tuned | L1 range | nnz range | best progressive log loss | "
        "best held-out log loss | best held-out AUC |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in entry["results"]:
        pts = r["points"]
        l1s = [p["l1"] for p in pts if p["l1"] is not None]
        nz = [p["n_nonzero"] for p in pts]
        out.append(
            f"| {r['family']} | {r['progressive']} | {r.get('rows', entry['n_train']):,} | "
            f"{r['tuning'].get('parameter', '')}={r['tuning']['chosen']} | "
            f"{format_value(min(l1s), '.0e') if l1s else '–'}..{format_value(max(l1s), '.0e') if l1s else '–'} | "
            f"{min(nz):,}..{max(nz):,} | {format_value(min_of(pts, 'progressive_logloss'))} | "
            f"{format_value(min_of(pts, 'heldout_logloss'))} | {format_value(max_of(pts, 'heldout_auc'))} |"
        )
    for key, label in (("progressive_logloss", "progressive"), ("heldout_logloss", "held-out")):
        s = entry["summary"][key]
        if s is None:
            out += ["", f"No {label} log loss (one class only in that split)."]
            continue
        out += [
            "",
            f"Non-zero weights at equal {label} log loss: for each family, the level is the worse of its "
            f"best and FTRL's best ({format_value(s['ftrl_best'])}) plus {TOLERANCE:.0%}; both frontiers are read at the "
            "fewest weights that reach it (interpolated in log weights):",
            "",
            f"| family | best {label} log loss | level | nnz | FTRL nnz | vs FTRL |",
            "|---|---|---|---|---|---|",
        ]
        for row in s["rows"]:
            out.append(
                f"| {row['family']} | {format_value(row['best'])} | {format_value(row['level'])} | {format_value(row['nnz'], ',.0f')} | "
                f"{format_value(row['ftrl_nnz'], ',.0f')} | {format_value(row['vs_ftrl'], '+.0%')} |"
            )
    return out + ["", f"![{entry['name']} frontier](frontier_{entry['name']}.png)", ""]


def min_of(pts, key):
    vals = [p[key] for p in pts if not math.isnan(p[key])]
    return min(vals) if vals else math.nan


def max_of(pts, key):
    vals = [p[key] for p in pts if not math.isnan(p[key])]
    return max(vals) if vals else math.nan


def write_outputs(out, report):
    out.mkdir(parents=True, exist_ok=True)
    (out / "frontier.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    lines = [
        "# Sparsity/accuracy frontiers",
        "",
        f"Command: `{report['command']}`. Machine: {report['machine']}. "
        f"Load average at start/end: {report['load_start']} / {report['load_end']}. "
        f"Wall time {report['seconds']:.0f} s.",
        "",
        "Progressive metrics: every training row scored by the model just before it trains on it (per row for "
        "ftrlx, VW and river; per chunk for SGDClassifier.partial_fit; SGDClassifier.fit has none). Held-out "
        "metrics: a split the models never train on. Each learner's learning rate was tuned first (lowest "
        "progressive log loss on a training prefix, at the third L1 value of its grid); see frontier.json.",
        "",
    ]
    for entry in report["datasets"]:
        lines += markdown_dataset(entry)
    (out / "frontier.md").write_text("\n".join(lines) + "\n")
