"""The Vowpal Wabbit text reader: its hashing against scikit-learn's MurmurHash3, its parse
against a slow pure-Python reference, its errors, and the VW output of write_click_data."""

import math
import os
import re
import struct
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.utils import murmurhash3_32

from ftrlx._kernels import _svm
from ftrlx.datasets import _base, iter_criteo, iter_vw, write_click_data

WHITESPACE = b" \t\x0b\x0c\r"
NUMBER = re.compile(rb"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def number(word):
    return float(word) if NUMBER.fullmatch(word) else None


def feature_hash(namespace, name, seed):
    return murmurhash3_32(namespace + b"\x00" + name, seed=seed, positive=True)


def pair_hash(a, b, seed):
    return murmurhash3_32(struct.pack("<II", a, b), seed=seed, positive=True)


def reference_line(line, n_features, seed, pairs, binary):
    """None for a blank line, 'bad' for a bad one, else (columns, values, label, weight)."""
    if not line.split():
        return None
    bar = line.find(b"|")
    header = line if bar < 0 else line[:bar]
    words = header.split()
    if words and ((bar >= 0 and header[-1] not in WHITESPACE) or words[-1].startswith(b"'")):
        words = words[:-1]  # the tag
    if not 1 <= len(words) <= 3:
        return "bad"
    numbers = [number(w) for w in words]
    if None in numbers:
        return "bad"
    label = numbers[0]
    if binary and label not in (-1.0, 0.0, 1.0):
        return "bad"
    weight = numbers[1] if len(numbers) > 1 else 1.0
    if not (weight >= 0 and math.isfinite(weight)):
        return "bad"
    features = []  # (hash, value, group)
    for section in line[bar + 1 :].split(b"|") if bar >= 0 else []:
        name, scale, rest = b"", 1.0, section
        if section and section[0] not in WHITESPACE:
            word, rest = (section.split(None, 1) + [b""])[:2]
            name, colon, w = word.partition(b":")
            if colon:
                scale = number(w)
                if scale is None:
                    return "bad"
        group = name[0] if name else 32
        for token in rest.split():
            fname, colon, v = token.partition(b":")
            if not fname:
                return "bad"
            value = number(v) if colon else 1.0
            if value is None:
                return "bad"
            features.append((feature_hash(name, fname, seed), value * scale, group))
    entries = [(h % n_features, v) for h, v, _ in features]
    for a, b in pairs:
        for i, (hi, vi, gi) in enumerate(features):
            if gi != a:
                continue
            for j in range(i + 1 if a == b else 0, len(features)):
                hj, vj, gj = features[j]
                if gj == b:
                    entries.append((pair_hash(hi, hj, seed) % n_features, vi * vj))
    sums = {}
    for c, v in entries:
        sums[c] = sums[c] + v if c in sums else v
    row = sorted((c, v) for c, v in sums.items() if v != 0)
    y = (1.0 if label > 0 else 0.0) if binary else label
    return [c for c, _ in row], [v for _, v in row], y, weight


def reference(data, n_features=2**20, interactions=(), seed=0, binary=True):
    """Rows (columns, values, label, weight) and the numbers of the bad lines."""
    rows, bad = [], []
    pairs = [(ord(p[0]), ord(p[1])) for p in interactions]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number_, line in enumerate(lines, start=1):
        row = reference_line(line, n_features, seed, pairs, binary)
        if row == "bad":
            bad.append(number_)
        elif row is not None:
            rows.append(row)
    return rows, bad


def read_all(path, **options):
    reader = iter_vw(path, **options)
    chunks = list(reader)
    return chunks, reader


def to_rows(chunks):
    rows = []
    for X, y, w in chunks:
        for r in range(X.shape[0]):
            a, b = X.indptr[r], X.indptr[r + 1]
            rows.append((X.indices[a:b].tolist(), X.data[a:b].tolist(), float(y[r]), float(w[r])))
    return rows


def bitwise(rows):
    return [
        (c, np.asarray(v, dtype=np.float64).tobytes(), np.float64(y).tobytes(), np.float64(w).tobytes())
        for c, v, y, w in rows
    ]


# --------------------------------------------------------------------------
# hashing
# --------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(namespace=st.binary(max_size=12), feature=st.binary(max_size=20), seed=st.integers(0, 2**32 - 1))
def test_feature_hash_is_sklearns_murmurhash3(namespace, feature, seed):
    assert _svm._vw_feature_hash(namespace, feature, seed) == feature_hash(namespace, feature, seed)


@settings(max_examples=200, deadline=None)
@given(a=st.integers(0, 2**32 - 1), b=st.integers(0, 2**32 - 1), seed=st.integers(0, 2**32 - 1))
def test_pair_hash_is_murmurhash3_of_the_two_hashes(a, b, seed):
    assert _svm._vw_pair_hash(a, b, seed) == pair_hash(a, b, seed)


# --------------------------------------------------------------------------
# parse against the reference
# --------------------------------------------------------------------------
NAMES = st.sampled_from(["a", "b", "x", "price", "7", "city=paris", "é", "a.b", "-1", "q"])
VALUES = st.one_of(
    st.sampled_from(["1", "0", "-1", "0.5", "2e1", ".5", "3.", "-0", "1e400", "abc", "", "1:2", "nan"]),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
)
NAMESPACES = st.sampled_from(["", "", "a", "ab", "b", "x", "a:2", "b:0.5", "a:0", "a:x", ":2", "c"])
HEADERS = st.sampled_from(
    [
        "1 ",
        "-1 ",
        "0 ",
        "1 2 ",
        "1 0.5 3 ",
        "-1 'tag ",
        "1 tag",
        "1 2 tag",
        "",
        "2 ",
        "1 -1 ",
        "x ",
        "1 2 3 4 ",
        " 1\t",
        "1 'a b ",
        "1.0 inf ",
    ]
)


@st.composite
def vw_line(draw):
    if draw(st.integers(0, 12)) == 0:
        return draw(st.sampled_from(["", "  ", "\t\r", "1", "1 2", "|a x", "garbage here"]))
    line = draw(HEADERS)
    for _ in range(draw(st.integers(0, 3))):
        ns = draw(NAMESPACES)
        line += "|" + ns + (" " if ns or draw(st.booleans()) else "")
        for _ in range(draw(st.integers(0, 5))):
            name = draw(NAMES)
            line += name + (":" + draw(VALUES) if draw(st.integers(0, 2)) == 0 else "") + " "
        line = line.rstrip(" ") if draw(st.booleans()) else line
    return line + draw(st.sampled_from(["", "", "\r", " "]))


OPTIONS = st.fixed_dictionaries(
    {
        "n_features": st.sampled_from([1, 16, 2**20]),
        "interactions": st.sampled_from([(), ("ab",), ("aa",), ("ab", "a ", "xx")]),
        "seed": st.sampled_from([0, 7]),
        "binary": st.booleans(),
    }
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(vw_line(), max_size=20),
    options=OPTIONS,
    block_bytes=st.sampled_from([1, 50, 1 << 23]),
    chunk_size=st.sampled_from([1, 4, 1000]),
    threads=st.sampled_from([None, 0, 1, 3]),
)
def test_reader_matches_reference(lines, options, block_bytes, chunk_size, threads):
    # every number of parser threads gives the rows and the first error of one parse going through the file
    from ftrlx.datasets._vw import VwReader

    data = ("\n".join(lines) + "\n").encode()
    rows, bad = reference(data, **options)
    saved = _base.BLOCK_BYTES
    _base.BLOCK_BYTES = block_bytes
    VwReader.parse_threads = threads
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "f.vw")
            with open(path, "wb") as fh:
                fh.write(data)
            chunks, reader = read_all(path, chunk_size=chunk_size, on_bad_lines="skip", **options)
            if bad:
                with pytest.raises(ValueError, match=f"^{re.escape(path)}:{bad[0]}: "):
                    list(iter_vw(path, **options))
            else:
                assert bitwise(to_rows(list(iter_vw(path, **options)))) == bitwise(to_rows(chunks))
    finally:
        _base.BLOCK_BYTES = saved
        VwReader.parse_threads = None
    assert reader.skipped == len(bad) and reader.rows_read == len(rows)
    assert bitwise(to_rows(chunks)) == bitwise(rows)
    for X, y, w in chunks:
        assert X.shape[1] == options["n_features"] and X.has_sorted_indices
        assert X.indices.dtype == np.int32 and y.dtype == w.dtype == np.float64


def test_grammar_by_example(tmp_path):
    path = tmp_path / "g.vw"
    path.write_text("1 2.0 'id1|user age:0.5 age:0.25 |ad:3 x:2 |  plain\n-1 0.5 tag|user age\n\n0 |user zero:0\n")
    ((X, y, w),) = list(iter_vw(path, n_features=2**18))
    np.testing.assert_array_equal(y, [1, 0, 0])
    np.testing.assert_array_equal(w, [2.0, 0.5, 1.0])
    age = feature_hash(b"user", b"age", 0) % 2**18
    assert X[0, age] == 0.75 and X[0, feature_hash(b"ad", b"x", 0) % 2**18] == 6.0
    assert X[0, feature_hash(b"", b"plain", 0) % 2**18] == 1.0 and X.getrow(0).nnz == 3
    assert X[1, age] == 1.0 and X.getrow(2).nnz == 0  # zeros are dropped


def test_interactions(tmp_path):
    path = tmp_path / "q.vw"
    path.write_text("1 |a p:2 q:3 |b r:5\n")
    ((X, _, _),) = list(iter_vw(path, n_features=2**20, interactions=["ab", "aa"]))
    h = {name: feature_hash(ns, name, 0) for ns, name in [(b"a", b"p"), (b"a", b"q"), (b"b", b"r")]}
    expected = {
        h[b"p"] % 2**20: 2.0,
        h[b"q"] % 2**20: 3.0,
        h[b"r"] % 2**20: 5.0,
        pair_hash(h[b"p"], h[b"r"], 0) % 2**20: 10.0,
        pair_hash(h[b"q"], h[b"r"], 0) % 2**20: 15.0,
        pair_hash(h[b"p"], h[b"q"], 0) % 2**20: 6.0,
    }
    assert dict(zip(X.indices.tolist(), X.data.tolist())) == expected


@pytest.mark.parametrize(
    "line, message",
    [
        ("|a x", r"no label before the first '\|'; start the line with a label"),
        ("1|a x", r"no label before the first '\|' \('1' is read as a tag\)"),
        ("1 2 3 4 |a x", r"more than 3 words \(label, importance, base\) before the first '\|'"),
        ("yes |a x", "label 'yes' is not a number"),
        ("2 |a x", r"label '2' is not a binary label \(-1, 0 or \+1\); pass binary=False"),
        ("1 -2 |a x", "importance weight '-2' is not a finite number >= 0"),
        ("1 1 b |a x", "base 'b' is not a number"),
        ("1 |a:z x", "weight 'z' of namespace 'a' is not a number"),
        ("1 |a :3", "feature ':3' has no name"),
        (
            "1 |a city:paris",
            "value 'paris' of feature 'city' is not a number; write a categorical value into the feature's name",
        ),
    ],
)
def test_bad_lines(tmp_path, line, message):
    path = tmp_path / "bad.vw"
    path.write_text("1 |a x\n\n" + line + "\n-1 |a y\n")
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}:3: {message}"):
        list(iter_vw(path))
    chunks, reader = read_all(path, on_bad_lines="skip")
    assert reader.skipped == 1 and reader.rows_read == 2


def test_bad_arguments(tmp_path):
    path = tmp_path / "a.vw"
    path.write_text("1 |a x\n")
    for kwargs, message in [
        ({"n_features": 0}, "n_features"),
        ({"n_features": 2**31 + 1}, "n_features"),
        ({"seed": -1}, "seed"),
        ({"interactions": "ab"}, "interactions"),
        ({"interactions": ["abc"]}, "interaction"),
        ({"interactions": ["a|"]}, "interaction"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"on_bad_lines": "warn"}, "on_bad_lines"),
    ]:
        with pytest.raises(ValueError, match=message):
            iter_vw(path, **kwargs)


def test_agrees_with_vowpal_wabbit_on_labels_weights_and_values(tmp_path):
    pyvw = pytest.importorskip("vowpalwabbit.pyvw")
    lines = [
        "1 2.0 'tg|a x y:2 |b z",
        "-1 |a:0.5 x",
        "1 zebra|a x",
        "0 0.5 1.5 'tag |ab x:3 | d e",
        "1 0.5 tag| d",
        "1 |a 12 x:1e2 |c:2 w",
    ]
    path = tmp_path / "vw.vw"
    path.write_text("\n".join(lines) + "\n")
    ((X, y, w),) = list(iter_vw(path, binary=False))
    vw = pyvw.Workspace("--quiet --noconstant")
    try:
        for r, line in enumerate(lines):
            ex = vw.parse(line)
            assert ex.get_simplelabel_label() == y[r] and ex.get_simplelabel_weight() == w[r]
            values = sorted(
                ex.feature_weight(i, j) for i in range(ex.num_namespaces()) for j in range(ex.num_features_in(i))
            )
            assert sorted(X.getrow(r).data.tolist()) == values
            vw.finish_example(ex)
    finally:
        vw.finish()


# --------------------------------------------------------------------------
# write_click_data(format='vw')
# --------------------------------------------------------------------------
def test_write_click_data_vw_has_the_criteo_rows(tmp_path):
    vw_path = write_click_data(tmp_path / "c.vw", 1500, format="vw", seed=3, chunk_size=1000)
    tsv_path = write_click_data(tmp_path / "c.tsv", 1500, format="criteo", seed=3, chunk_size=700)
    vw_lines = open(vw_path).read().splitlines()
    tsv_lines = open(tsv_path).read().splitlines()
    names = [f"I{j}" for j in range(1, 14)] + [f"C{j}" for j in range(1, 27)]
    for vw_line_, tsv_line in zip(vw_lines, tsv_lines):
        cells = tsv_line.split("\t")
        expected = [{"0": "-1", "1": "1"}[cells[0]], "|f"] + [
            f"{name}={value}" for name, value in zip(names, cells[1:]) if value
        ]
        assert vw_line_.split(" ") == expected
    assert len(vw_lines) == len(tsv_lines) == 1500
    chunks, reader = read_all(vw_path, n_features=2**20, chunk_size=1000)
    y_criteo = np.concatenate([y for _, y in iter_criteo(tsv_path)])
    np.testing.assert_array_equal(np.concatenate([y for _, y, _ in chunks]), y_criteo)
    assert reader.rows_read == 1500 and all(X.getnnz(axis=1).max() <= 39 for X, _, _ in chunks)


def test_block_outputs_are_reused_and_kept_chunks_untouched(tmp_path, monkeypatch):
    # each block's rows go to arrays handed back once nothing refers to them; a chunk the consumer keeps stays
    monkeypatch.setattr(_base, "BLOCK_BYTES", 3_000)
    rng = np.random.default_rng(5)
    lines = [
        f"{rng.choice([-1, 1])} |a " + " ".join(f"f{j}:{rng.random():.3f}" for j in rng.integers(0, 300, 15))
        for _ in range(1_500)
    ]
    path = tmp_path / "rows.vw"
    path.write_text("\n".join(lines) + "\n")
    reader = iter_vw(path, n_features=2**10)
    bases = {(X.data.base if X.data.base is not None else X.data).ctypes.data for X, *_ in reader._pieces()}
    assert len(bases) <= 3, len(bases)  # the piece in use, the next one, one grown
    kept = list(iter_vw(path, n_features=2**10, chunk_size=100))
    again = list(iter_vw(path, n_features=2**10, chunk_size=100))
    assert len(kept) == 15
    for a, b in zip(kept, again):
        assert (a[0] != b[0]).nnz == 0 and all(np.array_equal(u, v) for u, v in zip(a[1:], b[1:]))
