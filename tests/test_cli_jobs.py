"""``ftrlx train --jobs N --parallel MODE``: the estimator's threads, recorded in the model, usage errors."""

import numpy as np
import pytest

import ftrlx
import ftrlx.io
from ftrlx.cli import main


@pytest.fixture(scope="module")
def clicks(click_log):
    return click_log(6000, seed=2)


def train(clicks, out, *flags):
    return main(["train", str(clicks), "--bits", "14", "--chunk-size", "2000", "-q", "-o", str(out), *flags])


@pytest.mark.parametrize("mode", ["hogwild", "deterministic"])
def test_jobs_reach_the_estimator_and_the_provenance(clicks, tmp_path, mode):
    assert train(clicks, tmp_path / "m.ftrlx", "--jobs", "2", "--parallel", mode) == 0
    model = ftrlx.load(tmp_path / "m.ftrlx")
    assert (model.n_jobs, model.parallel) == (2, mode)
    options = ftrlx.io.read_header(tmp_path / "m.ftrlx")["metadata"]["training"]["options"]
    assert (options["jobs"], options["parallel"]) == (2, mode)


def test_deterministic_threads_give_the_same_model_twice(clicks, tmp_path):
    for name in ("a", "b"):
        assert train(clicks, tmp_path / f"{name}.ftrlx", "--jobs", "2", "--parallel", "deterministic") == 0
    a, b = (ftrlx.load(tmp_path / f"{n}.ftrlx") for n in "ab")
    assert np.array_equal(a.coef_, b.coef_)


def test_default_is_one_thread(clicks, tmp_path):
    assert train(clicks, tmp_path / "m.ftrlx") == 0
    model = ftrlx.load(tmp_path / "m.ftrlx")
    assert (model.n_jobs, model.parallel) == (1, "outputs")


@pytest.mark.parametrize(
    "flags, flag",
    [
        (["--jobs", "0"], "--jobs"),
        (["--parallel", "hogwild"], "--jobs"),
        (["--jobs", "2", "--parallel", "sideways"], "--parallel"),
        (["--jobs", "x"], "--jobs"),
        (["--jobs", "2", "--parallel", "hogwild", "--algo", "fobos", "--l1", "1"], "--parallel deterministic"),
    ],
)
def test_bad_thread_flags_are_usage_errors_naming_the_flag(clicks, tmp_path, capsys, flags, flag):
    assert train(clicks, tmp_path / "m.ftrlx", *flags) == 2
    err = capsys.readouterr().err
    assert flag in err and "n_jobs" not in err and "parallel=" not in err
    assert not (tmp_path / "m.ftrlx").exists()
