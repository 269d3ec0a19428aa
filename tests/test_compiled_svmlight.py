"""The compiled svmlight reader against the Python one it replaced (same chunks bitwise, same
errors), its pieces (numbers, line blocks, sorting) and the new ``fold`` option."""

import io
import os
import re
import tempfile
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ftrlx._kernels import _svm
from ftrlx.datasets import _base, iter_svmlight
from ftrlx.datasets._svmlight import reused_line_blocks

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def run(path, engine, **options):
    """Every chunk the reader yields, then its exception (or None) and its counters."""
    reader = iter_svmlight(path, **options)
    reader._engine = engine
    chunks = []
    # Values beyond float32 become inf in both engines; only NumPy's cast warns about it.
    with np.errstate(over="ignore"):
        return _collect(reader, chunks)


def _collect(reader, chunks):
    error = None
    try:
        for X, y in reader:
            chunks.append(
                (
                    X.shape,
                    X.data.dtype,
                    X.indices.dtype,
                    X.indptr.dtype,
                    X.data.tobytes(),
                    X.indices.tobytes(),
                    X.indptr.tobytes(),
                    y.tobytes(),
                )
            )
    except ValueError as exc:
        error = str(exc)
    return chunks, error, reader.rows_read, reader.skipped


def with_blocks(block_bytes, fn, *args, **kwargs):
    saved = _base.BLOCK_BYTES
    _base.BLOCK_BYTES = block_bytes
    try:
        return fn(*args, **kwargs)
    finally:
        _base.BLOCK_BYTES = saved


# --------------------------------------------------------------------------
# Random svmlight text: mostly well-formed, with every kind of fault mixed in
# --------------------------------------------------------------------------
NUMBERS = st.one_of(
    st.sampled_from(
        [
            "1",
            "0",
            "-1",
            "+1",
            "2",
            "-0",
            "0.5",
            ".5",
            "1.",
            "1e0",
            "2E-3",
            "-1.25",
            "3.0",
            "1e400",
            "1e-400",
            "0.1",
            "12345678901234567890",
            "1_0",
            "nan",
            "-inf",
            "1e",
            ".",
            "+",
            "--1",
            "0x10",
            "1,5",
            "abc",
            "",
        ]
    ),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: f"{v:.17g}"),
    st.integers(-(10**20), 10**20).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
)
LABELS = st.one_of(st.sampled_from(["1", "-1", "0", "+1", "1.0", "-0", "2.5", "1e0", "yes"]), NUMBERS)
INDICES = st.one_of(
    st.integers(0, 80).map(str), st.sampled_from(["+3", "007", "-2", "-0", "x", "", "2147483647", "1_2"])
)
SPACES = st.sampled_from([" ", " ", " ", "  ", "\t", " \x0b", "\x0c "])


@st.composite
def svm_line(draw):
    kind = draw(st.sampled_from(["row"] * 8 + ["blank", "comment", "garbage"]))
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\t", "\x0b", " \r"]))
    if kind == "comment":
        return draw(st.sampled_from(["#", "# comment 1:2", "   # x"]))
    if kind == "garbage":
        return draw(st.text("0123456789:.-+eE#q \t", max_size=12))
    parts = [draw(LABELS)]
    indices = sorted(set(draw(st.lists(st.integers(0, 80), max_size=6))))
    if draw(st.booleans()) and len(indices) > 1:
        indices = draw(st.permutations(indices))  # often out of order
    for index in indices:
        if draw(st.integers(0, 9)) == 0:
            parts.append(draw(st.sampled_from(["qid:3", "qid:", "qid:x"])))
        name = str(index) if draw(st.integers(0, 7)) else draw(INDICES)
        value = draw(NUMBERS) if draw(st.integers(0, 2)) == 0 else "1"
        parts.append(f"{name}:{value}" if draw(st.integers(0, 15)) else name)
    line = "".join(part + draw(SPACES) for part in parts).rstrip(" ") if draw(st.booleans()) else " ".join(parts)
    line += draw(st.sampled_from(["", "", "", " # tail", "#x", "\r", " "]))
    return line


@st.composite
def svm_file(draw):
    lines = draw(st.lists(svm_line(), max_size=25))
    text = "\n".join(lines) + draw(st.sampled_from(["\n", ""]))
    return text.encode()


OPTIONS = st.fixed_dictionaries(
    {
        "chunk_size": st.sampled_from([1, 3, 1000]),
        "n_features": st.sampled_from([None, 30, 81, 100]),
        "zero_based": st.sampled_from([True, False, "auto"]),
        "binary": st.booleans(),
        "dtype": st.sampled_from([np.float64, np.float32]),
        "on_bad_lines": st.sampled_from(["error", "skip"]),
    }
)


@FUZZ
@given(data=svm_file(), options=OPTIONS, block_bytes=st.sampled_from([1, 37, 200, 1 << 23]))
# found by the fuzzing: a label that is not finite is reported as such by both engines, also with binary=True
@example(
    data=b"nan\n",
    options={
        "chunk_size": 1,
        "n_features": None,
        "zero_based": True,
        "binary": True,
        "dtype": np.float64,
        "on_bad_lines": "error",
    },
    block_bytes=1,
)
def test_compiled_matches_python_reader(data, options, block_bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "fuzz.svm")
        with open(path, "wb") as fh:
            fh.write(data)
        compiled = with_blocks(block_bytes, run, path, "compiled", **options)
        python = with_blocks(block_bytes, run, path, "python", **options)
    assert compiled == python


@pytest.mark.parametrize(
    "line, message",
    [
        ("1 x:1", "feature index 'x' is not an integer"),
        ("1 3:abc", "value 'abc' of feature 3 is not a number"),
        ("1 3", "token '3' is not of the form index:value"),
        ("1 5:1 3:1", "feature indices must increase along a line, but 3 comes after 5"),
        ("1 5:1 5:2", "feature indices must increase along a line, but 5 comes after 5"),
        ("yes 1:1", "label 'yes' is not a number"),
        ("1 -2:1", "feature index -2 is negative"),
        (
            "1 40:1",
            r"feature index 40 is beyond n_features=30 \(largest allowed index: 30\); pass a "
            "larger n_features or fold=True",
        ),
        ("1 0:1", "feature index 0 in a file read as one-based"),
        ("3 1:1", r"label 3 is not a binary label \(-1, 0 or \+1\); pass binary=False"),
    ],
)
@pytest.mark.parametrize("engine", ["compiled", "python"])
def test_bad_line_messages(tmp_path, line, message, engine):
    path = tmp_path / "bad.svm"
    path.write_text("\n".join(["1 1:1 2:1", "# comment", "", line, "-1 2:1"]) + "\n")
    reader = iter_svmlight(path, n_features=30, zero_based=False)
    reader._engine = engine
    with pytest.raises(ValueError, match=f"^{path}:4: {message}"):
        list(reader)
    reader = iter_svmlight(path, n_features=30, zero_based=False, on_bad_lines="skip")
    reader._engine = engine
    assert sum(len(y) for _, y in reader) == 2 and reader.skipped == 1


def test_forms_only_python_reads_go_to_python(tmp_path):
    # 1_0, nan and +3 are valid for Python's float()/int(); the compiled parser leaves them to it. A value that is
    # not finite is then a bad line (no model can train on it).
    path = tmp_path / "odd.svm"
    path.write_text("1 +3:1_0 5:2\n0 2:1 4:nan\n")
    ((X, y),) = list(iter_svmlight(path, zero_based=True, n_features=6, on_bad_lines="skip"))
    assert X.shape[0] == 1 and X[0, 3] == 10 and X[0, 5] == 2
    with pytest.raises(ValueError, match=r"odd.svm:2: value nan of feature 4 is not a finite number"):
        list(iter_svmlight(path, zero_based=True, n_features=6))


def test_large_indices_are_int64_when_no_width_is_given(tmp_path):
    path = tmp_path / "wide.svm"
    path.write_text("1 5:1 3000000000:2\n")
    ((X, y),) = list(iter_svmlight(path))
    assert X.shape == (1, 3000000000) and X.indices.dtype == np.int64
    assert X.indices.tolist() == [4, 2999999999]


# --------------------------------------------------------------------------
# fold
# --------------------------------------------------------------------------
def fold_reference(X, n_features, dtype):
    """Fold the columns of a raw read modulo n_features, summing in line order, in float64."""
    rows = []
    for r in range(X.shape[0]):
        sums = {}
        for j, v in zip(
            X.indices[X.indptr[r] : X.indptr[r + 1]].tolist(), X.data[X.indptr[r] : X.indptr[r + 1]].tolist()
        ):
            c = j % n_features
            sums[c] = sums[c] + v if c in sums else v
        rows.append(sorted(sums.items()))
    indptr = np.cumsum([0] + [len(row) for row in rows])
    indices = np.array([c for row in rows for c, _ in row], dtype=np.int64)
    data = np.array([v for row in rows for _, v in row], dtype=np.float64).astype(dtype)
    return indptr, indices, data


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([-1, 1]),
            st.dictionaries(
                st.integers(1, 200), st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: round(v, 3)), max_size=40
            ),
        ),
        min_size=1,
        max_size=30,
    ),
    n_features=st.sampled_from([1, 7, 64, 150]),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_fold_sums_colliding_columns(rows, n_features, dtype):
    text = "".join(
        f"{label} " + " ".join(f"{j}:{v!r}" for j, v in sorted(entries.items())) + "\n" for label, entries in rows
    )
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "fold.svm")
        with open(path, "w") as fh:
            fh.write(text)
        raw = list(iter_svmlight(path, zero_based=False))
        folded = list(iter_svmlight(path, zero_based=False, n_features=n_features, fold=True, dtype=dtype))
    assert len(raw) == len(folded) == 1
    (X, y), (F, yf) = raw[0], folded[0]
    indptr, indices, data = fold_reference(X, n_features, dtype)
    assert F.shape == (len(rows), n_features) and F.has_sorted_indices
    np.testing.assert_array_equal(F.indptr, indptr)
    np.testing.assert_array_equal(F.indices, indices)
    assert F.data.dtype == dtype and F.data.tobytes() == data.tobytes()
    np.testing.assert_array_equal(y, yf)


def test_fold_needs_n_features(tmp_path):
    path = tmp_path / "a.svm"
    path.write_text("1 1:1\n")
    with pytest.raises(ValueError, match="fold=True folds indices modulo n_features; pass n_features"):
        iter_svmlight(path, fold=True)
    with pytest.raises(ValueError, match="fold must be True or False"):
        iter_svmlight(path, n_features=3, fold="yes")


# --------------------------------------------------------------------------
# pieces
# --------------------------------------------------------------------------
DECIMALS = st.from_regex(r"\A[+-]?([0-9]{1,25}(\.[0-9]{0,25})?|\.[0-9]{1,25})([eE][+-]?[0-9]{1,4})?\Z")


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(DECIMALS, st.text("0123456789.eE+-_ xn", max_size=12)))
def test_parse_number_is_pythons_float_on_decimals(text):
    got = _svm._parse_number(text.encode())
    if re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", text):
        assert got is not None and np.float64(got).tobytes() == np.float64(float(text)).tobytes()
    else:
        assert got is None


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300).map(lambda b: b.replace(b"\r", b"\n")), block_bytes=st.integers(1, 40))
def test_reused_line_blocks_cut_the_blocks_of_iter_line_blocks(data, block_bytes):
    def reused():
        return [bytes(buf[:n]) for buf, n in reused_line_blocks(io.BytesIO(data))]

    def plain():
        return [block for block, _ in _base.iter_line_blocks(io.BytesIO(data))]

    assert with_blocks(block_bytes, reused) == with_blocks(block_bytes, plain)


@settings(max_examples=200, deadline=None)
@given(
    entries=st.lists(st.tuples(st.integers(0, 20), st.sampled_from([0.0, 1.0, -1.0, 0.1, 2.5])), max_size=80),
    drop_zeros=st.booleans(),
)
def test_sort_and_sum_is_stable(entries, drop_zeros):
    col = np.array([c for c, _ in entries], dtype=np.int64)
    val = np.array([v for _, v in entries], dtype=np.float64)
    m = _svm._sort_and_sum(col, val, drop_zeros)
    sums = {}
    for c, v in entries:
        sums[c] = sums[c] + v if c in sums else v
    expected = [(c, s) for c, s in sorted(sums.items()) if not (drop_zeros and s == 0)]
    assert list(zip(col[:m].tolist(), val[:m].tolist())) == expected


def test_parser_rejects_a_block_without_final_newline():
    with pytest.raises(ValueError, match="must end with a newline"):
        _svm.SvmlightParser().parse(b"1 1:1", 5, 1, True)
    with pytest.raises(ValueError, match="outside the block"):
        _svm.SvmlightParser().parse(b"1 1:1\n", 7, 1, True)


def test_readers_in_threads_agree(tmp_path):
    # The parse runs without the GIL; two readers of one file in two threads must not interfere.
    rng = np.random.default_rng(0)
    lines = [
        f"{rng.choice([-1, 1])} "
        + " ".join(f"{j}:{rng.integers(1, 9)}" for j in sorted(rng.choice(500, 20, replace=False) + 1))
        for _ in range(3000)
    ]
    path = tmp_path / "t.svm"
    path.write_text("\n".join(lines) + "\n")
    expected = [
        (X.toarray().tobytes(), y.tobytes())
        for X, y in with_blocks(4096, list, iter_svmlight(path, chunk_size=700, n_features=501))
    ]
    results = [None, None]

    def work(k):
        results[k] = [
            (X.toarray().tobytes(), y.tobytes()) for X, y in iter_svmlight(path, chunk_size=700, n_features=501)
        ]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    saved = _base.BLOCK_BYTES
    _base.BLOCK_BYTES = 4096
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        _base.BLOCK_BYTES = saved
    assert results[0] == results[1] == expected


def test_block_outputs_are_reused(tmp_path, monkeypatch):
    # each block's rows are written into arrays handed back once nothing refers to them (fresh pages cost a page
    # fault each), and a chunk the consumer keeps is never written to
    monkeypatch.setattr(_base, "BLOCK_BYTES", 4_000)
    rng = np.random.default_rng(2)
    lines = [
        f"{rng.integers(0, 2)} "
        + " ".join(f"{j + 1}:{rng.random():.3f}" for j in sorted(rng.choice(500, 20, replace=False)))
        for _ in range(2_000)
    ]
    path = tmp_path / "rows.svm"
    path.write_text("\n".join(lines) + "\n")
    reader = iter_svmlight(path, n_features=500)
    reader._offset, reader._width = None, 0  # as a pass sets them up (_chunks)
    bases = set()
    for X, _ in reader._pieces():
        bases.add(X.data.base.ctypes.data if X.data.base is not None else X.data.ctypes.data)
    assert len(bases) <= 3, len(bases)  # the piece in use, the next one, one grown
    kept = list(iter_svmlight(path, n_features=500, chunk_size=150))
    again = list(iter_svmlight(path, n_features=500, chunk_size=150))
    assert len(kept) > 5
    for (X1, y1), (X2, y2) in zip(kept, again):
        assert (X1 != X2).nnz == 0 and np.array_equal(y1, y2)
