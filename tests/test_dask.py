"""ftrlx.dask: the combine step (in process, no Dask needed) and training over a real two-process LocalCluster."""

import copy
import functools
import importlib.util

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import log_loss

import ftrlx
import ftrlx.dask as fdask
from ftrlx.datasets import make_click_data

HAS_DISTRIBUTED = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(not HAS_DISTRIBUTED, reason='needs dask.distributed (pip install "ftrlx[dask]")')

CLASSIFIERS = [
    ftrlx.FTRLClassifier(),
    ftrlx.RDAClassifier(),
    ftrlx.FOBOSClassifier(l2=1e-4),
    ftrlx.TruncatedGradientClassifier(),
    ftrlx.AdaGradClassifier(l1=1e-5, l2=1e-5),
    ftrlx.AdaGradClassifier(l1=1e-5, l1_form="rda"),
    ftrlx.LazyAdamClassifier(),
    ftrlx.OGDClassifier(l1=1e-6, l2=1e-5),
]
IDS = [type(e).__name__ + ("-rda" if getattr(e, "l1_form", "") == "rda" else "") for e in CLASSIFIERS]


@pytest.fixture(scope="module")
def small():
    X, y = make_click_data(24_000, n_fields=12, n_features=2**14, seed=3)
    return X[:20_000], y[:20_000], X[20_000:], y[20_000:]


def schedule(X, y, n_workers, n_rounds):
    """Consecutive blocks: in round r worker w trains on block r * n_workers + w."""
    n = X.shape[0] // (n_workers * n_rounds)
    block = lambda i: [(X[i * n : (i + 1) * n], y[i * n : (i + 1) * n])]  # noqa: E731
    return [[block(r * n_workers + w) for w in range(n_workers)] for r in range(n_rounds)]


def test_one_worker_delta_is_the_single_process_model(small):
    X, y, Xt, _ = small
    for est in CLASSIFIERS:
        single = copy.deepcopy(est).partial_fit(X, y, classes=[0, 1])
        mixed = fdask.mix_in_process(copy.deepcopy(est), schedule(X, y, 1, 5), classes=[0, 1], combine="delta")
        assert mixed.t_ == single.t_
        np.testing.assert_allclose(mixed.decision_function(Xt), single.decision_function(Xt), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("est", CLASSIFIERS, ids=IDS)
def test_replicas_equal_the_combined_model_after_each_round(small, est):
    X, y, _, _ = small
    master = copy.deepcopy(est)
    replicas = [fdask.Replica(copy.deepcopy(est), [0, 1]) for _ in range(3)]
    for work in schedule(X[:6_000], y[:6_000], 3, 4):
        for rep, chunks in zip(replicas, work):
            for Xc, yc in chunks:
                rep.train(Xc, yc)
        messages = [rep.message() for rep in replicas]
        touched = np.unique(np.concatenate([sp.csr_matrix(c[0][0]).indices for c in work]))
        update = fdask.combine_round(master, replicas, messages, "auto")
        np.testing.assert_array_equal(update.idx, touched)  # only the columns of the round's rows travel
        for rep in replicas:
            for name in ("state_", "istate_", "gstate_"):
                np.testing.assert_array_equal(getattr(rep.estimator, name), getattr(master, name))


def test_rda_delta_adds_the_sums_of_gradients(small):
    X, y, _, _ = small
    a, b = fdask.Replica(ftrlx.RDAClassifier(), [0, 1]), fdask.Replica(ftrlx.RDAClassifier(), [0, 1])
    a.train(X[:3_000], y[:3_000])
    b.train(X[3_000:6_000], y[3_000:6_000])
    master = ftrlx.RDAClassifier()
    fdask.combine(master, [a.message(), b.message()], "delta")
    np.testing.assert_allclose(master.state_, a.estimator.state_ + b.estimator.state_, rtol=1e-12)
    assert master.t_ == 6_000


def test_average_of_identical_workers_changes_nothing(small):
    X, y, _, _ = small
    for est in CLASSIFIERS:
        one = copy.deepcopy(est).partial_fit(X[:2_000], y[:2_000], classes=[0, 1])
        reps = [fdask.Replica(copy.deepcopy(est), [0, 1]) for _ in range(2)]
        for rep in reps:
            rep.train(X[:2_000], y[:2_000])
        master = copy.deepcopy(est)
        fdask.combine(master, [rep.message() for rep in reps], "average")
        np.testing.assert_allclose(master.coef_, one.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("est", CLASSIFIERS, ids=IDS)
def test_mixing_four_workers_stays_close_to_one_process(small, est):
    X, y, Xt, yt = small
    single = log_loss(yt, copy.deepcopy(est).partial_fit(X, y, classes=[0, 1]).predict_proba(Xt)[:, 1])
    mixed = fdask.mix_in_process(copy.deepcopy(est), schedule(X, y, 4, 50), classes=[0, 1])
    # delta merging with short rounds is within noise of one process; averaging pays for the dilution
    slack = 1.01 if fdask.resolve_combine(est, "auto") == "delta" else 1.10
    assert log_loss(yt, mixed.predict_proba(Xt)[:, 1]) < slack * single


def test_ftrl_weights_mode_keeps_the_averaged_weights(small):
    X, y, _, _ = small
    reps = [fdask.Replica(ftrlx.FTRLClassifier(l1=0.5), [0, 1]) for _ in range(2)]
    reps[0].train(X[:3_000], y[:3_000])
    reps[1].train(X[3_000:6_000], y[3_000:6_000])
    want = (reps[0].estimator.coef_ + reps[1].estimator.coef_) / 2
    want_b = (reps[0].estimator.intercept_ + reps[1].estimator.intercept_) / 2
    master = ftrlx.FTRLClassifier(l1=0.5)
    fdask.combine(master, [r.message() for r in reps], "weights")
    np.testing.assert_allclose(master.coef_, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(master.intercept_, want_b, rtol=1e-9)


def test_combine_modes_are_checked():
    with pytest.raises(ValueError, match="combine='weights'.*FTRL only"):
        fdask.resolve_combine(ftrlx.RDAClassifier(), "weights")
    with pytest.raises(ValueError, match="combine='sum' is not one of"):
        fdask.resolve_combine(ftrlx.FTRLClassifier(), "sum")
    with pytest.raises(ValueError, match="not one of ftrlx's online estimators"):
        fdask.resolve_combine(object(), "auto")


# ---------------------------------------------------------------- a real cluster


@pytest.fixture(scope="module")
def client():
    if not HAS_DISTRIBUTED:
        pytest.skip('needs dask.distributed (pip install "ftrlx[dask]")')
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0")
    with Client(cluster) as c:
        yield c
    cluster.close()


KEEP = []  # the scattered blocks: data that no future refers to any more is dropped by the scheduler


def bag_of_blocks(client, X, y, n_blocks):
    """A bag of (X, y) blocks that already live on the workers."""
    import dask.bag as db

    n = X.shape[0] // n_blocks
    futures = client.scatter([[(X[i * n : (i + 1) * n], y[i * n : (i + 1) * n])] for i in range(n_blocks)])
    KEEP.append(futures)
    return db.from_delayed(futures)


@pytest.fixture(scope="module")
def clicks():
    X, y = make_click_data(240_000, n_features=2**18, seed=0)
    return X[:200_000], y[:200_000], X[200_000:], y[200_000:]


@needs_dask
def test_two_workers_match_one_process(client, clicks, tmp_path):
    X, y, Xt, yt = clicks
    single = ftrlx.FTRLClassifier().partial_fit(X, y, classes=[0, 1])
    clf = fdask.fit(ftrlx.FTRLClassifier(), bag_of_blocks(client, X, y, 50), client=client, classes=[0, 1])
    assert clf.t_ == 200_000
    loss = log_loss(yt, clf.predict_proba(Xt)[:, 1])
    assert loss < 1.005 * log_loss(yt, single.predict_proba(Xt)[:, 1])
    # the cluster computed exactly what the in-process mixing computes on the same schedule
    local = fdask.mix_in_process(ftrlx.FTRLClassifier(), schedule(X, y, 2, 25), classes=[0, 1])
    np.testing.assert_array_equal(clf.state_, local.state_)
    # an ordinary estimator: save, load, predict, continue
    ftrlx.save(clf, tmp_path / "m.ftrlx")
    again = ftrlx.load(tmp_path / "m.ftrlx")
    np.testing.assert_array_equal(again.predict_proba(Xt), clf.predict_proba(Xt))
    again.partial_fit(Xt[:10_000], yt[:10_000])
    assert again.t_ == 210_000


@needs_dask
def test_a_fitted_model_continues_over_the_cluster(client, clicks):
    X, y, Xt, yt = clicks
    start = ftrlx.FTRLClassifier().partial_fit(X[:100_000], y[:100_000], classes=[0, 1])
    before = log_loss(yt, start.predict_proba(Xt)[:, 1])
    out = fdask.fit(start, bag_of_blocks(client, X[100_000:], y[100_000:], 40), client=client, rounds=10)
    assert out is start and start.t_ == 200_000
    assert log_loss(yt, start.predict_proba(Xt)[:, 1]) < before


@needs_dask
def test_dataframe_array_and_paths(client, tmp_path):
    import dask.array as da
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

    X, y, raw = make_click_data(8_000, n_fields=6, n_features=2**12, seed=1, return_raw=True)
    frame = pd.DataFrame(raw, columns=[f"f{j}" for j in range(6)]).assign(click=y)
    hasher = ftrlx.CategoricalHasher(n_features=2**12)
    from_frame = fdask.fit(
        ftrlx.FTRLClassifier(),
        dd.from_pandas(frame, npartitions=8),
        client=client,
        classes=[0, 1],
        label="click",
        hasher=hasher,
    )
    from_array = fdask.fit(
        ftrlx.FTRLClassifier(),
        da.from_array(X, chunks=(1_000, -1), asarray=False),
        da.from_array(y, chunks=1_000),
        client=client,
        classes=[0, 1],
    )
    np.testing.assert_array_equal(from_frame.state_, from_array.state_)  # the hasher gives X's columns
    paths = []
    for i in range(4):
        path = tmp_path / f"part{i}.svm"
        ftrlx_svm = sp.csr_matrix(X[i * 2_000 : (i + 1) * 2_000])
        from sklearn.datasets import dump_svmlight_file

        dump_svmlight_file(ftrlx_svm, y[i * 2_000 : (i + 1) * 2_000], str(path), zero_based=True)
        paths.append(str(path))
    reader = functools.partial(ftrlx.datasets.iter_svmlight, chunk_size=1_000, n_features=2**12, zero_based=True)
    from_paths = fdask.fit(
        ftrlx.FTRLClassifier(), db.from_sequence(paths, npartitions=4), client=client, classes=[0, 1], reader=reader
    )
    # two files per worker, one round each, read in chunks of 1,000 rows: the same as blocks of 2,000 rows
    np.testing.assert_array_equal(
        from_paths.state_, fdask.mix_in_process(ftrlx.FTRLClassifier(), schedule(X, y, 2, 2), classes=[0, 1]).state_
    )


@needs_dask
def test_bad_arguments_say_what_to_pass(client):
    import dask.array as da
    import dask.dataframe as dd
    import pandas as pd

    frame = dd.from_pandas(pd.DataFrame({"a": [1, 2], "click": [0, 1]}), npartitions=1)
    with pytest.raises(ValueError, match="needs label= .* and hasher="):
        fdask.fit(ftrlx.FTRLClassifier(), frame, client=client, classes=[0, 1])
    with pytest.raises(ValueError, match="label='y' is not a column"):
        fdask.fit(
            ftrlx.FTRLClassifier(), frame, client=client, classes=[0, 1], label="y", hasher=ftrlx.CategoricalHasher()
        )
    with pytest.raises(ValueError, match="classes= must be given"):
        fdask.fit(ftrlx.FTRLClassifier(), frame, client=client)
    with pytest.raises(ValueError, match="one block of columns"):
        fdask.fit(
            ftrlx.FTRLClassifier(), da.zeros((4, 4), chunks=2), da.zeros(4, chunks=2), client=client, classes=[0, 1]
        )
    with pytest.raises(ValueError, match="pass rounds= or partitions_per_round=, not both"):
        fdask.fit(
            ftrlx.FTRLClassifier(),
            da.zeros((4, 4), chunks=(2, 4)),
            da.zeros(4, chunks=2),
            client=client,
            classes=[0, 1],
            rounds=2,
            partitions_per_round=1,
        )
    with pytest.raises(ValueError, match="data is a list"):
        fdask.fit(ftrlx.FTRLClassifier(), [1, 2], client=client, classes=[0, 1])
