"""Packaging basics that are cheap to check: the typing marker, the licence, one version everywhere.

The archives themselves (tests and Cython sources in the sdist, no generated C in the wheel) are built and
inspected by ``python -m build``; here only the configuration that decides them is checked.
"""

from importlib import resources
from pathlib import Path

import pytest

import ftrlx

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"


def _pyproject():
    if not PYPROJECT.is_file():
        pytest.skip("not a source checkout: no pyproject.toml beside the tests")
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli")
    with open(PYPROJECT, "rb") as fh:
        return tomllib.load(fh)


def test_py_typed_marker_is_in_the_installed_package():
    assert resources.files("ftrlx").joinpath("py.typed").is_file()


def test_py_typed_is_declared_as_package_data():
    data = _pyproject()["tool"]["setuptools"]["package-data"]["ftrlx"]
    assert "py.typed" in data


def test_version_matches_pyproject():
    assert _pyproject()["project"]["version"] == ftrlx.__version__


def test_license_file_matches_the_declared_license():
    declared = _pyproject()["project"]["license"]
    declared = declared["text"] if isinstance(declared, dict) else declared
    assert declared == "BSD-3-Clause"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "the ftrlx developers" in text


def test_generated_c_is_kept_out_of_the_wheel():
    tool = _pyproject()["tool"]["setuptools"]
    assert "_kernels/*.c" in tool["exclude-package-data"]["ftrlx"]
    assert {"_kernels/*.pyx", "_kernels/*.pxd"} <= set(tool["package-data"]["ftrlx"])


def test_every_kind_of_cython_source_is_shipped():
    # The kernels are split into .pyx modules, cimported .pxd files, included .pxi files and the templates (.tp)
    # the build renders from the algorithm registry: an sdist (MANIFEST.in)
    # or a wheel (package-data) that left one kind out could not rebuild the modules from what it ships.
    kernels = ROOT / "src" / "ftrlx" / "_kernels"
    suffixes = {p.suffix for p in kernels.iterdir() if p.suffix in (".pyx", ".pxd", ".pxi", ".tp")}
    assert suffixes >= {".pyx", ".pxd"}
    package_data = set(_pyproject()["tool"]["setuptools"]["package-data"]["ftrlx"])
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    shipped = {word for line in manifest if line.startswith("recursive-include src/ftrlx ") for word in line.split()}
    for suffix in suffixes:
        assert f"_kernels/*{suffix}" in package_data, suffix
        assert f"*{suffix}" in shipped, suffix


def test_docs_extra_lists_the_documentation_tools():
    extra = " ".join(_pyproject()["project"]["optional-dependencies"]["docs"])
    for name in ("sphinx", "numpydoc"):
        assert name in extra
