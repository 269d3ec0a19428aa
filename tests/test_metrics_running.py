"""The running metrics of progressive validation against scikit-learn, chunk by chunk, with ties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss, roc_auc_score

from ftrlx.metrics import RunningAUC, RunningLogLoss


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sizes=st.lists(st.integers(0, 60), min_size=1, max_size=6),
    levels=st.sampled_from([3, 20, 10**6]),
)
def test_running_metrics_equal_sklearn_on_everything_so_far(seed, sizes, levels):
    rng = np.random.default_rng(seed)
    auc, ll = RunningAUC(), RunningLogLoss()
    ys, ps = [], []
    for n in sizes:
        # few distinct levels make many ties, which count one half
        p = np.round(rng.random(n) * levels) / levels
        p[rng.random(n) < 0.05] = 0.0
        y = rng.random(n) < 0.4
        auc.update(y, p)
        ll.update(y, p)
        ys.append(y)
        ps.append(p)
        y_all, p_all = np.concatenate(ys), np.concatenate(ps)
        if y_all.size:
            assert ll.value == pytest.approx(log_loss(y_all, p_all, labels=[False, True]), rel=1e-12)
        if 0 < y_all.sum() < y_all.size:
            assert auc.value == pytest.approx(roc_auc_score(y_all, p_all), rel=1e-12)


def test_running_auc_state_round_trip_keeps_counting():
    rng = np.random.default_rng(1)
    a = RunningAUC()
    a.update(rng.random(500) < 0.5, rng.random(500))
    b = RunningAUC.from_state(a.get_state())
    y, p = rng.random(300) < 0.5, rng.random(300)
    assert a.update(y, p) == b.update(y, p)
    assert a.value == b.value
