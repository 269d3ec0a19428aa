"""Shared fixtures: where the real datasets live, the list of estimators, and synthetic click logs."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def data_dir():
    """Folder of the real datasets: $FTRLX_DATA, else ../shared/datasets beside the repository."""
    return Path(os.environ.get("FTRLX_DATA", REPO.parent / "shared" / "datasets"))


@pytest.fixture
def datasets_dir():
    path = data_dir()
    if not path.is_dir():
        pytest.skip(f"real datasets not found at {path} (set FTRLX_DATA)")
    return path


@pytest.fixture(scope="session")
def click_log(tmp_path_factory):
    """``click_log(n_rows, seed, name="clicks.tsv", **options)``: a synthetic click log written by
    :func:`ftrlx.datasets.write_click_data` into a folder of its own; returns its path."""
    from ftrlx.datasets import write_click_data

    def write(n_rows, seed, name="clicks.tsv", **options):
        path = tmp_path_factory.mktemp("clicks") / name
        write_click_data(path, n_rows, seed=seed, **options)
        return path

    return write
