"""Reliability of ftrlx.io against crafted model files.

A crafted file here is one with a valid checksum (written by the module's own writer, or tampered with and
re-checksummed) whose content is inconsistent; loading it must give a ValueError naming the file and the attribute,
never a model that crashes the interpreter later.
"""

import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

import ftrlx
import ftrlx.io as fio
from ftrlx.io import FormatError, export_sparse

ESTIMATORS = [getattr(ftrlx, name) for name in ftrlx._ESTIMATORS]


def make_data(n=300, d=40, seed=0, n_classes=2):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.1, format="csr", random_state=rng)
    y = rng.integers(0, n_classes, n)
    return X, y


def fitted(cls=ftrlx.FTRLClassifier, n_classes=2, **params):
    X, y = make_data(n_classes=n_classes)
    model = cls(random_state=0, **params)
    if not hasattr(model, "predict_proba") and "Regressor" in cls.__name__:
        y = y.astype(np.float64)
    return model.fit(X, y)


def stored_rows(dense):
    """``state_`` as the stored rows of format version 2, found the slow way (every row, whatever the size)."""
    rows = [np.flatnonzero(d.view(np.uint64).any(axis=1)) for d in dense]
    indptr = np.cumsum([0] + [r.size for r in rows]).astype(np.int64)
    values = np.concatenate([d[r] for d, r in zip(dense, rows)])
    return fio._Rows(dense.shape, indptr, np.concatenate(rows).astype(np.int32), values)


def craft(path, model, edit=None, class_path=None, kind="model", params=None, stored=False):
    """Write ``model`` with its state edited by ``edit(state)``, through the module's own writer; with ``stored``,
    a 3-d float64 ``state_`` is written as its stored rows."""
    state = dict(model.__getstate__())
    if edit is not None:
        edit(state)
    dense = state.get("state_")
    if stored and isinstance(dense, np.ndarray) and dense.dtype == np.float64 and dense.ndim == 3:
        state["state_"] = stored_rows(dense)
    if params is None:  # the header's copy of the hyper-parameters follows the edited state
        params = {k: state[k] for k in model.get_params(deep=False) if k in state}
    enc = fio._Encoder()
    header = fio._header(kind, class_path or fio._class_path(model))
    header.update(params=enc.encode(params, "params"), state=enc.encode(state, "state"), metadata={})
    if kind == "checkpoint":
        header["extra"] = enc.encode({"version": 1}, "extra")
    fio._write_container(path, header, enc.arrays)
    return os.fspath(path)


def rechecksum(path, edit_header):
    """Edit the JSON header of a model file and give it a valid checksum again."""
    data = open(path, "rb").read()
    magic, version, hlen = struct.unpack_from("<8sIQ", data)
    header = json.loads(data[20 : 20 + hlen])
    edit_header(header)
    hbytes = json.dumps(header).encode()
    body = struct.pack("<8sIQ", magic, version, len(hbytes)) + hbytes + data[20 + hlen : -32]
    open(path, "wb").write(body + hashlib.sha256(body).digest())


def refused(path, *words):
    """Load ``path``, expecting a FormatError (a ValueError) that names the file and ``words``."""
    with pytest.raises(ValueError) as info:
        ftrlx.load(path)
    assert isinstance(info.value, FormatError)
    message = str(info.value)
    assert os.fspath(path) in message, message
    for word in words:
        assert word in message, message
    return message


def set_items(**items):
    return lambda state: state.update(items)


# ---------------------------------------------------------------------------------------------------------------
# A. crafted files


def test_every_estimator_still_round_trips_bitwise(tmp_path):
    X, _ = make_data()
    for cls in ESTIMATORS:
        for model in (cls(), fitted(cls), fitted(cls, n_classes=3) if "Classifier" in cls.__name__ else None):
            if model is None:
                continue
            path = tmp_path / f"{cls.__name__}.ftrlx"
            ftrlx.save(model, path)
            again = ftrlx.load(path)
            a, b = model.__getstate__(), again.__getstate__()
            assert a.keys() == b.keys()
            for key, value in a.items():
                other = b[key]
                if isinstance(value, np.ndarray):
                    assert value.dtype == other.dtype and value.tobytes() == other.tobytes(), (cls, key)
                else:
                    assert type(value) is type(other) and repr(value) == repr(other), (cls, key)
            if hasattr(model, "state_"):
                np.testing.assert_array_equal(again.predict(X), model.predict(X))


def test_a_file_laid_out_by_the_documented_format_loads(tmp_path):
    """Format version 1 as the module docstring specifies it, assembled here by hand: files already written
    keep loading bitwise."""
    model = fitted(l1=0.3)
    arrays, state = [], {}
    for key, value in model.__getstate__().items():
        if isinstance(value, np.ndarray):
            arrays.append(value)
            value = {"$array": len(arrays) - 1}
        state[key] = value
    params = {"$dict": [[k, state[k]] for k in model.get_params()]}  # every dict is a list of pairs
    blobs = []
    for arr in arrays:
        buf = __import__("io").BytesIO()
        np.save(buf, arr, allow_pickle=False)
        blobs.append(buf.getvalue())
    offsets = np.cumsum([0] + [len(b) for b in blobs])
    header = {
        "format": "ftrlx-model",
        "kind": "model",
        "class": "ftrlx.FTRLClassifier",
        "ftrlx_version": "0.1.0",
        "created": "2024-01-01T00:00:00+00:00",
        "params": params,
        "state": {"$dict": [[k, v] for k, v in state.items()]},
        "metadata": {"$dict": []},
        "arrays": [
            {"offset": int(o), "nbytes": len(b), "dtype": a.dtype.str, "shape": list(a.shape)}
            for o, b, a in zip(offsets, blobs, arrays)
        ],
        "payload_nbytes": int(offsets[-1]),
    }
    hbytes = json.dumps(header).encode()
    body = b"\x89FTRLX\r\n" + struct.pack("<IQ", 1, len(hbytes)) + hbytes + b"".join(blobs)
    path = tmp_path / "v1.ftrlx"
    path.write_bytes(body + hashlib.sha256(body).digest())
    again = ftrlx.load(path)
    for name in ("state_", "istate_", "gstate_", "classes_"):
        assert getattr(again, name).tobytes() == getattr(model, name).tobytes()


def test_feature_names_are_stored_and_checked(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = make_data()
    frame = pd.DataFrame(X.toarray(), columns=[f"c{i}" for i in range(X.shape[1])])
    model = ftrlx.FTRLClassifier(random_state=0).fit(frame, y)
    ftrlx.save(model, tmp_path / "named.ftrlx")
    again = ftrlx.load(tmp_path / "named.ftrlx")
    assert again.feature_names_in_.dtype == object
    assert again.feature_names_in_.tolist() == model.feature_names_in_.tolist()
    np.testing.assert_array_equal(again.predict_proba(frame), model.predict_proba(frame))
    path = craft(tmp_path / "short.ftrlx", model, set_items(feature_names_in_=np.array(["a", "b"])))
    refused(path, "feature_names_in_", "40 strings")


SHAPE_CASES = {
    "n_features_in_ wider than the state": (set_items(n_features_in_=10**7), ["state_", "(1, 10000000, 2)"]),
    "n_features_in_ narrower": (set_items(n_features_in_=3), ["state_", "shape (1, 40, 2)"]),
    "n_features_in_ zero": (set_items(n_features_in_=0), ["n_features_in_", "positive integer"]),
    "n_features_in_ a float": (set_items(n_features_in_=40.0), ["n_features_in_"]),
    "three slots for FTRL": (lambda s: s.update(state_=np.zeros((1, 40, 3))), ["state_", "(1, 40, 2)"]),
    "a 2-d state": (lambda s: s.update(state_=np.zeros((40, 2))), ["state_"]),
    "a float32 state": (lambda s: s.update(state_=s["state_"].astype(np.float32)), ["state_", "float64"]),
    "a big-endian state": (lambda s: s.update(state_=s["state_"].astype(">f8")), ["state_", "float64"]),
    "a list for a state": (lambda s: s.update(state_=[1.0, 2.0]), ["state_", "float64"]),
    "istate_ too short": (lambda s: s.update(istate_=np.zeros((1, 1))), ["istate_", "(1, 2)"]),
    "gstate_ of two outputs": (lambda s: s.update(gstate_=np.zeros((2, 3))), ["gstate_", "(1, 3)"]),
    "NaN in the state": (lambda s: s["state_"].__setitem__((0, 5, 0), np.nan), ["state_", "nan", "(0, 5, 0)"]),
    "infinity in istate_": (lambda s: s["istate_"].__setitem__((0, 0), np.inf), ["istate_", "inf"]),
    "a negative sqrt(n)": (lambda s: s["state_"].__setitem__((0, 1, 1), -1.0), ["state_", "negative"]),
    "a negative step count": (lambda s: s["gstate_"].__setitem__((0, 0), -3.0), ["gstate_", "t_"]),
    "a fractional step count": (lambda s: s["gstate_"].__setitem__((0, 0), 2.5), ["gstate_", "whole numbers"]),
    "a huge step count": (lambda s: s["gstate_"].__setitem__((0, 0), 1e300), ["gstate_"]),
    "three classes, one output": (set_items(classes_=np.array([0, 1, 2])), ["state_", "3 classes need 3"]),
    "one class": (set_items(classes_=np.array([1])), ["classes_", "two distinct"]),
    "unsorted classes": (set_items(classes_=np.array([1, 0])), ["classes_", "sorted"]),
    "repeated classes": (set_items(classes_=np.array([1, 1])), ["classes_"]),
    "2-d classes": (set_items(classes_=np.array([[0, 1]])), ["classes_", "1-d"]),
    "NaN classes": (set_items(classes_=np.array([0.0, np.nan])), ["classes_", "NaN"]),
    "a negative n_iter_": (set_items(n_iter_=-1), ["n_iter_"]),
    "a string sparse_coef_": (set_items(sparse_coef_="yes"), ["sparse_coef_"]),
    "state_ without gstate_": (lambda s: s.pop("gstate_"), ["gstate_", "missing"]),
    "n_iter_ on an unfitted model": (
        lambda s: [s.pop(k) for k in ("state_", "istate_", "gstate_", "classes_", "n_features_in_")],
        ["missing", "n_iter_"],
    ),
}


@pytest.mark.parametrize("stored", [False, True], ids=["dense", "stored rows"])
@pytest.mark.parametrize("case", sorted(SHAPE_CASES))
def test_inconsistent_arrays_are_refused(tmp_path, case, stored):
    """The same refusals, with the same words, whether state_ is dense or held as its stored rows."""
    edit, words = SHAPE_CASES[case]
    path = craft(tmp_path / "bad.ftrlx", fitted(), edit, stored=stored)
    refused(path, *words)


ATTRIBUTE_CASES = {
    "class constraints replaced": (
        set_items(_parameter_constraints={}),
        ["_parameter_constraints", "not an attribute"],
    ),
    "the validation cache": (set_items(_validated_params=1), ["_validated_params"]),
    "a computed property": (set_items(coef_=np.zeros((1, 40))), ["coef_"]),
    "the algorithm name": (set_items(_algorithm="rda"), ["_algorithm"]),
    "a method": (set_items(predict="x"), ["predict"]),
    "a key that is not a string": (lambda s: s.update({3: 4}), ["state[3]"]),
    "a missing hyper-parameter": (lambda s: s.pop("l2"), ["l2", "missing"]),
    "alpha = -1": (set_items(alpha=-1.0), ["alpha=-1.0", "invalid hyper-parameter"]),
    "batch_size = 0": (set_items(batch_size=0), ["batch_size=0"]),
    "a float batch_size": (set_items(batch_size=2.0), ["batch_size"]),
    "an unknown loss": (set_items(loss="bogus"), ["loss='bogus'"]),
    "a regression loss": (set_items(loss="squared_error"), ["loss"]),
    "NaN l1": (set_items(l1=float("nan")), ["l1"]),
    "fit_intercept = 1": (set_items(fit_intercept=1), ["fit_intercept"]),
}


@pytest.mark.parametrize("case", sorted(ATTRIBUTE_CASES))
def test_attributes_an_estimator_cannot_have_are_refused(tmp_path, case):
    edit, words = ATTRIBUTE_CASES[case]
    path = craft(tmp_path / "bad.ftrlx", fitted(), edit)
    refused(path, *words)
    path = craft(tmp_path / "bad.ckpt", fitted(), edit, kind="checkpoint")
    with pytest.raises(FormatError, match=re.escape(words[0])):
        fio._load_checkpoint(path)


def test_cross_parameter_rules_and_the_header_copy_are_checked(tmp_path):
    ogd = fitted(ftrlx.OGDClassifier)
    refused(craft(tmp_path / "ogd.ftrlx", ogd, set_items(eta0=2.0, l2=0.6)), "eta0 * l2")
    model = fitted()
    params = dict(model.get_params(deep=False), alpha=0.5)
    refused(craft(tmp_path / "p.ftrlx", model, params=params), "alpha", "header says 0.5")
    refused(craft(tmp_path / "q.ftrlx", model, params={"alpha": 0.1}), "params", "exactly")


@pytest.mark.parametrize(
    "class_path",
    [
        "ftrlx.hashing.CategoricalHasher",
        "ftrlx.preprocessing.StreamingStdScaler",
        "ftrlx.io.SparseModel",
        "ftrlx.linear_model._base._OnlineLinearModel",
        "ftrlx.NoSuchModel",
        "ftrlx.linear_model.DivergenceError",
    ],
)
def test_only_registered_classes_load(tmp_path, class_path):
    path = craft(tmp_path / "x.ftrlx", fitted(), class_path=class_path)
    refused(path, "refusing", class_path)


def test_another_registered_class_is_checked_against_its_own_attributes(tmp_path):
    refused(craft(tmp_path / "rda.ftrlx", fitted(), class_path="ftrlx.RDAClassifier"), "alpha", "RDAClassifier")
    refused(craft(tmp_path / "reg.ftrlx", fitted(), class_path="ftrlx.FTRLRegressor"), "class_weight")
    regressor = fitted(ftrlx.FTRLRegressor)
    refused(craft(tmp_path / "clf.ftrlx", regressor, class_path="ftrlx.FTRLClassifier"), "class_weight", "missing")


def test_saving_other_ftrlx_classes_is_refused(tmp_path):
    from ftrlx.hashing import CategoricalHasher

    with pytest.raises(FormatError, match="pickle or joblib"):
        ftrlx.save(CategoricalHasher(n_features=8), tmp_path / "h.ftrlx")
    assert not os.listdir(tmp_path)


CONTAINER_CASES = {
    "an array past the payload": lambda h: h["arrays"][0].update(offset=h["payload_nbytes"]),
    "a negative offset": lambda h: h["arrays"][0].update(offset=-100),
    "a manifest dtype that is not the array's": lambda h: h["arrays"][-1].update(dtype="<i8"),
    "a manifest shape that is not the array's": lambda h: h["arrays"][-1].update(shape=[1, 999, 2]),
    "a short blob": lambda h: h["arrays"][-1].update(nbytes=h["arrays"][-1]["nbytes"] - 8),
    "a reference to a missing array": lambda h: h["state"]["$dict"][-1].__setitem__(1, {"$array": 99}),
    "a boolean array reference": lambda h: h["state"]["$dict"][-1].__setitem__(1, {"$array": True}),
    "a scalar that is an array": lambda h: h["state"]["$dict"][-1].__setitem__(1, {"$scalar": 0}),
    "a bad float tag": lambda h: h["state"]["$dict"][-1].__setitem__(1, {"$float": "1e999"}),
    "an unknown tag": lambda h: h["state"]["$dict"][-1].__setitem__(1, {"$code": "x"}),
    "an unhashable key": lambda h: h["state"]["$dict"].append([[1, 2], 3]),
    "a state that is a list": lambda h: h.update(state=[1, 2]),
    "no state": lambda h: h.pop("state"),
    "an unknown kind": lambda h: h.update(kind="weights"),
    "another format": lambda h: h.update(format="other"),
    "a class that is not a string": lambda h: h.update({"class": ["ftrlx.FTRLClassifier"]}),
    "a negative payload size": lambda h: h.update(payload_nbytes=-1),
}


@pytest.mark.parametrize("case", sorted(CONTAINER_CASES))
def test_tampered_and_rechecksummed_files_are_refused(tmp_path, case):
    path = tmp_path / "m.ftrlx"
    ftrlx.save(fitted(), path)
    rechecksum(path, CONTAINER_CASES[case])
    with pytest.raises(FormatError):
        ftrlx.load(path)


def test_a_deeply_nested_header_is_refused(tmp_path):
    path = tmp_path / "m.ftrlx"
    ftrlx.save(fitted(), path)
    data = path.read_bytes()
    hlen = struct.unpack_from("<Q", data, 12)[0]
    hbytes = data[20 : 20 + hlen]
    assert b'"metadata":{"$dict":[]}' in hbytes
    hbytes = hbytes.replace(b'"metadata":{"$dict":[]}', b'"metadata":' + b"[" * 100_000 + b"]" * 100_000)
    body = data[:12] + struct.pack("<Q", len(hbytes)) + hbytes + data[20 + hlen : -32]
    path.write_bytes(body + hashlib.sha256(body).digest())
    with pytest.raises(FormatError, match="corrupt header"):
        ftrlx.load(path)


SPARSE_CASES = {
    "an index out of range": (lambda s: s["indices"].__setitem__(0, 10**9), "outside"),
    "a negative index": (lambda s: s["indices"].__setitem__(0, -1), "outside"),
    "decreasing row pointers": (lambda s: s["indptr"].__setitem__(-1, -1), "indptr"),
    "row pointers past the indices": (lambda s: s["indptr"].__setitem__(-1, 10**6), "indptr"),
    "a NaN weight": (lambda s: s["values"].__setitem__(0, np.nan), "NaN"),
    "an intercept per class for one row": (lambda s: s.update(intercept=np.zeros(3)), "intercept"),
    "int32 indices": (lambda s: s.update(indices=s["indices"].astype(np.int32)), "indices"),
    "an unknown link": (lambda s: s.update(link="probit"), "link"),
    "a zero width": (lambda s: s.update(n_features=0), "n_features"),
    "an extra entry": (lambda s: s.update(code="x"), "exactly"),
    "a bad hasher": (lambda s: s.update(hasher_spec={"type": "Other"}), "hasher_spec"),
    "unsorted classes": (lambda s: s.update(classes=np.array([1, 0])), "classes"),
}


CHILD_LOADS = textwrap.dedent(r"""
    import json, sys
    import ftrlx
    from ftrlx.io import SparseModel
    for path in sys.argv[1:]:
        for reader in (ftrlx.load, SparseModel.load):
            try:
                reader(path)
                print(json.dumps(["loaded", ""]), flush=True)
            except ValueError as exc:
                print(json.dumps([type(exc).__name__, str(exc)]), flush=True)
""")


def test_crafted_sparse_exports_are_refused(tmp_path):
    """Loading a sparse export builds the scoring matrix, which reads the indices unchecked (an index out of range
    segfaulted): the files are loaded in a child process, which must refuse each with a FormatError."""
    model = fitted(l1=0.0)
    good = tmp_path / "w.ftrlx"
    export_sparse(model, good)
    paths, words = [], []
    for i, case in enumerate(sorted(SPARSE_CASES)):
        header, arrays = fio._read_container(good)
        state = fio._decode(header["state"], arrays)
        edit, word = SPARSE_CASES[case]
        edit(state)
        enc = fio._Encoder()
        header = dict(
            fio._header("sparse", "ftrlx.io.SparseModel"), params={}, metadata={}, state=enc.encode(state, "state")
        )
        paths.append(os.fspath(tmp_path / f"bad{i}.ftrlx"))
        words.append(word)
        fio._write_container(paths[-1], header, enc.arrays)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD_LOADS, *paths, os.fspath(good)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"the child died (status {proc.returncode}): {proc.stderr[-2000:]}"
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert results[-2:] == [["loaded", ""], ["loaded", ""]]
    for i, (path, word) in enumerate(zip(paths, words)):
        for kind, message in results[2 * i : 2 * i + 2]:
            assert kind == "FormatError" and path in message and word in message, (sorted(SPARSE_CASES)[i], message)


CHILD_USES_MODELS = textwrap.dedent(r"""
    import sys
    import numpy as np, scipy.sparse as sp
    import ftrlx
    for path in sys.argv[1:]:
        try:
            model = ftrlx.load(path)
        except ValueError as exc:
            print("refused", type(exc).__name__, flush=True)
            continue
        # what an attacker's file would make the kernels do: the widest column it claims, then training on it
        d = model.n_features_in_
        X = sp.csr_matrix(([1.0, 1.0], ([0, 1], [d - 1, d - 1])), shape=(2, d))
        model.predict_proba(X)
        model.partial_fit(X, np.array([0, 1]))
        print("accepted", flush=True)
""")


def test_crash_prone_files_give_an_error_not_a_crash(tmp_path):
    """The files that segfaulted (n_features_in_ past the state), hit SIGFPE or looped forever (batch_size=0
    with the constraints replaced) load in a child process, which must report a ValueError for each."""
    model = fitted()
    paths = [
        craft(tmp_path / "wide.ftrlx", model, set_items(n_features_in_=10**7)),
        craft(tmp_path / "wider.ftrlx", model, set_items(n_features_in_=41)),
        craft(tmp_path / "batch0.ftrlx", model, set_items(batch_size=0, _parameter_constraints={})),
        craft(tmp_path / "alpha.ftrlx", model, set_items(alpha=-1.0, _parameter_constraints={})),
    ]
    good = tmp_path / "good.ftrlx"
    ftrlx.save(model, good)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD_USES_MODELS, *paths, os.fspath(good)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"the child died (status {proc.returncode}): {proc.stderr[-2000:]}"
    assert proc.stdout.split("\n") == ["refused FormatError"] * len(paths) + ["accepted", ""], proc.stdout
