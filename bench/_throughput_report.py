"""What bench_throughput.py reports: the machine, the speed ratios, the targets it checks and the Markdown tables."""

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import _peers
from _throughput_learners import BENCH_DIR, DT1_NAME, FTRLX_CLASSIFIERS, N_FIELDS, SGD_NAME

# --------------------------------------------------------------------------- machine


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info():
    model = None
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        model = fields.get("Model name")
        sockets = int(fields.get("Socket(s)", "1"))
        cores = int(fields.get("Core(s) per socket", "0")) * sockets or None
        threads = int(fields.get("Thread(s) per core", "1"))
        hypervisor = fields.get("Hypervisor vendor")
    except (OSError, subprocess.CalledProcessError, ValueError):
        cores, threads, hypervisor = None, None, None
    mem_kb = None
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    import ftrlx

    return {
        "cpu": model,
        "cores": cores,
        "threads_per_core": threads,
        "logical_cpus": os.cpu_count(),
        "hypervisor": hypervisor,
        "ram_gib": round(mem_kb / 2**20, 1) if mem_kb else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ftrlx": ftrlx.__version__,
        "ftrlx_commit": commit,
        "versions": {
            d: _version(d) for d in ("numpy", "scipy", "scikit-learn", "Cython", "vowpalwabbit", "datatable", "river")
        },
    }


# --------------------------------------------------------------------------- report


def _fmt_int(x):
    return f"{x:,.0f}" if x is not None else "–"


def format_cell(x, spec):
    return format(x, spec) if x is not None else "–"


def add_ratios(rows):
    by = {(r["learner"], r["bits"]): r for r in rows if "error" not in r}
    for r in rows:
        if "error" in r:
            continue
        for key, ref in (("x_sgd_partial_fit", SGD_NAME), ("x_datatable_1thread", DT1_NAME)):
            bits = r["bits"]
            if bits is None:  # unhashed (river): compare with the first width measured
                bits = min((b for (n, b) in by if n == ref and b is not None), default=None)
            base = by.get((ref, bits))
            r[key] = r["rows_per_s"] / base["rows_per_s"] if base else None


def check_targets(rows, small):
    """The issue's targets, each with the measured value and whether it holds."""
    by = {(r["learner"], r["bits"]): r for r in rows if "error" not in r}
    bits_list = sorted({r["bits"] for r in rows if r["bits"] is not None})
    out = []

    def add(target, bits, value, holds):
        out.append({"target": target, "bits": bits, "measured": value, "holds": holds})

    for bits in bits_list:
        ftrl = by.get(("FTRLClassifier.fit", bits))
        dt1, sgd = by.get((DT1_NAME, bits)), by.get((SGD_NAME, bits))
        if ftrl and dt1:
            x = ftrl["rows_per_s"] / dt1["rows_per_s"]
            add("FTRLClassifier.fit rows/s ≥ 1.3× datatable Ftrl (nthreads=1)", bits, f"{x:.2f}×", x >= 1.3)
            d = ftrl["log_loss"] - dt1["log_loss"]
            add("FTRLClassifier test log loss within 0.002 of datatable Ftrl", bits, f"{d:+.5f}", abs(d) <= 0.002)
        for name in FTRLX_CLASSIFIERS:
            r = by.get((f"{name}.fit", bits))
            if r and sgd:
                need = 3.0 if name == "FTRLClassifier" else 2.0
                x = r["rows_per_s"] / sgd["rows_per_s"]
                add(f"{name}.fit rows/s ≥ {need:g}× SGDClassifier.partial_fit", bits, f"{x:.2f}×", x >= need)
    if len(bits_list) >= 2:
        lo, hi = bits_list[0], bits_list[-1]
        sb = {(s["learner"], s["bits"]): s for s in small if "error" not in s}
        for name in FTRLX_CLASSIFIERS:
            a, b = sb.get((name, lo)), sb.get((name, hi))
            if a and b:
                x = b["running_small_us_per_row"] / a["running_small_us_per_row"]
                add(
                    f"{name}.partial_fit, 100-row batches in a running stream: µs/row at 2^{hi} within 20% of 2^{lo}",
                    None,
                    f"{x:.2f}×",
                    abs(x - 1) <= 0.2,
                )
    return out


def write_markdown(path, report):
    # Long on purpose: the report's text, paragraph by paragraph in the order it is read; split, it would read
    # as fragments of one page.
    m, cfg = report["machine"], report["config"]
    v = m["versions"]
    lines = [
        "# Single-pass training throughput on synthetic click data",
        "",
        f"Command: `{report['command']}`",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['logical_cpus']} logical CPUs"
        + (f", {m['hypervisor']} guest" if m.get("hypervisor") else "")
        + f"), {m['ram_gib']} GiB RAM, {m['os']}; "
        f"Python {m['python']}, ftrlx {m['ftrlx']} ({m['ftrlx_commit']}), numpy {v['numpy']}, scipy {v['scipy']}, "
        f"scikit-learn {v['scikit-learn']}, vowpalwabbit {v['vowpalwabbit'] or 'not installed'}, "
        f"datatable {v['datatable'] or 'not installed'}, river {v['river'] or 'not installed'}. "
        "Load average (1, 5, 15 min) at start {:.2f} {:.2f} {:.2f}, at end {:.2f} {:.2f} {:.2f}.".format(
            *report["load_average_start"], *report["load_average_end"]
        ),
        "",
    ]
    for bits, info in report["datasets"].items():
        lines.append(
            f"Data at 2^{bits} columns: `make_click_data({info['rows']}, n_fields={info['fields']}, "
            f"n_features=2**{bits}, seed={info['seed']})`: {info['train_rows']:,} training rows, "
            f"{info['test_rows']:,} test rows, {info['nnz_per_row']:.2f} non-zeros per row, "
            f"{100 * info['positive_rate_train']:.2f}% positives (train), labels sha1 {info['sha1_labels']}."
        )
    lines += [
        "",
        f"One pass over the training rows, each learner in a fresh forked child, after a {_peers.WARM_UP_ROWS}-row "
        f"warm-up on a throw-away model; best of {cfg['repeat']} run(s). nnz/s: non-zeros of the hashed CSR per "
        f"second (peers: rows × {N_FIELDS}). Peak RSS: the increase of the child's peak resident set during the "
        "training pass, above its input data. `.partial_fit` rows: "
        f"{cfg['chunk']:,}-row chunks; `.fit` rows: one epoch (`max_iter=1, shuffle=False`; SGDClassifier also "
        "`tol=None`).",
        "",
    ]
    header = (
        "| learner | bits | train rows/s | nnz/s | × SGD.partial_fit | × datatable 1 thread "
        "| peak RSS above data (MiB) | test log loss | test AUC | non-zero weights |"
    )
    for bits in sorted({r["bits"] for r in report["results"] if r["bits"] is not None}):
        lines += [f"## 2^{bits} columns", "", header, "|" + "---|" * 10]
        for r in report["results"]:
            if r["bits"] != bits and not (r["bits"] is None and bits == int(min(report["datasets"], key=int))):
                continue
            label = "–" if r["bits"] is None else str(r["bits"])
            if "error" in r:
                lines.append(
                    f"| {r['learner']} | {label} | error: {r['error'].strip().splitlines()[-1]} | | | | | | | |"
                )
                continue
            lines.append(
                f"| {r['learner']} | {label} | {_fmt_int(r['rows_per_s'])} | {_fmt_int(r['nnz_per_s'])} "
                f"| {format_cell(r.get('x_sgd_partial_fit'), '.2f')} | {format_cell(r.get('x_datatable_1thread'), '.2f')} "
                f"| {format_cell(r['peak_above_data_mib'], '.1f')} | {format_cell(r.get('log_loss'), '.5f')} "
                f"| {format_cell(r.get('auc'), '.4f')} | {_fmt_int(r.get('n_nonzero'))} |"
            )
        lines.append("")
    if report["small_batch"]:
        bl = sorted({s["bits"] for s in report["small_batch"]})
        lines += [
            f"## partial_fit on {cfg['batch']}-row batches",
            "",
            f"{cfg['calls']:,} timed calls of {cfg['batch']} rows, after one untimed first call (which allocates "
            f"the state); 'one call': a single `partial_fit` over the same {cfg['batch'] * cfg['calls']:,} rows; "
            "overhead = (time of the small calls − time of the one call) / calls. *Running stream*: the model has "
            "first been trained (untimed) on the other training rows, so its state is in memory, as it is for "
            "every call of a long stream but the first few. *Fresh state*: the calls start right after the first "
            "call, and so also pay, once, for the operating system's first write to each page of the state "
            "arrays (zero-filled on first touch). Each number is the best of the repeats. SGDClassifier, for "
            f"reference: {min(cfg['calls'], cfg['sgd_calls'])} calls only, as its `partial_fit` does work "
            "proportional to the number of columns on every call.",
            "",
        ]
        two = len(bl) > 1
        cols = [
            ("running_small_us_per_row", "running stream µs/row", ".3f", True),
            ("small_us_per_row", "fresh state µs/row", ".3f", True),
            ("running_large_us_per_row", "running one call µs/row", ".3f", False),
            ("running_overhead_us_per_call", "running overhead µs/call", ".1f", False),
        ]
        head = ["learner"]
        for _, title, _, with_ratio in cols:
            head += [f"{title} 2^{b}" for b in bl] + ([f"ratio 2^{bl[-1]}/2^{bl[0]}"] if with_ratio and two else [])
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        by = {(s["learner"], s["bits"]): s for s in report["small_batch"]}
        for name in dict.fromkeys(s["learner"] for s in report["small_batch"]):
            cells = [by.get((name, b), {}) for b in bl]
            if any("error" in c for c in cells):
                lines.append(f"| {name} | error |" + " |" * (len(head) - 2))
                continue
            row = [name]
            for key, _, fmt, with_ratio in cols:
                row += [format_cell(c.get(key), fmt) for c in cells]
                if with_ratio and two:
                    a, b = cells[0].get(key), cells[-1].get(key)
                    row.append(format_cell(b / a if a and b else None, ".2f"))
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    if report["targets"]:
        lines += ["## Targets", "", "| target | bits | measured | holds |", "|---|---|---|---|"]
        for t in report["targets"]:
            lines.append(
                f"| {t['target']} | {t['bits'] if t['bits'] is not None else '–'} | {t['measured']} "
                f"| {'yes' if t['holds'] else '**no**'} |"
            )
        lines.append("")
    if report["notes"]:
        lines += ["## Notes", ""] + [f"* {n}" for n in report["notes"]] + [""]
    Path(path).write_text("\n".join(lines))
