"""Tests for ftrlx.io: the model file format, pickling, sparse export."""

import hashlib
import json
import os
import pickle
import struct

import joblib
import numpy as np
import pytest
import scipy.sparse as sp

import ftrlx
import ftrlx.io as fio
from ftrlx.io import FormatError, SparseModel, export_sparse, read_header


def make_data(n=600, d=200, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.05, format="csr", random_state=rng)
    w = rng.normal(size=d)
    y = (X @ w + rng.normal(0, 0.3, n) > 0).astype(np.int64)
    return X, y


def fitted(**kw):
    X, y = make_data()
    params = {"random_state": 0, "l1": 0.5}
    params.update(kw)
    return ftrlx.FTRLClassifier(**params).fit(X, y), X


def assert_same_state(a, b):
    sa, sb = a.__getstate__(), b.__getstate__()
    assert sa.keys() == sb.keys()
    for key, value in sa.items():
        if isinstance(value, np.ndarray):
            assert value.dtype == sb[key].dtype and value.shape == sb[key].shape, key
            assert value.tobytes() == sb[key].tobytes(), key
        else:
            assert type(value) is type(sb[key]) and repr(value) == repr(sb[key]), key


def rewrite(path, edit_header=None, version=None):
    """Re-encode a model file after editing its header, with a valid checksum."""
    data = path.read_bytes()
    magic, ver, hlen = struct.unpack_from("<8sIQ", data)
    header = json.loads(data[20 : 20 + hlen])
    payload = data[20 + hlen : -32]
    if edit_header:
        edit_header(header)
    hbytes = json.dumps(header).encode()
    body = struct.pack("<8sIQ", magic, ver if version is None else version, len(hbytes))
    body += hbytes + payload
    path.write_bytes(body + hashlib.sha256(body).digest())


def test_round_trip_is_bitwise(tmp_path):
    model, X = fitted()
    path = tmp_path / "m.ftrlx"
    ftrlx.save(model, path, metadata={"rows_seen": 600, "note": "x"})
    again = ftrlx.load(path)
    assert type(again) is type(model)
    assert again.get_params() == model.get_params()
    assert_same_state(again, model)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    # The loaded model keeps learning exactly like the original.
    X2, y2 = make_data(seed=1)
    model.partial_fit(X2, y2)
    again.partial_fit(X2, y2)
    assert_same_state(again, model)


def test_unfitted_model_and_header(tmp_path):
    path = tmp_path / "u.ftrlx"
    ftrlx.save(
        ftrlx.FTRLClassifier(alpha=0.25, class_weight={0: 1.0, 1: 3.0}),
        path,
        metadata={"rows_seen": 0, "tags": ("a", 1)},
    )
    loaded = ftrlx.load(path)
    assert loaded.alpha == 0.25 and loaded.class_weight == {0: 1.0, 1: 3.0}
    h = read_header(path)
    assert h["format_version"] == fio.FORMAT_VERSION
    assert h["kind"] == "model"
    assert h["class"].startswith("ftrlx.") and h["class"].endswith("FTRLClassifier")
    assert h["ftrlx_version"] == ftrlx.__version__
    assert h["metadata"] == {"rows_seen": 0, "tags": ("a", 1)}
    assert h["params"]["alpha"] == 0.25
    assert path.read_bytes()[:8] == fio.MAGIC


def test_value_encoding_round_trip():
    values = {
        "none": None,
        "bools": [True, False],
        "int": 2**70,
        "float": 0.1 + 0.2,
        "specials": (float("nan"), float("inf"), float("-inf"), -0.0),
        "np_scalars": [np.float32(1.5), np.int64(-3), np.bool_(True)],
        "arrays": [
            np.arange(6, dtype=np.int32).reshape(2, 3),
            np.array(["ab", "c"]),
            np.zeros((0, 4)),
            np.asfortranarray(np.ones((2, 2))),
        ],
        "dict": {1: "one", (2, 3): [4], "s": {"nested": np.float64(2.5)}},
        "$tricky": {"$array": 0},
    }
    enc = fio._Encoder()
    tree = json.loads(json.dumps(enc.encode(values, "v"), allow_nan=False))
    arrays = [np.lib.format.read_array(__import__("io").BytesIO(fio._npy_bytes(a))) for a in enc.arrays]
    out = fio._decode(tree, arrays)
    assert out["none"] is None and out["bools"] == [True, False] and out["int"] == 2**70
    assert out["float"] == 0.1 + 0.2
    s = out["specials"]
    assert isinstance(s, tuple) and np.isnan(s[0]) and s[1:3] == (np.inf, -np.inf)
    assert str(s[3]) == "-0.0"
    assert [type(v) for v in out["np_scalars"]] == [np.float32, np.int64, np.bool_]
    for a, b in zip(out["arrays"], values["arrays"]):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    assert out["dict"] == {1: "one", (2, 3): [4], "s": {"nested": 2.5}}
    assert out["$tricky"] == {"$array": 0}


def test_unstorable_values_are_refused(tmp_path):
    model, _ = fitted()
    model.extra_ = np.array([object(), 1], dtype=object)
    with pytest.raises(TypeError, match="dtype object"):
        ftrlx.save(model, tmp_path / "x.ftrlx")
    model.extra_ = lambda: None
    with pytest.raises(TypeError, match="state\\['extra_'\\] of type function"):
        ftrlx.save(model, tmp_path / "x.ftrlx")
    assert not os.listdir(tmp_path)


def test_crash_during_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.ftrlx"
    old, X = fitted(l1=0.5)
    ftrlx.save(old, path)
    before = path.read_bytes()
    new, _ = fitted(l1=3.0)
    calls = []

    def broken(fh, blob):
        calls.append(len(blob))
        if len(calls) == 2:
            fh.write(blob[: len(blob) // 2])
            raise OSError("simulated crash while writing")
        fh.write(blob)

    monkeypatch.setattr(fio, "_write_blob", broken)
    with pytest.raises(OSError, match="simulated crash"):
        ftrlx.save(new, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.ftrlx"]  # no temporary left behind
    monkeypatch.undo()
    np.testing.assert_array_equal(ftrlx.load(path).predict_proba(X), old.predict_proba(X))


def test_save_to_missing_directory(tmp_path):
    model, _ = fitted()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ftrlx.save(model, tmp_path / "nope" / "m.ftrlx")


def test_corrupt_files_are_refused(tmp_path):
    model, _ = fitted()
    path = tmp_path / "m.ftrlx"
    ftrlx.save(model, path)
    good = path.read_bytes()

    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x01
    path.write_bytes(bytes(flipped))
    with pytest.raises(FormatError, match="checksum"):
        ftrlx.load(path)

    for cut in (len(good) - 1, len(good) - 40, 30, 12):
        path.write_bytes(good[:cut])
        with pytest.raises(FormatError, match="truncated|not an ftrlx"):
            ftrlx.load(path)

    path.write_bytes(good + b"\0")
    with pytest.raises(FormatError, match="trailing"):
        ftrlx.load(path)

    path.write_bytes(b"PK\x03\x04" + good[4:])
    with pytest.raises(FormatError, match="magic"):
        ftrlx.load(path)

    path.write_bytes(good)
    ftrlx.load(path)


def test_newer_format_version_is_refused(tmp_path):
    model, _ = fitted()
    path = tmp_path / "m.ftrlx"
    ftrlx.save(model, path)
    rewrite(path, version=fio.FORMAT_VERSION + 1)
    with pytest.raises(FormatError, match=f"version {fio.FORMAT_VERSION + 1}.*upgrade ftrlx"):
        ftrlx.load(path)


@pytest.mark.parametrize(
    "cls", ["os.system", "builtins.eval", "subprocess.Popen", "ftrlxevil.Model", "ftrlx.io.os", "ftrlx.stream.History"]
)
def test_classes_outside_ftrlx_are_refused(tmp_path, cls):
    model, _ = fitted()
    path = tmp_path / "m.ftrlx"
    ftrlx.save(model, path)
    rewrite(path, edit_header=lambda h: h.update({"class": cls}))
    with pytest.raises(FormatError, match="refusing|not an ftrlx estimator class"):
        ftrlx.load(path)


def test_saving_non_ftrlx_estimators_is_refused(tmp_path):
    from sklearn.linear_model import SGDClassifier

    with pytest.raises(FormatError, match="pickle or joblib"):
        ftrlx.save(SGDClassifier(), tmp_path / "s.ftrlx")


def test_pickle_and_joblib_round_trips(tmp_path):
    model, X = fitted()
    again = pickle.loads(pickle.dumps(model))
    assert_same_state(again, model)
    joblib.dump(model, tmp_path / "m.joblib")
    again = joblib.load(tmp_path / "m.joblib")
    assert_same_state(again, model)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


def test_export_sparse_predicts_like_the_model(tmp_path):
    model, X = fitted(l1=2.0)
    path = tmp_path / "w.sparse"
    export_sparse(model, path)
    served = SparseModel.load(path)
    nnz = int(np.count_nonzero(model.coef_))
    assert 0 < served.n_nonzero == nnz < model.coef_.size
    np.testing.assert_allclose(served.predict_proba(X), model.predict_proba(X), rtol=1e-12)
    np.testing.assert_allclose(served.decision_function(X), model.decision_function(X), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(served.predict_proba(X.toarray()), model.predict_proba(X), rtol=1e-12)
    np.testing.assert_array_equal(served.predict(X), model.predict(X))
    assert isinstance(ftrlx.load(path), SparseModel)
    assert os.path.getsize(path) < 40 * nnz + 4096
    with pytest.raises(ValueError, match="features"):
        served.predict_proba(X[:, :10])
    with pytest.raises(FormatError, match="not a sparse export"):
        full = tmp_path / "full.ftrlx"
        ftrlx.save(model, full)
        SparseModel.load(full)


def test_a_file_of_the_wrong_kind_is_named_with_its_kind(tmp_path):
    model, _ = fitted(l1=2.0)
    full, export = tmp_path / "full.ftrlx", tmp_path / "w.sparse"
    ftrlx.save(model, full)
    export_sparse(model, export)
    with pytest.raises(FormatError, match=r"full.ftrlx' is a saved model, not a training checkpoint; pass the file"):
        fio._load_checkpoint(full)
    with pytest.raises(FormatError, match=r"w.sparse' is a saved sparse, not a training checkpoint"):
        fio._load_checkpoint(export)
    with pytest.raises(FormatError, match=r"full.ftrlx' is a full model file, not a sparse export; use ftrlx.load"):
        SparseModel.load(full)


def test_export_sparse_with_string_labels_and_hinge(tmp_path):
    X, y = make_data()
    labels = np.where(y == 1, "click", "skip")
    model = ftrlx.FTRLClassifier(loss="hinge", random_state=0, l1=0.1).fit(X, labels)
    export_sparse(model, tmp_path / "h")
    served = SparseModel.load(tmp_path / "h")
    np.testing.assert_array_equal(served.predict(X), model.predict(X))
    with pytest.raises(AttributeError, match="log_loss"):
        served.predict_proba(X)


def test_export_sparse_scores_raw_rows_through_the_hasher(tmp_path):
    from ftrlx.hashing import CategoricalHasher

    rng = np.random.default_rng(3)
    n = 800
    raw = {
        "site": rng.choice(["a", "b", "c", "d"], n).astype(object),
        "device": rng.choice(["phone", "tablet", "pc"], n).astype(object),
        "price": rng.exponential(3.0, n),
    }
    y = ((raw["site"] == "a") | (raw["price"] > 5)).astype(np.int64)
    hasher = CategoricalHasher(n_features=2**12, numeric=["price"], numeric_mode="log_bin")
    X = hasher.transform(raw)
    model = ftrlx.FTRLClassifier(random_state=0, l1=0.1).fit(X, y)
    export_sparse(model, tmp_path / "w", hasher=hasher)
    served = SparseModel.load(tmp_path / "w")
    assert served.hasher_spec == hasher.get_spec()
    np.testing.assert_allclose(served.predict_proba_raw(raw), model.predict_proba(X), rtol=1e-12)


def test_export_requires_fitted_model(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        export_sparse(ftrlx.FTRLClassifier(), tmp_path / "w")
    served_spec = None
    sm = SparseModel(
        [0, 1],
        [0],
        [1.0],
        [0.0],
        3,
        classes=np.array([0, 1]),
        loss="log_loss",
        link="logistic",
        hasher_spec=served_spec,
    )
    with pytest.raises(ValueError, match="no hasher specification"):
        sm.predict_proba_raw({"a": ["x"]})


def test_read_header_describes_numpy_scalar_params(tmp_path):
    path = tmp_path / "s.ftrlx"
    ftrlx.save(ftrlx.FTRLClassifier(batch_size=np.int64(4)), path)
    assert read_header(path)["params"]["batch_size"] == "<array <i8 shape=()>"
    loaded = ftrlx.load(path)
    assert type(loaded.batch_size) is np.int64 and loaded.batch_size == 4


def test_a_model_file_with_a_width_beyond_its_state_is_refused(tmp_path):
    model, _ = fitted()
    path = tmp_path / "m.ftrlx"
    ftrlx.save(model, path)
    rewrite(
        path,
        edit_header=lambda h: [
            pair.__setitem__(1, 10**7) for pair in h["state"]["$dict"] if pair[0] == "n_features_in_"
        ],
    )
    with pytest.raises(ValueError, match=r"m\.ftrlx: state_: has shape \(1, 200, 2\).*n_features_in_=10000000"):
        ftrlx.load(path)


def test_the_temporary_file_of_a_save_is_named_after_its_target(tmp_path, monkeypatch):
    seen = []

    def spy(fh, blob):
        seen.extend(os.listdir(tmp_path))
        fh.write(blob)

    monkeypatch.setattr(fio, "_write_blob", spy)
    model, _ = fitted()
    ftrlx.save(model, tmp_path / "m.ftrlx")
    assert seen and all(name.startswith(f".m.ftrlx.{os.getpid()}@") and name.endswith(".tmp") for name in seen)
    assert os.listdir(tmp_path) == ["m.ftrlx"]
