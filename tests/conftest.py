"""Shared fixtures: where the real datasets live, and the list of estimators."""

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
