"""Format version 2 of ftrlx.io in files: the state stored as its rows that are not all zero.

Checked here: bitwise round trips of every estimator, that training leaves every untouched coordinate all-zero
(what makes the files small), that version-1 files still load, that saving streams (no dense copy in memory), that
crafted stored rows are refused with an error naming the file and the attribute, and that the command line reads
the sparse export it writes.
"""

import hashlib
import json
import os
import struct
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import ftrlx
import ftrlx.io as fio
from ftrlx.io import FormatError, SparseModel, export_sparse, read_header

ESTIMATORS = [getattr(ftrlx, name) for name in ftrlx._ESTIMATORS]
WIDTH = 2**14


def touching(columns, n=400, seed=0, width=WIDTH):
    """Rows whose non-zeros all lie in ``columns`` (with explicit zeros too), and labels."""
    rng = np.random.default_rng(seed)
    cols = np.sort(rng.choice(columns, size=(n, 6)), axis=1)
    values = rng.uniform(0.2, 2.0, cols.shape) * (rng.random(cols.shape) > 0.05)
    X = sp.csr_matrix((values.ravel(), cols.ravel(), np.arange(0, cols.size + 1, 6)), shape=(n, width))
    return X, rng.integers(0, 3, n)


def train(cls, X, y, n_classes=2, **params):
    model = cls(**params)
    y = y % n_classes
    if "Regressor" in cls.__name__:
        y = y.astype(np.float64)
        return model.partial_fit(X[:200], y[:200]).partial_fit(X[200:], y[200:])
    classes = np.arange(n_classes)
    return model.partial_fit(X[:200], y[:200], classes=classes).partial_fit(X[200:], y[200:])


def header_of(path):
    data = open(path, "rb").read()
    _, version, hlen = struct.unpack_from("<8sIQ", data)
    return version, json.loads(data[20 : 20 + hlen])


def state_entry(header, name="state_"):
    return dict((k, v) for k, v in header["state"]["$dict"])[name]


def same_state(a, b):
    for name in ("state_", "istate_", "gstate_"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), name


# ---------------------------------------------------------------------------------------------------------------
# a state with most rows touched


def test_a_state_with_most_rows_touched_is_stored_dense(tmp_path):
    X, y = touching(np.arange(50), width=60)  # 50 of 60 rows: 20 bytes each stored, 16 dense
    model = train(ftrlx.FTRLClassifier, X, y)
    assert fio._Rows.from_dense(model.state_) is None
    ftrlx.save(model, tmp_path / "m.ftrlx")
    assert "$array" in state_entry(header_of(tmp_path / "m.ftrlx")[1])
    same_state(ftrlx.load(tmp_path / "m.ftrlx"), model)
    X, y = touching(np.arange(40), width=60)  # 40 of 60: 800 bytes stored, 960 dense
    assert fio._Rows.from_dense(train(ftrlx.FTRLClassifier, X, y).state_).indices.size == 40


# ---------------------------------------------------------------------------------------------------------------
# the kernels leave untouched coordinates at zero, so files hold the touched rows only

SETTINGS = [{}, {"batch_size": 4}, {"l1": 0.0, "l2": 0.0}, {"l2": 1e-3}]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_untouched_coordinates_stay_zero_and_are_not_stored(tmp_path, cls):
    rng = np.random.default_rng(1)
    columns = np.sort(rng.choice(WIDTH, 300, replace=False))
    X, y = touching(columns)
    accepted = set(cls._get_param_names())
    for i, extra in enumerate(SETTINGS):
        for n_classes in (2, 3) if "Classifier" in cls.__name__ else (2,):
            model = train(cls, X, y, n_classes, **{k: v for k, v in extra.items() if k in accepted})
            untouched = np.setdiff1d(np.arange(WIDTH), columns)
            assert not model.state_[:, untouched].view(np.uint64).any(), (cls.__name__, extra)
            path = tmp_path / f"m{i}{n_classes}.ftrlx"
            ftrlx.save(model, path)
            version, header = header_of(path)
            assert version == 2 and "$rows" in state_entry(header)
            again = ftrlx.load(path)
            same_state(again, model)
            n_stored = header["arrays"][state_entry(header)["$rows"]["indices"]]["shape"][0]
            assert n_stored <= model.state_.shape[0] * columns.size
            assert os.path.getsize(path) < 8 * (1 + model.state_.shape[2]) * n_stored + 16_384
            np.testing.assert_array_equal(again.predict(X), model.predict(X))


def test_a_wide_model_is_a_small_file_and_trains_on_bitwise_after_loading(tmp_path):
    X, y = touching(np.arange(0, 2**22, 4099), n=300, width=2**22)
    model = ftrlx.FTRLClassifier(l1=0.5).fit(X, y % 2)
    path = tmp_path / "wide.ftrlx"
    ftrlx.save(model, path)
    touched = np.unique(X.indices).size
    assert os.path.getsize(path) < 20 * touched + 8192  # a 4-byte index and 2 slots per row, plus the header
    again = ftrlx.load(path)
    same_state(again, model)
    X2, y2 = touching(np.arange(7, 2**22, 5003), n=200, seed=3, width=2**22)
    same_state(again.partial_fit(X2, y2 % 2), model.partial_fit(X2, y2 % 2))


def test_saving_holds_no_dense_copy_of_the_state_in_memory(tmp_path):
    X, y = touching(np.arange(0, 2**22, 997), n=300, width=2**22)
    model = ftrlx.FTRLClassifier().fit(X, y % 2)
    dense_bytes = model.state_.nbytes  # 64 MiB
    for version in (2, 1):  # the dense layout of version 1 is streamed too
        tracemalloc.start()
        try:
            fio._save(model, tmp_path / f"v{version}.ftrlx", "model", None, None, version=version)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < dense_bytes / 8, (version, peak)
    same_state(ftrlx.load(tmp_path / "v1.ftrlx"), ftrlx.load(tmp_path / "v2.ftrlx"))


def test_a_checkpoint_stores_rows_and_resumes_bitwise(tmp_path):
    X, y = touching(np.arange(0, WIDTH, 7))
    model = ftrlx.AdaGradClassifier(l1=1e-3).fit(X, y % 2)
    fio._save_checkpoint(model, tmp_path / "c.ckpt", {"chunks_done": 3})
    assert "$rows" in state_entry(header_of(tmp_path / "c.ckpt")[1])
    again, extra = fio._load_checkpoint(tmp_path / "c.ckpt")
    assert extra == {"chunks_done": 3}
    same_state(again, model)


# ---------------------------------------------------------------------------------------------------------------
# version 1


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_version_1_files_of_the_old_writer_still_load_bitwise(tmp_path, cls):
    X, y = touching(np.arange(0, WIDTH, 11))
    model = train(cls, X, y)
    path = tmp_path / "v1.ftrlx"
    fio._save(model, path, "model", {"rows_seen": 400}, None, version=1)
    version, header = header_of(path)
    assert version == 1 and "$array" in state_entry(header)
    assert header["arrays"][state_entry(header)["$array"]]["shape"] == list(model.state_.shape)
    again = ftrlx.load(path)
    same_state(again, model)
    assert read_header(path)["format_version"] == 1 and read_header(path)["metadata"] == {"rows_seen": 400}
    fio._save(model, tmp_path / "v1.ckpt", "checkpoint", None, {"chunks_done": 1}, version=1)
    same_state(fio._load_checkpoint(tmp_path / "v1.ckpt")[0], model)


def test_a_version_1_file_holding_stored_rows_is_refused(tmp_path):
    model = train(ftrlx.FTRLClassifier, *touching(np.arange(0, 100, 2), width=100))
    path = tmp_path / "m.ftrlx"
    ftrlx.save(model, path)
    data = path.read_bytes()
    body = data[:8] + struct.pack("<I", 1) + data[12:-32]
    path.write_bytes(body + hashlib.sha256(body).digest())
    with pytest.raises(FormatError, match=r"m\.ftrlx: header entry 'state': a \$rows value .* version 2"):
        ftrlx.load(path)


# ---------------------------------------------------------------------------------------------------------------
# crafted stored rows


def craft(path, model, edit_rows=None, edit_state=None, version=2, kind="model"):
    """Write ``model`` through the module's own writer with its stored rows edited by ``edit_rows(rows)``."""
    state = fio._storable_state(model)
    if edit_rows is not None:
        edit_rows(state["state_"])
    if edit_state is not None:
        edit_state(state)
    enc = fio._Encoder()
    header = fio._header(kind, fio._class_path(model))
    params = {k: state[k] for k in model.get_params(deep=False)}
    header.update(params=enc.encode(params, "params"), state=enc.encode(state, "state"), metadata={"$dict": []})
    if kind == "checkpoint":
        header["extra"] = enc.encode({"rows": some_rows()}, "extra")
    fio._write_container(path, header, enc.arrays, version)
    return os.fspath(path)


def refused(path, *words, loader=ftrlx.load):
    with pytest.raises(FormatError) as info:
        loader(path)
    message = str(info.value)
    assert os.fspath(path) in message, message
    for word in words:
        assert word in message, message
    return message


def swap(i, j):
    def edit(rows):
        rows.indices[[i, j]] = rows.indices[[j, i]]

    return edit


def setter(name, fn):
    return lambda rows: setattr(rows, name, fn(getattr(rows, name)))


def at(name, index, value):
    return lambda rows: getattr(rows, name).__setitem__(index, value)


ROW_CASES = {
    "unsorted rows": (swap(0, 1), ["state_", "strictly increasing", "output 0"]),
    "a repeated row": (lambda r: r.indices.__setitem__(1, r.indices[0]), ["state_", "strictly increasing"]),
    "a row past the features": (at("indices", -1, 50), ["state_", "outside [0, 50)"]),
    "a negative row": (at("indices", 0, -1), ["state_", "row -1", "outside"]),
    "int16 row indices": (setter("indices", lambda a: a.astype(np.int16)), ["state_", "int32 or int64"]),
    "float row indices": (setter("indices", lambda a: a.astype(np.float64)), ["state_", "int32 or int64"]),
    "2-d row indices": (setter("indices", lambda a: a.reshape(1, -1)), ["state_", "1-d"]),
    "float32 values": (setter("values", lambda a: a.astype(np.float32)), ["state_", "float64"]),
    "big-endian values": (setter("values", lambda a: a.astype(">f8")), ["state_", "float64"]),
    "a slot too many": (setter("values", lambda a: np.zeros((a.shape[0], 3))), ["state_", "shape (", ", 2)"]),
    "a value row missing": (setter("values", lambda a: a[:-1]), ["state_", "values"]),
    "NaN in a stored row": (at("values", (2, 0), np.nan), ["state_", "nan at index (0, "]),
    "infinity in a stored row": (at("values", (1, 1), -np.inf), ["state_", "-inf"]),
    "a negative sqrt(n)": (at("values", (0, 1), -1.0), ["state_", "negative"]),
    "int32 row pointers": (setter("indptr", lambda a: a.astype(np.int32)), ["state_", "row pointers", "int64"]),
    "row pointers not from 0": (at("indptr", 0, 1), ["state_", "row pointers must rise from 0"]),
    "row pointers short of the rows": (at("indptr", -1, 2), ["state_", "row pointers"]),
    "a pointer per output too many": (setter("indptr", lambda a: np.append(a, a[-1])), ["state_", "(2,)"]),
    "a wider shape": (setter("shape", lambda s: (1, 10**7, 2)), ["state_", "(1, 10000000, 2)", "n_features_in_=50"]),
    "two outputs, pointers for one": (setter("shape", lambda s: (2, 50, 2)), ["state_", "row pointers", "(3,)"]),
    "three slots for FTRL": (setter("shape", lambda s: (1, 50, 3)), ["state_", "(1, 50, 2)"]),
}


@pytest.mark.parametrize("case", sorted(ROW_CASES))
def test_inconsistent_stored_rows_are_refused(tmp_path, case):
    model = train(ftrlx.FTRLClassifier, *touching(np.arange(0, 50, 2), width=50))
    edit, words = ROW_CASES[case]
    refused(craft(tmp_path / "bad.ftrlx", model, edit), *words)


def test_the_multiclass_rows_are_checked_per_output(tmp_path):
    model = train(ftrlx.FTRLClassifier, *touching(np.arange(0, 50, 2), width=50), n_classes=3)
    # the last row of output 0 followed by a smaller first row of output 1 is fine, a disorder inside output 2 is not
    assert model.state_.shape[0] == 3
    ftrlx.load(craft(tmp_path / "good.ftrlx", model))

    def disorder_last_output(rows):
        lo = rows.indptr[2]
        rows.indices[[lo, lo + 1]] = rows.indices[[lo + 1, lo]]

    refused(craft(tmp_path / "bad.ftrlx", model, disorder_last_output), "output 2", "strictly increasing")
    message = refused(craft(tmp_path / "nan.ftrlx", model, at("values", (-1, 0), np.nan)), "nan at index (2, ")
    assert f"(2, {model.state_.shape[1] - 1 - np.argmax(model.state_[2, ::-1].any(axis=1))}, 0)" in message


def some_rows():
    dense = np.zeros((1, 8, 2))
    dense[0, 3] = 1.0
    return fio._Rows.from_dense(dense)


def rows_everywhere(name):
    def edit(state):
        state[name] = some_rows()

    return edit


@pytest.mark.parametrize("name", ["istate_", "gstate_", "classes_", "alpha"])
def test_stored_rows_for_another_attribute_are_refused(tmp_path, name):
    model = train(ftrlx.FTRLClassifier, *touching(np.arange(0, 50, 2), width=50))
    refused(craft(tmp_path / "bad.ftrlx", model, edit_state=rows_everywhere(name)), "state", "only state_")


def test_stored_rows_elsewhere_in_the_header_are_refused(tmp_path):
    model = train(ftrlx.FTRLClassifier, *touching(np.arange(0, 50, 2), width=50))
    path = craft(tmp_path / "bad.ckpt", model, kind="checkpoint")
    refused(path, "header entry 'extra'", "$rows", loader=fio._load_checkpoint)
    export_sparse(model, tmp_path / "w.sparse")
    header, arrays = fio._read_container(tmp_path / "w.sparse")
    state = fio._decode(header["state"], arrays)
    state["values"] = some_rows()
    enc = fio._Encoder()
    header = dict(
        fio._header("sparse", "ftrlx.io.SparseModel"),
        params={"$dict": []},
        metadata={"$dict": []},
        state=enc.encode(state, "state"),
    )
    fio._write_container(tmp_path / "bad.sparse", header, enc.arrays)
    refused(tmp_path / "bad.sparse", "header entry 'state'", "$rows")


MALFORMED = {
    "a missing entry": lambda v: v.pop("indptr"),
    "an extra entry": lambda v: v.update(code="x"),
    "a 2-d shape": lambda v: v.update(shape=[1, 50]),
    "a negative shape": lambda v: v.update(shape=[1, -50, 2]),
    "a boolean in the shape": lambda v: v.update(shape=[True, 50, 2]),
    "a shape that is not a list": lambda v: v.update(shape="1x50x2"),
    "a reference past the arrays": lambda v: v.update(values=99),
    "a boolean reference": lambda v: v.update(indices=True),
    "a list instead of entries": lambda v: v.clear() or v.update(rows=[1, 2]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_rows_values_are_refused(tmp_path, case):
    path = tmp_path / "m.ftrlx"
    ftrlx.save(train(ftrlx.FTRLClassifier, *touching(np.arange(0, 50, 2), width=50)), path)
    data = path.read_bytes()
    hlen = struct.unpack_from("<Q", data, 12)[0]
    header = json.loads(data[20 : 20 + hlen])
    MALFORMED[case](state_entry(header)["$rows"])
    hbytes = json.dumps(header).encode()
    body = data[:12] + struct.pack("<Q", len(hbytes)) + hbytes + data[20 + hlen : -32]
    path.write_bytes(body + hashlib.sha256(body).digest())
    refused(path, "header entry 'state'")


def test_a_state_too_large_to_allocate_is_a_format_error(tmp_path):
    model = train(ftrlx.FTRLClassifier, *touching(np.arange(0, 50, 2), width=50))

    def wider(state):
        state["n_features_in_"] = 2**62
        state["state_"].shape = (1, 2**62, 2)

    refused(craft(tmp_path / "huge.ftrlx", model, edit_state=wider), "state_", "cannot be allocated")


# ---------------------------------------------------------------------------------------------------------------
# the header of a sparse export, and the command line on one


def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "ftrlx", *map(str, args)], capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_the_command_line_reads_the_sparse_export_it_writes(tmp_path, capsys):
    """``ftrlx train --sparse-output`` wrote a header that ``ftrlx info|predict|evaluate`` refused ("unknown
    tagged value [] in header"), while ftrlx.load read the file."""
    from ftrlx.cli import main
    from ftrlx.datasets import write_click_data

    data = tmp_path / "clicks.txt"
    write_click_data(data, 1500, format="criteo", seed=0)
    full, export = tmp_path / "m.ftrlx", tmp_path / "s.sparse"
    assert (
        main(
            [
                "train",
                str(data),
                "--format",
                "criteo",
                "--bits",
                "16",
                "-q",
                "-o",
                str(full),
                "--sparse-output",
                str(export),
            ]
        )
        == 0
    )
    h = read_header(export)
    assert h["kind"] == "sparse" and h["params"] == {} and h["metadata"]["n_weights"] == 2**16
    rc, out, err = cli("info", export, "--json")  # the command as a user runs it
    assert rc == 0, err
    info = json.loads(out)
    served = SparseModel.load(export)
    assert info["kind"] == "sparse" and info["n_nonzero"] == served.n_nonzero and info["n_weights"] == 2**16
    capsys.readouterr()
    for model, out in ((export, "p.txt"), (full, "q.txt")):
        assert main(["predict", str(model), str(data), "--format", "criteo", "-o", str(tmp_path / out)]) == 0
    p = np.loadtxt(tmp_path / "p.txt")
    assert p.shape == (1500,)
    np.testing.assert_allclose(p, np.loadtxt(tmp_path / "q.txt"), rtol=1e-12)
    assert main(["evaluate", str(export), str(data), "--format", "criteo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 1500


def test_sparse_exports_of_the_earlier_writer_have_a_readable_header(tmp_path):
    """Earlier exports hold params and metadata as plain JSON objects; read_header (which every command calls)
    failed on them with "unknown tagged value [] in header"."""
    model = train(ftrlx.FTRLClassifier, *touching(np.arange(0, 50, 2), width=50))
    path = tmp_path / "old.sparse"
    export_sparse(model, path)
    header, arrays = fio._read_container(path)
    assert header["params"] == {"$dict": []} and header["metadata"]["$dict"][0][0] == "n_nonzero"
    state = fio._decode(header["state"], arrays)
    enc = fio._Encoder()
    old = dict(
        fio._header("sparse", "ftrlx.io.SparseModel"),
        params={},
        state=enc.encode(state, "state"),
        metadata={"n_nonzero": int(state["indices"].size), "n_weights": 50},
    )
    fio._write_container(path, old, enc.arrays, version=1)
    h = read_header(path)
    assert h["params"] == {} and h["metadata"] == {"n_nonzero": int(state["indices"].size), "n_weights": 50}
    assert isinstance(ftrlx.load(path), SparseModel)
    from ftrlx.cli import main

    assert main(["info", os.fspath(path)]) == 0
    # a plain object is taken as it is only in a sparse export, and only with plain values
    for kind, metadata in (("model", {"rows": 1}), ("sparse", {"rows": [1]}), ("sparse", {"$code": 1})):
        bad = tmp_path / "bad.ftrlx"
        fio._write_container(bad, dict(old, kind=kind, params={"$dict": []}, metadata=metadata), enc.arrays)
        with pytest.raises(FormatError, match="header entry 'metadata'"):
            read_header(bad)


def test_a_sparse_export_carries_metadata(tmp_path):
    model = train(ftrlx.FTRLClassifier, *touching(np.arange(0, 50, 2), width=50))
    path = tmp_path / "w.sparse"
    export_sparse(model, path, metadata={"training": {"reader": {"format": "criteo"}}, "n_weights": -1})
    meta = read_header(path)["metadata"]
    assert meta == {
        "training": {"reader": {"format": "criteo"}},
        "n_nonzero": SparseModel.load(path).n_nonzero,
        "n_weights": 50,
    }
