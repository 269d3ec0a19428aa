"""What a benchmark ran on: the CPU's model name, shared by the benchmarks' machine descriptions."""

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
