"""Build the Cython kernels.

Set ``FTRLX_CYTHON_DEBUG=1`` to rebuild with bounds checking, wraparound and
initialisation checks turned back on, unoptimised (slow; for hunting memory errors; CI runs the tests on it).
"""

import os
import runpy
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("FTRLX_CYTHON_DEBUG", "0") not in ("", "0")
# FTRLX_BUILD_ONLY=_online,_tsv rebuilds only those extension modules (for working on one of them)
ONLY = {name for name in os.environ.get("FTRLX_BUILD_ONLY", "").split(",") if name}

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    # nonecheck stays off: in the kernels' nogil blocks a None check (of self, say) could not raise
    "cdivision": True,
    "embedsignature": True,
}

kernel_dir = Path("src") / "ftrlx" / "_kernels"


def generate_dispatch():
    """Render the kernel's dispatch and parameter struct (``*.tp``) from the algorithm registry; a file is
    rewritten only when its text changes, so that an unchanged registry rebuilds nothing."""
    render = runpy.run_path(str(kernel_dir / "registry.py"))["render"]
    for template in sorted(kernel_dir.glob("*.tp")):
        target = template.with_suffix("")
        text = render(template.read_text())
        if not target.exists() or target.read_text() != text:
            target.write_text(text)


generate_dispatch()
extensions = [
    Extension(
        f"ftrlx._kernels.{pyx.stem}",
        [str(pyx)],
        include_dirs=[numpy.get_include(), str(kernel_dir)],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
        # -fno-math-errno: sqrt compiles to one instruction (nothing here reads errno); -fno-trapping-math: a
        # division or square root may be computed and its result discarded (nothing here reads the floating-point
        # exception flags), which lets the compiler vectorize loops that select between two results.  Every
        # value is still computed with IEEE semantics, bit for bit as without them.
        extra_compile_args=["-O0", "-g"] if DEBUG else ["-O3", "-fno-math-errno", "-fno-trapping-math"],
    )
    for pyx in sorted(kernel_dir.glob("*.pyx"))
    if not ONLY or pyx.stem in ONLY
]

# Cython regenerates a C file when a source it depends on changes, not when the directives do: a switch between
# the debug and the optimised build (recorded next to the generated files) regenerates them all.
mode_stamp = kernel_dir / ".build-mode"
mode = "debug" if DEBUG else "release"
force = not mode_stamp.exists() or mode_stamp.read_text() != mode
modules = cythonize(extensions, compiler_directives=directives, include_path=["src"], force=force)
if not ONLY:  # a partial build leaves the other modules as they were
    mode_stamp.write_text(mode)

setup(ext_modules=modules)
