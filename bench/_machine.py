"""What a benchmark ran on (the CPU's model name, shared by the benchmarks' machine descriptions), and where its
results go."""

import json
import os
import platform


def cpu_model(fallback):
    """The first ``model name`` of /proc/cpuinfo; else ``platform.processor()``, else ``fallback``."""
    cpu = platform.processor() or fallback
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu


def shown_argv(argv, folders=("--data-dir", "--out")):
    """``argv`` as a results file shows it: the folders given to ``folders`` flags, which are this machine's,
    read ``DIR``."""
    shown, hide = [], False
    for arg in argv:
        flag, eq, _ = arg.partition("=")
        if hide:
            shown.append("DIR")
        elif eq and flag in folders:
            shown.append(f"{flag}=DIR")
        else:
            shown.append(arg)
        hide = arg in folders
    return shown


def write_results(out, name, quick, report, text):
    """``report`` as ``out/NAME.json`` and ``text`` as ``out/NAME.md`` (NAME_quick for a smoke run), then print
    ``text``."""
    name = f"{name}_quick" if quick else name
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"{name}.json"), "w") as fh:
        json.dump(report, fh, indent=2)
    with open(os.path.join(out, f"{name}.md"), "w") as fh:
        fh.write(text)
    print(text)
