"""The running metrics of progressive validation against scikit-learn, chunk by chunk, with ties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss, roc_auc_score

from ftrlx._kernels import _metrics
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


VALUES = st.one_of(
    st.floats(allow_nan=False),  # every finite magnitude, subnormals, -0.0, infinities
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5]),  # repeated values: ties, and digits shared by every key
)


@settings(max_examples=80, deadline=None)
@given(values=st.lists(VALUES, max_size=700), seed=st.integers(0, 2**31))
def test_split_sorted_is_numpy_sort_of_each_class(values, seed):
    # insertion below 64 keys, the radix passes (some skipped, where every key shares a digit) above
    p = np.array(values, dtype=np.float64)
    y = np.random.default_rng(seed).random(p.size) < 0.3
    pos, neg = _metrics.split_sorted(y.view(np.uint8), p)
    for got, part in ((pos, p[y]), (neg, p[~y])):
        np.testing.assert_array_equal(got, np.sort(part))  # as values (-0.0 == 0.0)
        np.testing.assert_array_equal(np.sort(got.view(np.uint64)), np.sort(part.view(np.uint64)))  # same bits
        assert np.all(np.signbit(got[got == 0])[:-1] >= np.signbit(got[got == 0])[1:])  # -0.0 before +0.0


def test_auc_of_large_chunks_of_margins_equals_sklearn():
    rng = np.random.default_rng(3)
    auc, ys, ss = RunningAUC(), [], []
    for n in (5000, 70, 20000):
        s = np.round(rng.normal(size=n) * 50) / 10  # margins of both signs, with ties
        y = rng.random(n) < 0.2
        assert auc.update(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-15)
        ys.append(y)
        ss.append(s)
        assert auc.value == pytest.approx(roc_auc_score(np.concatenate(ys), np.concatenate(ss)), abs=1e-15)
