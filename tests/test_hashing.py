"""CategoricalHasher against a per-cell pure-Python reference."""

import json
import math
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from sklearn.utils import murmurhash3_32

from ftrlx.hashing import CategoricalHasher, murmurhash3_32_many


# --------------------------------------------------------------------------
# Reference: one dict per row, one murmurhash3_32 call per cell
# --------------------------------------------------------------------------
def ref_token(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, str):
        return v.encode() if v != "" else None
    if isinstance(v, bool):
        return str(v).encode()
    if isinstance(v, int):
        return b"%d" % v
    if float(v) == int(v) if math.isfinite(v) else False:
        return b"%d" % int(v)
    return repr(float(v)).encode()


def ref_bin(x):
    if x is None or math.isnan(x):
        return None
    if x == 0:
        return b"0"
    sign = "-" if x < 0 else "+"
    a = abs(x)
    if math.isinf(a):
        body = "inf"
    elif a <= 2:
        body = f"s{math.floor(a)}"
    else:
        body = f"l{math.floor(math.log(a) ** 2)}"
    return (sign + body).encode()


def reference(
    table, n_rows, n_features, categorical, numeric=(), numeric_mode="value", interactions=(), signed=False, seed=0
):
    rows = [defaultdict(float) for _ in range(n_rows)]

    def add(i, token, value):
        h = murmurhash3_32(token, seed=seed, positive=True)
        s = -1.0 if signed and h >= 2**31 else 1.0
        rows[i][h % n_features] += s * value

    def cat_token(name, i):
        v = table[name][i]
        if name in numeric and numeric_mode != "value":
            return ref_bin(None if v is None else float(v))
        return ref_token(v)

    for i in range(n_rows):
        for name in categorical:
            t = cat_token(name, i)
            if t is not None:
                add(i, name.encode() + b"\x00" + t, 1.0)
        for name in numeric:
            v = table[name][i]
            x = np.nan if v is None else float(v)
            if numeric_mode in ("value", "both") and not math.isnan(x):
                add(i, name.encode(), x)
            if numeric_mode in ("log_bin", "both"):
                t = ref_bin(x)
                if t is not None:
                    add(i, name.encode() + b"\x00" + t, 1.0)
        for a, b in interactions:
            ta, tb = cat_token(a, i), cat_token(b, i)
            if ta is not None and tb is not None:
                add(i, b"\x00".join([a.encode(), ta, b.encode(), tb]), 1.0)
    entries = [(i, j, v) for i, row in enumerate(rows) for j, v in row.items()]
    i, j, v = zip(*entries) if entries else ((), (), ())
    return sp.csr_matrix((v, (i, j)), shape=(n_rows, n_features))


def assert_same(X, expected):
    diff = abs(X - expected)
    assert diff.nnz == 0 or diff.max() < 1e-12


def random_table(rng, n_rows):
    words = np.array(["", "a", "bb", "ccc", "día", "x y", "0", "1"], dtype=object)
    cat_s = words[rng.integers(0, len(words), n_rows)]
    cat_s[rng.random(n_rows) < 0.1] = None
    cat_i = rng.integers(-3, 50, n_rows)
    cat_f = rng.integers(0, 5, n_rows).astype(float) / rng.choice([1.0, 2.0], n_rows)
    cat_f[rng.random(n_rows) < 0.2] = np.nan
    num_a = np.round(rng.standard_normal(n_rows) * 10 ** rng.integers(0, 4, n_rows), 2)
    num_a[rng.random(n_rows) < 0.15] = np.nan
    num_a[rng.random(n_rows) < 0.1] = 0.0
    num_b = rng.integers(-2, 1000, n_rows).astype(float)
    return {"s": cat_s, "i": cat_i, "f": cat_f, "na": num_a, "nb": num_b}


def as_lists(table):
    out = {}
    for k, v in table.items():
        vals = v.tolist()
        out[k] = [None if (isinstance(x, float) and math.isnan(x)) else x for x in vals]
    return out


def check_csr(X, n_rows, n_features, dtype=np.float64):
    assert sp.issparse(X) and X.format == "csr"
    assert X.shape == (n_rows, n_features)
    assert X.dtype == dtype
    assert X.has_sorted_indices and X.has_canonical_format
    for i in range(n_rows):  # strictly increasing within rows, checked directly
        assert np.all(np.diff(X.indices[X.indptr[i] : X.indptr[i + 1]]) > 0)
    assert not np.any(X.data == 0)
    assert X.indices.dtype == (np.int32 if n_features < 2**31 else np.int64)


CASES = [
    dict(categorical=["s", "i", "f"], numeric=["na", "nb"], numeric_mode="value"),
    dict(categorical=["s", "i", "f"], numeric=["na", "nb"], numeric_mode="log_bin"),
    dict(categorical=["s", "i"], numeric=["na", "nb"], numeric_mode="both", signed=True, seed=11),
    dict(categorical=["s", "i", "f"], numeric=[], interactions=[("s", "i"), ("i", "f")]),
    dict(
        categorical=["s", "f"],
        numeric=["nb"],
        numeric_mode="log_bin",
        signed=True,
        interactions=[("s", "nb"), ("f", "s")],
        seed=2**32 - 1,
    ),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("n_features", [16, 2**18])
def test_matches_per_cell_reference(case, n_features):
    rng = np.random.default_rng(len(str(case)) + n_features)
    n_rows = 300
    table = random_table(rng, n_rows)
    hasher = CategoricalHasher(n_features=n_features, **case)
    X = hasher.transform(table)
    check_csr(X, n_rows, n_features)
    expected = reference(as_lists(table), n_rows, n_features, **{"numeric": (), **case})
    assert_same(X, expected)


@pytest.mark.parametrize("kind", ["pandas", "arrow", "recordbatch", "dict"])
def test_input_types_agree(kind):
    rng = np.random.default_rng(5)
    table = random_table(rng, 200)
    case = dict(
        categorical=["s", "i", "f"], numeric=["na"], numeric_mode="both", interactions=[("s", "f")], n_features=2**12
    )
    expected = CategoricalHasher(**case).transform(table)
    if kind == "pandas":
        pd = pytest.importorskip("pandas")
        data = pd.DataFrame(table)
    elif kind == "arrow":
        data = pa.table({k: pa.array(v, from_pandas=True) for k, v in table.items()})
    elif kind == "recordbatch":
        data = pa.record_batch({k: pa.array(v, from_pandas=True) for k, v in table.items()})
    else:
        data = {k: list(v) for k, v in table.items()}
    X = CategoricalHasher(**case).transform(data)
    assert (X != expected).nnz == 0


def test_pandas_categorical_and_nullable_columns():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "c": pd.Categorical(["u", None, "v", "u"]),
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
        }
    )
    X = CategoricalHasher(n_features=2**16).transform(df)
    expected = reference({"c": ["u", None, "v", "u"], "n": [1, None, 3, 4]}, 4, 2**16, categorical=["c", "n"])
    assert_same(X, expected)


def test_two_d_array_columns_by_position():
    arr = np.array([["a", "1"], ["b", ""], ["a", "2"]], dtype=object)
    X = CategoricalHasher(n_features=2**10, categorical=[1]).transform(arr)
    expected = reference({"1": ["1", "", "2"]}, 3, 2**10, categorical=["1"])
    assert_same(X, expected)


def test_chunk_invariance():
    rng = np.random.default_rng(0)
    table = random_table(rng, 1000)
    hasher = CategoricalHasher(
        n_features=2**10,
        categorical=["s", "i", "f"],
        numeric=["na"],
        numeric_mode="both",
        signed=True,
        interactions=[("s", "i")],
    )
    whole = hasher.transform(table)
    pieces = [
        hasher.transform({k: v[a:b] for k, v in table.items()}) for a, b in [(0, 1), (1, 333), (333, 334), (334, 1000)]
    ]
    stacked = sp.vstack(pieces, format="csr")
    assert (whole != stacked).nnz == 0


def test_murmurhash_many_matches_sklearn():
    rng = np.random.default_rng(1)
    tokens = [bytes(rng.integers(0, 256, n, dtype=np.uint8)) for n in range(0, 41)]
    tokens += [b"\x00", b"a\x00", "héllo".encode(), b"x" * 101]
    for seed in [0, 1, 12345, 2**32 - 1]:
        got = murmurhash3_32_many(tokens, seed).tolist()
        assert got == [murmurhash3_32(t, seed=seed, positive=True) for t in tokens]
    assert murmurhash3_32_many([], 0).shape == (0,)


def test_dtype_and_wide_index():
    table = {"a": np.array(["x", "y"], dtype=object)}
    X32 = CategoricalHasher(n_features=64, dtype=np.float32).transform(table)
    check_csr(X32, 2, 64, np.float32)
    X = CategoricalHasher(n_features=2**32).transform(table)
    check_csr(X, 2, 2**32)
    h = murmurhash3_32(b"a\x00x", seed=0, positive=True)
    assert X[0].indices.tolist() == [h]


def test_signed_collisions_cancel_to_no_entry():
    # 4 distinct tokens into 1 column: signed values sum to (#plus - #minus).
    table = {"a": np.array(["p", "q", "r", "s"], dtype=object)}
    signs = [-1 if murmurhash3_32(b"a\x00" + t, positive=True) >= 2**31 else 1 for t in [b"p", b"q", b"r", b"s"]]
    X = CategoricalHasher(n_features=1, signed=True).transform(table)
    np.testing.assert_array_equal(X.toarray().ravel(), signs)
    # Two fields with opposite signs in one row cancel and leave no stored zero.
    other = [murmurhash3_32(b"b\x00" + t, positive=True) >= 2**31 for t in [b"p", b"q", b"r", b"s"]]
    both = {"a": table["a"], "b": table["a"]}
    X2 = CategoricalHasher(n_features=1, signed=True).transform(both)
    expected = [s + (-1 if o else 1) for s, o in zip(signs, other)]
    np.testing.assert_array_equal(X2.toarray().ravel(), expected)
    assert 0 in expected and X2.nnz == sum(e != 0 for e in expected)


def test_missing_everywhere_gives_empty_rows():
    table = {"a": np.array([None, "", np.nan], dtype=object), "b": np.array([np.nan] * 3)}
    X = CategoricalHasher(n_features=32, numeric=["b"]).transform(table)
    check_csr(X, 3, 32)
    assert X.nnz == 0


def test_spec_round_trip_through_json():
    hasher = CategoricalHasher(
        n_features=2**12,
        categorical=["s", "i"],
        numeric=["na"],
        numeric_mode="log_bin",
        interactions=[("s", "i")],
        signed=True,
        seed=9,
        dtype=np.float32,
    )
    spec = json.loads(json.dumps(hasher.get_spec()))
    clone = CategoricalHasher.from_spec(spec)
    table = random_table(np.random.default_rng(3), 100)
    assert clone.get_spec() == hasher.get_spec()
    assert (clone.transform(table) != hasher.transform(table)).nnz == 0
    with pytest.raises(ValueError, match="not a CategoricalHasher spec"):
        CategoricalHasher.from_spec({"type": "Other"})


def test_fit_records_columns_and_works_in_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    n = 2000
    colour = rng.choice(np.array(["red", "green", "blue"], dtype=object), n)
    size = rng.integers(0, 4, n)
    y = ((colour == "red") | (size == 3)).astype(int)
    data = {"colour": colour, "size": size}
    hasher = CategoricalHasher(n_features=2**8)
    assert hasher.fit(data) is hasher
    assert hasher.n_features_in_ == 2
    assert list(hasher.feature_names_in_) == ["colour", "size"]
    model = make_pipeline(CategoricalHasher(n_features=2**8), LogisticRegression(C=100.0))
    model.fit(data, y)
    assert model.score(data, y) == 1.0


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(n_features=0), "n_features"),
        (dict(numeric_mode="log"), "numeric_mode"),
        (dict(categorical=["a"], numeric=["a"]), "both as categorical and numeric"),
        (dict(categorical=["zz"]), r"column\(s\) \['zz'\] not found"),
        (dict(interactions=[("a",)]), "pair"),
        (dict(seed=-1), "seed"),
        (dict(dtype=np.int64), "dtype"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        CategoricalHasher(**params).transform({"a": np.array(["x"], dtype=object)})


def test_numeric_column_with_text_is_an_error():
    table = {"a": np.array(["1.5", "oops"], dtype=object)}
    with pytest.raises(ValueError, match="'a' is declared numeric"):
        CategoricalHasher(numeric=["a"]).transform(table)
    with pytest.raises(ValueError, match="infinite"):
        CategoricalHasher(numeric=["b"]).transform({"b": np.array([1.0, np.inf])})


def test_core_without_scikit_learn_hashes_as_the_transformer():
    """HashingCore (no scikit-learn API) has the transformer's spec, checks and output; the readers and the
    command line's train path import without scikit-learn."""
    import subprocess
    import sys

    from ftrlx._hashing_core import HashingCore

    data = {"site": np.array(["a", "b", "", "a"], dtype=object), "n": np.array([0.0, 3.0, 250.0, -1.0])}
    params = {"n_features": 2**8, "numeric": ["n"], "numeric_mode": "both", "interactions": [("site", "n")]}
    full, core = CategoricalHasher(**params), HashingCore(**params)
    assert core.get_spec() == full.get_spec()
    assert type(HashingCore.from_spec(full.get_spec())) is HashingCore
    X1, X2 = core.transform(data), full.transform(data)
    for a, b in ((X1.data, X2.data), (X1.indices, X2.indices), (X1.indptr, X2.indptr)):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    with pytest.raises(ValueError, match="numeric_mode"):
        HashingCore(numeric_mode="nope").get_spec()
    code = (
        "import sys, ftrlx.datasets, ftrlx.cli, ftrlx.stream, ftrlx.io, ftrlx._hashing_core; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
