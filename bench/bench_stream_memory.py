"""Peak memory of streaming training does not grow with the length of the stream.

Writes synthetic Criteo-format click logs of two sizes (by default 1M and 10M
rows) with ``ftrlx.datasets.write_click_data``, trains FTRL-Proximal on each
with ``ftrlx train`` in a fresh subprocess, and reads the child's peak
resident set size (``ru_maxrss`` from ``os.wait4`` on that child, so each
reading is that one process's own peak).  The goal is a peak for the large file of at most 1.5 times the peak
for the small one.  The generated files are deleted afterwards.

Usage::

    python bench/bench_stream_memory.py [--rows 1000000 10000000] [--workdir DIR]
        [--chunk-size 100000] [--bits 20] [--out bench/results/stream_memory.md]
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

from _machine import cpu_model


def machine():
    cpu = cpu_model(platform.machine())
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs{mem}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}"
    )


def train_peak_rss(data, model, chunk_size, bits):
    """Run ``ftrlx train`` on ``data``; return (peak RSS in MiB, seconds, summary lines)."""
    cmd = [
        sys.executable,
        "-m",
        "ftrlx",
        "train",
        data,
        "--format",
        "criteo",
        "--chunk-size",
        str(chunk_size),
        "--bits",
        str(bits),
        "-o",
        model,
    ]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        # wait4 gives the resource usage of this one child (ru_maxrss in KiB on Linux).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read()
    if proc.returncode != 0:
        raise SystemExit(f"training failed ({proc.returncode}): {stderr.strip()[-500:]}")
    summary = [ln for ln in stderr.splitlines() if ln.startswith(("rows trained", "progressive"))]
    return usage.ru_maxrss / 1024.0, seconds, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--bits", type=int, default=20)
    parser.add_argument("--workdir", help="where to write the generated files (default: a temp dir)")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "stream_memory.md"))
    args = parser.parse_args(argv)
    rows = sorted(args.rows)

    from ftrlx.datasets import write_click_data

    work = tempfile.mkdtemp(prefix="ftrlx-bench-", dir=args.workdir)
    results = []
    try:
        for n in rows:
            data = os.path.join(work, f"clicks-{n}.txt")
            t0 = time.perf_counter()
            write_click_data(data, n, format="criteo", seed=0)
            gen = time.perf_counter() - t0
            size = os.path.getsize(data) / 2**20
            print(f"{n:,} rows: wrote {size:,.0f} MiB in {gen:.0f} s", flush=True)
            peak, seconds, summary = train_peak_rss(data, os.path.join(work, "model.ftrlx"), args.chunk_size, args.bits)
            print(f"  peak RSS {peak:,.1f} MiB, trained in {seconds:.1f} s", flush=True)
            results.append((n, size, peak, seconds, summary))
            os.remove(data)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    small, large = results[0], results[-1]
    ratio = large[2] / small[2]
    verdict = "meets" if ratio <= 1.5 else "MISSES"
    lines = [
        "# Peak memory of streaming training",
        "",
        f"Machine: {machine()}.",
        "",
        "Command: `python bench/bench_stream_memory.py "
        f"--rows {' '.join(str(n) for n in rows)} --chunk-size {args.chunk_size} --bits {args.bits}`",
        "",
        "Each file is a synthetic Criteo-format click log (`write_click_data(path, n, "
        "format='criteo', seed=0)`); each is trained on by `ftrlx train FILE --format criteo "
        f"--chunk-size {args.chunk_size} --bits {args.bits}` (FTRLClassifier defaults, progressive "
        "validation, model saved at the end) in its own process; peak RSS is that process's "
        "`ru_maxrss` (from `os.wait4`).",
        "",
        "| rows | file (MiB) | peak RSS (MiB) | training time (s) | rows/s | progressive log loss, AUC |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for n, size, peak, seconds, summary in results:
        prog = summary[-1].split(None, 1)[1] if summary else ""
        lines.append(
            f"| {n:,} | {size:,.0f} | {peak:,.1f} | {seconds:.1f} | {n / seconds:,.0f} | {' '.join(prog.split())} |"
        )
    lines += [
        "",
        f"Ratio of peaks, {large[0]:,} / {small[0]:,} rows: **{ratio:.3f}** ({verdict} the goal of at most 1.5).",
        "",
        "Memory is bounded by one chunk of parsed rows, the model state (three float64 "
        "arrays of 2^bits) and the AUC accumulator (exact up to 2M rows, then a fixed "
        "histogram), not by the length of the stream.",
        "",
    ]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
