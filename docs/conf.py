"""Sphinx configuration of the ftrlx documentation.

Build it with ``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors).
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import ftrlx  # noqa: E402  (the installed package, compiled kernels included)

project = "ftrlx"
author = "the ftrlx developers"
copyright = "the ftrlx developers"
version = release = ftrlx.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "ftrlx_docs",
]

exclude_patterns = ["_build"]
templates_path = []
root_doc = "index"
default_role = "code"

# ---------------------------------------------------------------- autodoc, autosummary, numpydoc
# The estimators are documented once, under their public top-level names (ftrlx.FTRLClassifier); everything else
# under its module.  autosummary only draws tables here: it generates no stub files.
autosummary_generate = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc sections carry the types
autoclass_content = "class"
numpydoc_show_class_members = False  # methods come from autodoc's :members:, listed once
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# ---------------------------------------------------------------- HTML
try:
    import pydata_sphinx_theme  # noqa: F401

    html_theme = "pydata_sphinx_theme"
    html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
except ImportError:  # pragma: no cover - the docs extra installs it
    html_theme = "alabaster"
html_title = f"ftrlx {release}"
html_static_path = []
html_show_sourcelink = False

# argparse wraps help to the terminal width: fix it so that the command-line page is the same on every machine
os.environ["COLUMNS"] = "100"
