"""Readers and synthetic click data, on small hand-written files."""

import bz2
import gzip
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

from ftrlx.datasets import (
    _base,
    criteo_hasher,
    iter_avazu,
    iter_click_data,
    iter_criteo,
    iter_csv,
    iter_parquet,
    iter_svmlight,
    make_click_data,
    write_click_data,
)
from ftrlx.hashing import CategoricalHasher


def write(path, text, compression=None):
    data = text.encode()
    if compression == "gz":
        path = Path(str(path) + ".gz")
        path.write_bytes(gzip.compress(data))
    elif compression == "bz2":
        path = Path(str(path) + ".bz2")
        path.write_bytes(bz2.compress(data))
    else:
        path.write_bytes(data)
    return str(path)


def collect(reader):
    chunks = list(reader)
    if not chunks:
        return None, None, []
    width = max(X.shape[1] for X, _ in chunks)
    Xs = []
    for X, _ in chunks:
        X = X.copy()
        X.resize((X.shape[0], width))
        Xs.append(X)
    return sp.vstack(Xs, format="csr"), np.concatenate([y for _, y in chunks]), chunks


@pytest.fixture
def small_blocks(monkeypatch):
    # Blocks of a few lines, so block boundaries fall inside every test file.
    monkeypatch.setattr(_base, "BLOCK_BYTES", 37)


# --------------------------------------------------------------------------
# svmlight
# --------------------------------------------------------------------------
@pytest.mark.parametrize("compression", [None, "gz", "bz2"])
@pytest.mark.parametrize("chunk_size", [1, 7, 1000])
def test_svmlight_matches_sklearn(tmp_path, compression, chunk_size, small_blocks):
    rng = np.random.default_rng(0)
    X = sp.random(60, 30, density=0.2, random_state=1, format="csr")
    X.data = np.round(X.data * 10, 3)
    y = rng.choice([-1, 1], 60)
    plain = tmp_path / "data.svm"
    dump_svmlight_file(X, y, str(plain), zero_based=False)
    path = write(tmp_path / "copy.svm", plain.read_text(), compression)
    reader = iter_svmlight(path, chunk_size=chunk_size, n_features=30)
    got_X, got_y, chunks = collect(reader)
    ref_X, ref_y = load_svmlight_file(str(plain), n_features=30)
    assert (got_X != ref_X).nnz == 0
    np.testing.assert_array_equal(got_y, (ref_y > 0).astype(float))
    assert [c[0].shape[0] for c in chunks[:-1]] == [chunk_size] * (len(chunks) - 1)
    assert reader.rows_read == 60 and reader.skipped == 0
    assert all(c[0].has_sorted_indices and c[0].shape[1] == 30 for c in chunks)


def test_svmlight_comments_blank_lines_qid_and_zero_based(tmp_path):
    text = "# header comment\n\n1 qid:3 0:1.5 4:2 # trailing\n   \n0 2:1\r\n-1 1:1"
    path = write(tmp_path / "z.svm", text)
    X, y, _ = collect(iter_svmlight(path))
    assert X.shape == (3, 5)  # index 0 found: zero-based, width grows to 5
    np.testing.assert_array_equal(X.toarray(), [[1.5, 0, 0, 0, 2], [0, 0, 1, 0, 0], [0, 1, 0, 0, 0]])
    np.testing.assert_array_equal(y, [1, 0, 0])
    X1, _, _ = collect(iter_svmlight(path, zero_based=True, n_features=6))
    assert X1.shape == (3, 6)


def test_svmlight_width_grows_without_n_features(tmp_path, small_blocks):
    path = write(tmp_path / "g.svm", "1 1:1\n" * 12 + "1 9:1\n1 3:1\n")
    widths = [X.shape[1] for X, _ in iter_svmlight(path, chunk_size=1)]
    # The width follows the blocks read so far (blocks of 37 bytes here).
    assert widths[0] == 1 and widths[-2:] == [9, 9] and widths == sorted(widths)


def test_svmlight_binary_false_keeps_labels(tmp_path):
    path = write(tmp_path / "r.svm", "2.5 1:1\n-3 2:1\n")
    _, y, _ = collect(iter_svmlight(path, binary=False))
    np.testing.assert_array_equal(y, [2.5, -3])
    with pytest.raises(ValueError, match=r"r\.svm:1: label 2\.5 is not a binary label"):
        list(iter_svmlight(path))


@pytest.mark.parametrize(
    "line, message",
    [
        ("1 x:1", "feature index 'x' is not an integer"),
        ("1 3:abc", "value 'abc' of feature 3 is not a number"),
        ("1 3", "token '3' is not of the form index:value"),
        ("1 5:1 3:1", "feature indices must increase along a line, but 3 comes after 5"),
        ("yes 1:1", "label 'yes' is not a number"),
        ("1 -2:1", "feature index -2 is negative"),
        ("1 40:1", "feature index 40 is beyond n_features=30"),
        ("1 0:1", "feature index 0 in a file read as one-based"),
    ],
)
def test_svmlight_bad_line_reports_file_and_line(tmp_path, line, message, small_blocks):
    good = ["1 1:1 2:1", "-1 3:0.5", "# comment", "", "1 2:1"]
    lines = good + [line] + good
    path = write(tmp_path / "bad.svm", "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=f"bad.svm:6: {message}"):
        list(iter_svmlight(path, n_features=30))
    reader = iter_svmlight(path, n_features=30, on_bad_lines="skip", chunk_size=2)
    X, y, _ = collect(reader)
    assert reader.skipped == 1 and reader.rows_read == 6 == X.shape[0]
    np.testing.assert_array_equal(y, [1, 0, 1] * 2)


def test_bad_arguments(tmp_path):
    path = write(tmp_path / "a.svm", "1 1:1\n")
    with pytest.raises(ValueError, match="chunk_size"):
        iter_svmlight(path, chunk_size=0)
    with pytest.raises(ValueError, match="on_bad_lines"):
        iter_criteo(path, on_bad_lines="warn")
    with pytest.raises(ValueError, match="zero_based"):
        iter_svmlight(path, zero_based="yes")


# --------------------------------------------------------------------------
# Criteo
# --------------------------------------------------------------------------
def criteo_rows(n, seed=0):
    """Invented Criteo-shaped rows: (label, ints as str or '', hex or '')."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        ints = [str(v) if rng.random() > 0.2 else "" for v in rng.integers(-2, 3000, 13)]
        cats = [f"{v:08x}" if rng.random() > 0.2 else "" for v in rng.integers(0, 40, 26)]
        rows.append([str(int(rng.random() < 0.3))] + ints + cats)
    return rows


def criteo_reference(rows, hasher):
    table = {"label": [float(r[0]) for r in rows]}
    for j in range(13):
        table[f"I{j + 1}"] = np.array([float(r[1 + j]) if r[1 + j] else np.nan for r in rows])
    for j in range(26):
        table[f"C{j + 1}"] = np.array([r[14 + j] for r in rows], dtype=object)
    y = np.array(table.pop("label"))
    return hasher.transform(table), y


@pytest.mark.parametrize("compression", [None, "gz", "bz2"])
@pytest.mark.parametrize("chunk_size", [3, 50])
def test_criteo_matches_reference(tmp_path, compression, chunk_size, small_blocks):
    rows = criteo_rows(40)
    text = "\n".join("\t".join(r) for r in rows[:20]) + "\n\n" + "\n".join("\t".join(r) for r in rows[20:]) + "\n"
    path = write(tmp_path / "day_0", text, compression)
    reader = iter_criteo(path, chunk_size=chunk_size)
    X, y, chunks = collect(reader)
    ref_X, ref_y = criteo_reference(rows, criteo_hasher())
    assert (X != ref_X).nnz == 0
    np.testing.assert_array_equal(y, ref_y)
    assert reader.rows_read == 40
    assert reader.hasher.get_spec() == criteo_hasher().get_spec()
    assert all(c[0].shape[0] == chunk_size for c in chunks[:-1])


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r[:-1], "expected 40 tab-separated fields, found 39"),
        (lambda r: ["2"] + r[1:], "label '2' is not 0 or 1"),
        (lambda r: [""] + r[1:], "the label is missing"),
        (lambda r: r[:3] + ["1.5"] + r[4:], "I3 value '1.5' is not an integer"),
    ],
)
def test_criteo_bad_line(tmp_path, mutate, message, small_blocks):
    rows = criteo_rows(6, seed=1)
    lines = ["\t".join(r) for r in rows]
    lines.insert(2, "")  # an empty line still counts as a line
    lines[4] = "\t".join(mutate(rows[3]))
    path = write(tmp_path / "train.tsv", "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=f"train.tsv:5: {message}"):
        list(iter_criteo(path))
    reader = iter_criteo(path, on_bad_lines="skip", chunk_size=2)
    X, y, _ = collect(reader)
    assert reader.skipped == 1 and reader.rows_read == 5
    ref_X, ref_y = criteo_reference(rows[:3] + rows[4:], criteo_hasher())
    assert (X != ref_X).nnz == 0


def test_criteo_custom_hasher(tmp_path):
    rows = criteo_rows(10, seed=2)
    path = write(tmp_path / "c.tsv", "\n".join("\t".join(r) for r in rows))
    hasher = CategoricalHasher(n_features=2**10, categorical=["C1", "C2"], numeric=["I1"], interactions=[("C1", "C2")])
    X, y, _ = collect(iter_criteo(path, hasher=hasher))
    ref_X, _ = criteo_reference(rows, hasher)
    assert X.shape == (10, 2**10) and (X != ref_X).nnz == 0


# --------------------------------------------------------------------------
# CSV, Avazu, Parquet
# --------------------------------------------------------------------------
CSV_TEXT = (
    "ip,app,device,click_time,is_attributed\n"
    "10,3,1,2017-11-07 09:30:38,0\n"
    '11,"a,b",1,2017-11-07 10:00:00,1\n'
    "\n"
    "10,,2,2017-11-08 09:30:38,0\n"
)


@pytest.mark.parametrize("compression", [None, "gz"])
def test_csv_reader(tmp_path, compression):
    path = write(tmp_path / "clicks.csv", CSV_TEXT, compression)
    reader = iter_csv(path, label="is_attributed", categorical=["ip", "app", "device"], chunk_size=2)
    X, y, chunks = collect(reader)
    np.testing.assert_array_equal(y, [0, 1, 0])
    ref = reader.hasher.transform({"ip": ["10", "11", "10"], "app": ["3", "a,b", None], "device": ["1", "1", "2"]})
    assert (X != ref).nnz == 0
    assert [c[0].shape[0] for c in chunks] == [2, 1]


def test_csv_tsv_without_header_and_numeric(tmp_path):
    path = write(tmp_path / "d.tsv", "1\tx\t2.5\n0\ty\t\n")
    reader = iter_csv(path, label=0, categorical=["1"], numeric=["2"], header=False)
    X, y, _ = collect(reader)
    ref = reader.hasher.transform({"1": ["x", "y"], "2": np.array([2.5, np.nan])})
    assert (X != ref).nnz == 0
    np.testing.assert_array_equal(y, [1, 0])


def test_csv_errors(tmp_path):
    path = write(tmp_path / "e.csv", "y,a,n\n1,p,1\n1,q,oops\n1,r\n")
    with pytest.raises(ValueError, match=r"e\.csv:3: n value 'oops' is not a finite number"):
        list(iter_csv(path, label="y", categorical=["a"], numeric=["n"]))
    reader = iter_csv(path, label="y", categorical=["a"], numeric=["n"], on_bad_lines="skip")
    X, y, _ = collect(reader)
    assert reader.skipped == 2 and X.shape[0] == 1
    with pytest.raises(ValueError, match=r"e\.csv:4: expected 3 comma-separated fields, found 2"):
        list(iter_csv(path, label="y", categorical=["a"]))
    # The first bad line is reported, whatever the kind of fault.
    first_bad = write(tmp_path / "f.csv", "y,a,n\n1,p,1\n1,q\n1,q,oops\n")
    with pytest.raises(ValueError, match=r"f\.csv:3: expected 3"):
        list(iter_csv(first_bad, label="y", categorical=["a"], numeric=["n"]))
    with pytest.raises(ValueError, match=r"e\.csv:1: no label column 'label'"):
        list(iter_csv(path, label="label", categorical=["a"]))
    with pytest.raises(ValueError, match=r"no column\(s\) \['zz'\]"):
        list(iter_csv(path, label="y", categorical=["zz"]))


AVAZU_HEADER = (
    "id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,"
    "app_domain,app_category,device_id,device_ip,device_model,device_type,"
    "device_conn_type,C14,C15,C16,C17,C18,C19,C20,C21"
)


def test_avazu_reader(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for i, hour in enumerate(["14102100", "14102123", "14102511", "14103000"]):
        rows.append([str(i), str(i % 2), hour] + [f"v{v}" for v in rng.integers(0, 5, 21)])
    text = AVAZU_HEADER + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    path = write(tmp_path / "train.csv", text, "gz")
    reader = iter_avazu(path, chunk_size=3)
    X, y, _ = collect(reader)
    names = AVAZU_HEADER.split(",")[3:]
    table = {n: [r[3 + j] for r in rows] for j, n in enumerate(names)}
    # 2014-10-21 was a Tuesday (1), 2014-10-25 a Saturday (5), 2014-10-30 a Thursday (3).
    table["hour_of_day"] = ["0", "23", "11", "0"]
    table["weekday"] = ["1", "1", "5", "3"]
    ref = reader.hasher.transform(table)
    assert (X != ref).nnz == 0
    np.testing.assert_array_equal(y, [0, 1, 0, 1])

    bad = text.replace("14102511", "1410251")
    bad_path = write(tmp_path / "bad.csv", bad)
    with pytest.raises(ValueError, match=r"bad\.csv:4: hour '1410251' is not of the form"):
        list(iter_avazu(bad_path))
    skipping = iter_avazu(bad_path, on_bad_lines="skip")
    assert sum(len(y) for _, y in skipping) == 3 and skipping.skipped == 1


def test_parquet_matches_csv(tmp_path):
    csv_path = write(tmp_path / "clicks.csv", CSV_TEXT)
    pq_path = str(tmp_path / "clicks.parquet")
    pq.write_table(
        pa.table(
            {"ip": ["10", "11", "10"], "app": ["3", "a,b", None], "device": [1, 1, 2], "is_attributed": [0, 1, 0]}
        ),
        pq_path,
        row_group_size=2,
    )
    kw = dict(label="is_attributed", categorical=["ip", "app", "device"])
    X1, y1, _ = collect(iter_csv(csv_path, **kw))
    reader = iter_parquet(pq_path, chunk_size=2, **kw)
    X2, y2, chunks = collect(reader)
    assert (X1 != X2).nnz == 0 and np.array_equal(y1, y2)
    assert [c[0].shape[0] for c in chunks] == [2, 1] and reader.rows_read == 3
    ((X3, y3),) = list(iter_parquet(pq_path, categorical=["ip", "app", "device"]))
    assert y3 is None and (X3 != X1).nnz == 0


# --------------------------------------------------------------------------
# Synthetic click data
# --------------------------------------------------------------------------
SMALL = dict(n_fields=8, n_features=2**16)


def test_make_click_data_shape_and_determinism():
    X, y, raw = make_click_data(5000, seed=3, return_raw=True, **SMALL)
    assert X.shape == (5000, 2**16) and raw.shape == (5000, 8) and raw.dtype == np.int64
    assert set(np.unique(y)) <= {0.0, 1.0} and y.dtype == np.float64
    X2, y2 = make_click_data(5000, seed=3, **SMALL)
    assert (X != X2).nnz == 0 and np.array_equal(y, y2)
    X3, y3 = make_click_data(5000, seed=4, **SMALL)
    assert (X != X3).nnz > 0
    # The hashed rows are exactly the one-hot hashing of the raw ids.
    hasher = CategoricalHasher(n_features=2**16, categorical=[f"f{j}" for j in range(8)])
    ref = hasher.transform({f"f{j}": raw[:, j] for j in range(8)})
    assert (X != ref).nnz == 0
    # Ids stay inside the log-spaced vocabularies and follow a Zipf law.
    vocab = np.round(np.logspace(1, 6, 8)).astype(int)
    assert (raw >= 0).all() and (raw < vocab).all()
    assert (np.bincount(raw[:, 0], minlength=10)[:3] > [1000, 400, 250]).all()


@pytest.mark.parametrize("rate", [0.02, 0.1, 0.3])
def test_positive_rate(rate):
    _, y = make_click_data(100_000, positive_rate=rate, seed=1, **SMALL)
    assert abs(y.mean() - rate) < 4 * np.sqrt(rate * (1 - rate) / 1e5) + 0.1 * rate


def test_labels_depend_on_informative_values():
    _, y, raw = make_click_data(60_000, n_informative=1, seed=5, return_raw=True, n_fields=3, n_features=2**10)
    # Exactly one field drives the click rate: its frequent ids give different rates.
    spreads = [np.ptp([y[raw[:, j] == v].mean() for v in range(3)]) for j in range(3)]
    assert max(spreads) > 0.05 and sorted(spreads)[1] < 0.03


@pytest.mark.parametrize("chunk_size", [1000, 65_536, 70_001])
def test_iter_click_data_chunk_invariance(chunk_size):
    n = 140_000
    X, y = make_click_data(n, seed=2, n_fields=3, n_features=2**10)
    chunks = list(iter_click_data(n, chunk_size=chunk_size, seed=2, n_fields=3, n_features=2**10))
    assert all(c[0].shape[0] == chunk_size for c in chunks[:-1])
    assert (sp.vstack([c[0] for c in chunks]) != X).nnz == 0
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), y)


def test_write_click_data_criteo_round_trip(tmp_path):
    n = 3000
    path = write_click_data(tmp_path / "synth.tsv.gz", n, seed=7, chunk_size=1000)
    _, y, raw = make_click_data(n, seed=7, return_raw=True, n_features=2**10)
    reader = iter_criteo(path, chunk_size=700)
    X_read, y_read, _ = collect(reader)
    np.testing.assert_array_equal(y_read, y)
    with gzip.open(path, "rt") as f:
        cells = [line.rstrip("\n").split("\t") for line in f]
    assert len(cells) == n and {len(c) for c in cells} == {40}
    ints = np.array([[int(v) if v else -1 for v in c[1:14]] for c in cells])
    present = ints >= 0
    assert 0.05 < 1 - present.mean() < 0.4  # some cells are missing, most are not
    np.testing.assert_array_equal(ints[present], raw[:, :13][present])
    hexes = [c[14:] for c in cells]
    assert all(len(v) in (0, 8) for row in hexes for v in row)
    # Equal ids in a field give equal hex values.
    col = np.array([r[0] for r in hexes])
    ids = raw[:, 13]
    for v in np.unique(ids[col != ""])[:20]:
        assert len(set(col[(ids == v) & (col != "")])) == 1


def test_write_click_data_svmlight(tmp_path):
    path = write_click_data(
        tmp_path / "s.svm", 500, format="svmlight", seed=1, n_fields=5, n_features=2**12, chunk_size=120
    )
    X, y = make_click_data(500, seed=1, n_fields=5, n_features=2**12)
    Xr, yr, _ = collect(iter_svmlight(path, n_features=2**12))
    assert (X != Xr).nnz == 0 and np.array_equal(y, yr)
    with pytest.raises(ValueError, match="39 fields"):
        write_click_data(tmp_path / "x.tsv", 10, n_fields=5)


# --------------------------------------------------------------------------
# Real data (not shipped; skipped when absent)
# --------------------------------------------------------------------------
DATA = Path(os.environ.get("FTRLX_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "datasets"))


def data_file(*parts):
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available (set FTRLX_DATA)")
    return str(path)


@pytest.mark.datasets
def test_a9a_matches_sklearn():
    path = data_file("libsvm_a9a", "a9a.gz")
    X, y, _ = collect(iter_svmlight(path, n_features=123, chunk_size=10_000))
    ref_X, ref_y = load_svmlight_file(path, n_features=123)
    assert X.shape == (32_561, 123) and (X != ref_X).nnz == 0
    np.testing.assert_array_equal(y, ref_y > 0)


@pytest.mark.datasets
def test_criteo_head_reads_all_rows():
    path = data_file("criteo_kaggle_head8k", "train.tsv.gz")
    reader = iter_criteo(path, chunk_size=1000)
    X, y, chunks = collect(reader)
    assert reader.rows_read == 7_200 and reader.skipped == 0 and len(chunks) == 8
    assert y.sum() == 1_549
    # 26 categorical + 13 binned integers, minus missing cells and rare collisions.
    assert 30 < X.getnnz(axis=1).mean() <= 39


@pytest.mark.datasets
def test_talkingdata_via_csv():
    path = data_file("talkingdata_adtracking_sample", "train_sample.csv.gz")
    reader = iter_csv(path, label="is_attributed", categorical=["ip", "app", "device", "os", "channel"])
    X, y, _ = collect(reader)
    assert X.shape == (100_000, 2**20) and y.sum() == 227
    assert np.all(X.getnnz(axis=1) <= 5) and X.getnnz(axis=1).mean() > 4.99
