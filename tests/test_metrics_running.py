"""The running metrics of progressive validation against scikit-learn, chunk by chunk, with ties."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss, roc_auc_score

from ftrlx import metrics
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
    _check_split_sorted(p, y)


def _check_split_sorted(p, y):
    pos, neg = _metrics.split_sorted(y.view(np.uint8), p)
    for got, part in ((pos, p[y]), (neg, p[~y])):
        np.testing.assert_array_equal(got, np.sort(part))  # as values (-0.0 == 0.0)
        np.testing.assert_array_equal(np.sort(got.view(np.uint64)), np.sort(part.view(np.uint64)))  # same bits
        assert np.all(np.signbit(got[got == 0])[:-1] >= np.signbit(got[got == 0])[1:])  # -0.0 before +0.0


@pytest.mark.parametrize(
    "draw",
    [
        lambda r, n: 1 / (1 + np.exp(-r.normal(-1.5, 1, n))),  # probabilities: keys share their top bits
        lambda r, n: r.normal(size=n),  # both signs: keys differ in the top bit
        lambda r, n: np.round(r.normal(size=n) * 3),  # a few values, -0.0 among them: large buckets of ties
        lambda r, n: np.full(n, 0.25),  # every key the same
        lambda r, n: 0.5 + r.integers(0, 1000, n) * 2.0**-52,  # keys that differ in their last 10 bits only
        lambda r, n: r.choice([-np.inf, np.inf, -0.0, 0.0, 5e-324, -1e300], size=n),
        lambda r, n: r.standard_cauchy(n) * 1e300,  # every magnitude
    ],
)
@pytest.mark.parametrize("n", [2**17 - 1, 2**17, 300_007])
def test_split_sorted_of_many_scores_is_numpy_sort(draw, n):
    # from 2^17 keys a pass on the top bits first, then each bucket sorted on its own (below: the LSD passes)
    rng = np.random.default_rng(n)
    _check_split_sorted(draw(rng, n), rng.random(n) < 0.3)


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


def _brute_twice_u(pos, neg):
    p, q = pos[:, None], neg[None, :]
    return int(2 * np.count_nonzero(p > q) + np.count_nonzero(p == q))


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n_small=st.integers(0, 40),
    n_large=st.integers(0, 3000),
    levels=st.sampled_from([2, 50, 10**9]),
    small_is_pos=st.booleans(),
)
def test_twice_u_gallops_to_the_pair_count(seed, n_small, n_large, levels, small_is_pos):
    # the smaller side walks through the larger with galloping steps, whichever class it is
    rng = np.random.default_rng(seed)
    small, large = (np.round(rng.normal(size=n) * levels) / levels for n in (n_small, n_large))
    large[rng.random(n_large) < 0.01] = np.inf
    small, large = np.sort(small), np.sort(large)
    pos, neg = (small, large) if small_is_pos else (large, small)
    assert int(_metrics.twice_u(pos, neg)) == _brute_twice_u(pos, neg)


def test_many_small_chunks_keep_few_sorted_runs_and_the_exact_auc():
    # a chunk costs O(m log n) against what is kept: the scores live in O(log n) sorted runs
    rng = np.random.default_rng(7)
    auc, ys, ss = RunningAUC(), [], []
    for _ in range(400):
        n = int(rng.integers(0, 60))
        s = np.round(rng.normal(size=n) * 20) / 10
        y = rng.random(n) < 0.3
        auc.update(y, s)
        ys.append(y)
        ss.append(s)
        for kept in (auc._pos, auc._neg):
            sizes = [run.size for run in kept.runs]
            assert all(a > 2 * b for a, b in zip(sizes, sizes[1:]))
            assert len(sizes) <= np.log2(max(kept.n, 1)) + 1
    y_all, s_all = np.concatenate(ys), np.concatenate(ss)
    pos, neg = np.sort(s_all[y_all]), np.sort(s_all[~y_all])
    assert auc.u2 == _brute_twice_u(pos, neg)
    assert auc.value == pytest.approx(roc_auc_score(y_all, s_all), rel=1e-12)
    np.testing.assert_array_equal(auc._pos.values, pos)
    np.testing.assert_array_equal(RunningAUC.from_state(auc.get_state())._neg.values, neg)


@pytest.mark.parametrize("scores", ["margin", "probability"])
def test_binned_auc_follows_the_kind_of_score(scores):
    rng = np.random.default_rng(11)
    y = rng.random(60_000) < 0.3
    margin = rng.normal(size=y.size) * 4 + y  # both signs, far outside [0, 1]
    margin[:10] = [1e300, -1e300, 40, -40, 36.9, -36.9, 0, 0, 1e-300, -5]
    s = margin if scores == "margin" else 1 / (1 + np.exp(-np.clip(margin, -30, 30)))
    auc = RunningAUC(exact_limit=10_000, scores=scores)
    for i in range(0, y.size, 7_000):
        auc.update(y[i : i + 7_000], s[i : i + 7_000])
    assert not auc.exact
    assert auc.value == pytest.approx(roc_auc_score(y, s), abs=2e-4)
    again = RunningAUC.from_state(auc.get_state())
    assert again.scores == scores and again.update(y[:500], s[:500]) == auc.update(y[:500], s[:500])


def test_auc_scores_must_be_named():
    with pytest.raises(ValueError, match="'probability' or 'margin', got 'logit'"):
        RunningAUC(scores="logit")


def _dense_binned_u2(chunks, n_bins):
    """The binned pair count by whole passes over the bins: each chunk's counts, their cumulative sums."""
    hist, u2 = np.zeros((2, n_bins), dtype=np.int64), 0
    for pos_bins, neg_bins in chunks:
        new_pos, new_neg = np.bincount(pos_bins, minlength=n_bins), np.bincount(neg_bins, minlength=n_bins)
        total_neg = hist[1] + new_neg
        u2 += int(np.dot(new_pos, 2 * (np.cumsum(total_neg) - total_neg) + total_neg))
        u2 += int(np.dot(hist[0], 2 * (np.cumsum(new_neg) - new_neg) + new_neg))
        hist[0] += new_pos
        hist[1] += new_neg
    return u2, hist


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sizes=st.lists(st.integers(0, 300), min_size=1, max_size=8),
    n_bins=st.sampled_from([2, 3, 64, 1000]),
    restore_at=st.integers(0, 8),
)
def test_binned_pairs_through_the_trees_equal_whole_passes_over_the_bins(seed, sizes, n_bins, restore_at):
    rng = np.random.default_rng(seed)
    auc, binned = RunningAUC(exact_limit=0, n_bins=n_bins, scores="margin"), []
    for i, n in enumerate(sizes):
        if i == restore_at:  # a checkpoint in the binned regime: the trees are rebuilt from the counts
            auc = RunningAUC.from_state(auc.get_state())
        s = np.round(rng.normal(size=n) * 10)  # many scores per bin: ties
        y = rng.random(n) < 0.4
        auc.update(y, s)
        binned.append((auc._bin(np.sort(s[y])), auc._bin(np.sort(s[~y]))))
    u2, hist = _dense_binned_u2(binned, n_bins)
    assert auc.u2 == u2
    if auc.exact:  # no row yet: nothing was binned
        assert sum(sizes) == 0
    else:
        np.testing.assert_array_equal(auc._hist, hist)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sizes=st.lists(st.integers(0, 50), min_size=1, max_size=8),
    exact_limit=st.sampled_from([0, 30, 90, 10**6]),
    reads=st.lists(st.booleans(), min_size=8, max_size=8),
    scores=st.sampled_from(["margin", "probability"]),
)
def test_added_chunks_count_the_pairs_of_updated_ones(seed, sizes, exact_limit, reads, scores):
    """add (the chunk's scores wait, counted when the AUC is read) against update (counted at once): the same
    pair count, counts and checkpoint after every chunk, the AUC read or not in between, across the exact limit."""
    rng = np.random.default_rng(seed)
    eager = RunningAUC(exact_limit=exact_limit, n_bins=64, scores=scores)
    lazy = RunningAUC(exact_limit=exact_limit, n_bins=64, scores=scores)
    for n, read in zip(sizes, reads):
        p = np.round(rng.random(n) * 7) / 7  # ties, within and across chunks
        y = rng.random(n) < 0.4
        eager.update(y, p)
        assert lazy.add(y, p) is None
        if read:
            np.testing.assert_equal(lazy.value, eager.value)
    np.testing.assert_equal(lazy.value, eager.value)
    assert (lazy.u2, lazy.n_pos, lazy.n_neg, lazy.exact) == (eager.u2, eager.n_pos, eager.n_neg, eager.exact)
    a, b = lazy.get_state(), eager.get_state()
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_added_chunks_wait_for_the_read_and_are_copied():
    auc = RunningAUC()
    p = np.array([0.2, 0.7, 0.4])
    auc.add(np.array([0, 1, 1]), p)
    p[:] = 0.0  # the caller reuses its array: the chunk waiting is a copy
    assert auc.u2 == 0 and auc.n_pos == 0  # nothing counted before the AUC is read
    assert auc.value == 1.0 and (auc.n_pos, auc.n_neg) == (2, 1)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sizes=st.lists(st.integers(1, 120), min_size=2, max_size=8),
    block=st.sampled_from([1, 7, 2**16]),
)
def test_switch_to_bins_counts_every_kept_pair_block_by_block(seed, sizes, block):
    """The exact scores kept (several runs) are binned a block at a time at the switch: the pair count and the
    counts are those of binning every score at once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(metrics, "_BIN_BLOCK", block)
        _check_switch(seed, sizes)


def _check_switch(seed, sizes):
    rng = np.random.default_rng(seed)
    auc = RunningAUC(exact_limit=sum(sizes[:-1]), n_bins=64, scores="margin")
    ys, ss = [], []
    for n in sizes:
        s = np.round(rng.normal(size=n) * 10)
        y = rng.random(n) < 0.4
        auc.update(y, s)
        ys.append(y)
        ss.append(s)
    y, s = np.concatenate(ys), np.concatenate(ss)
    u2, hist = _dense_binned_u2([(auc._bin(s[y]), auc._bin(s[~y]))], 64)
    assert not auc.exact and auc.u2 == u2
    np.testing.assert_array_equal(auc._hist, hist)


def test_switch_to_bins_needs_no_copy_of_the_kept_scores():
    """The switch bins the kept scores run by run, releasing each: its peak memory is about the scores it
    replaces, not two or three times as much (a merged copy and its bins)."""
    rng = np.random.default_rng(0)
    auc = RunningAUC(exact_limit=400_000, n_bins=1024)
    for _ in range(4):
        p = rng.random(100_000)
        auc.update(p < 0.3, p)
    kept = 400_000 * 8
    tracemalloc.start()
    try:
        auc.update(np.array([True, False]), np.array([0.2, 0.7]))  # past the limit: the switch
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not auc.exact
    assert peak < 0.5 * kept, peak  # the kept scores are freed as they are binned; blocks of bins are small
