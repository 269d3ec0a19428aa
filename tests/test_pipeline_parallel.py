"""The compiled Criteo/Avazu path with its blocks parsed in several threads, against one parser and pyarrow.

Every number of parser threads must give bitwise the chunks, counters and errors of the pyarrow path; the
reused block buffers must cut the file as the plain block reader does, and a reused output array must never be
one that a chunk still held by the caller lives in.
"""

import io
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftrlx._kernels import _tsv
from ftrlx.datasets import _base, _text_blocks, iter_avazu, iter_criteo

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
THREADS = [0, 1, 2, 3]


def criteo_line(rng, missing=0.2):
    ints = [str(v) if rng.random() > missing else "" for v in rng.integers(-3, 5000, 13)]
    cats = [f"{v:08x}" if rng.random() > missing else "" for v in rng.integers(0, 60, 26)]
    return "\t".join([str(int(rng.random() < 0.3))] + ints + cats)


def criteo_plan(tmp_path, hasher=None):
    """The compiled plan of a Criteo reader over the full column set (the default hashing when ``hasher`` is None)."""
    from ftrlx.datasets._criteo import CRITEO_COLUMNS

    reader = iter_criteo(tmp_path / "unused.tsv", hasher=hasher)
    return reader._compiled_plan(CRITEO_COLUMNS, reader._columns_needed(CRITEO_COLUMNS))


def one_pass(make_reader, compiled, threads=None):
    """Chunks, counters, and the error that ended the pass (if any)."""
    reader = make_reader()
    reader._compiled = compiled
    reader.parse_threads = threads
    chunks, error = [], None
    try:
        for X, y in reader:
            chunks.append(
                (
                    X.data.tobytes(),
                    X.data.dtype,
                    X.indices.tobytes(),
                    X.indices.dtype,
                    X.indptr.tobytes(),
                    X.shape,
                    y.tobytes(),
                )
            )
    except Exception as exc:  # noqa: BLE001 - every path must raise the same
        error = (type(exc), str(exc))
    return chunks, error, reader.rows_read, reader.skipped, getattr(reader, "_switched_at", None)


def assert_threads_agree(make_reader):
    slow = one_pass(make_reader, False)[:4]
    passes = {t: one_pass(make_reader, True, t) for t in THREADS}
    for threads, result in passes.items():
        assert result[:4] == slow, f"parse_threads={threads}"
        assert result[4] == passes[0][4], f"parse_threads={threads} switched to pyarrow elsewhere"
    return passes[0]


@pytest.mark.parametrize("chunk_size", [1, 7, 250, 5000])
def test_threads_give_the_chunks_of_one_parser(tmp_path, monkeypatch, chunk_size):
    monkeypatch.setattr(_base, "BLOCK_BYTES", 2000)  # many blocks in flight at once
    rng = np.random.default_rng(5)
    path = tmp_path / "t.tsv"
    path.write_text("\n".join(criteo_line(rng) for _ in range(1200)) + "\n")
    result = assert_threads_agree(lambda: iter_criteo(path, chunk_size=chunk_size))
    assert result[4] is None and result[2] == 1200  # compiled all the way


@pytest.mark.parametrize("bad_at", [0, 3, 400, 1199])
@pytest.mark.parametrize("bad", ["2", "caf\u00e9", "x\ty"])
@pytest.mark.parametrize("on_bad_lines", ["error", "skip"])
def test_threads_stop_where_one_parser_stops(tmp_path, monkeypatch, bad_at, bad, on_bad_lines):
    # a bad label, a value left to pyarrow, a line with a field too many: in any block, with later blocks
    # parsed ahead when it is found
    monkeypatch.setattr(_base, "BLOCK_BYTES", 1500)
    rng = np.random.default_rng(6)
    lines = [criteo_line(rng) for _ in range(1200)]
    lines[bad_at] = bad + lines[bad_at][1:]
    path = tmp_path / "t.tsv"
    path.write_text("\n".join(lines) + "\n")
    assert_threads_agree(lambda: iter_criteo(path, chunk_size=100, on_bad_lines=on_bad_lines))


@FUZZ
@given(
    lines=st.lists(st.sampled_from(["row", "row", "row", "empty", "short", "label", "int", "quote"]), max_size=60),
    block=st.integers(1, 3000),
    chunk_size=st.integers(1, 40),
    seed=st.integers(0, 2**16),
    on_bad_lines=st.sampled_from(["error", "skip"]),
    ending=st.sampled_from(["\n", "\r\n"]),
)
def test_fuzz_threads(tmp_path, monkeypatch, lines, block, chunk_size, seed, on_bad_lines, ending):
    monkeypatch.setattr(_base, "BLOCK_BYTES", block)
    rng = np.random.default_rng(seed)
    out = []
    for kind in lines:
        cells = criteo_line(rng).split("\t")
        if kind == "empty":
            cells = [""]
        elif kind == "short":
            cells = cells[:-1]
        elif kind == "label":
            cells[0] = "7"
        elif kind == "int":
            cells[2] = "1.5"
        elif kind == "quote":
            cells[20] = '"q"'
        out.append("\t".join(cells))
    path = tmp_path / "f.tsv"
    path.write_bytes(ending.join(out).encode() + ending.encode() * int(rng.integers(0, 2)))
    assert_threads_agree(lambda: iter_criteo(path, chunk_size=chunk_size, on_bad_lines=on_bad_lines))


def test_avazu_threads(tmp_path, monkeypatch):
    monkeypatch.setattr(_base, "BLOCK_BYTES", 900)
    rng = np.random.default_rng(2)
    header = (
        "id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,app_category,"
        "device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,C17,C18,C19,C20,C21"
    )
    rows = []
    for i in range(300):
        cells = [str(i), str(int(rng.random() < 0.2)), f"141021{rng.integers(0, 24):02d}"]
        cells += [f"{v:x}" for v in rng.integers(0, 50, 21)]
        rows.append(",".join(cells))
    rows[150] = rows[150].replace(",14102", ',"14102', 1).replace(",", '",', 3)  # a quoted cell: pyarrow
    path = tmp_path / "a.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    result = assert_threads_agree(lambda: iter_avazu(path, chunk_size=64))
    assert result[4] is not None  # the quote sent the rest of the file to pyarrow


def test_parse_threads_is_checked(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text(criteo_line(np.random.default_rng(0)) + "\n")
    for bad in (-1, 1.5, True, "2"):
        reader = iter_criteo(path)
        reader.parse_threads = bad
        with pytest.raises(ValueError, match="parse_threads"):
            list(reader)
    assert 1 <= _text_blocks.default_parse_threads() <= _text_blocks.MAX_PARSE_THREADS


def test_abandoned_pass_stops_its_threads(tmp_path, monkeypatch):
    monkeypatch.setattr(_base, "BLOCK_BYTES", 500)
    rng = np.random.default_rng(1)
    path = tmp_path / "t.tsv"
    path.write_text("\n".join(criteo_line(rng) for _ in range(400)) + "\n")
    before = threading.active_count()
    reader = iter_criteo(path, chunk_size=10)
    reader.parse_threads = 3
    it = iter(reader)
    next(it)
    it.close()
    assert threading.active_count() == before


# --------------------------------------------------------------------------
# block reading into reused buffers
# --------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=400).map(lambda b: b.replace(b"\r", b"\n")),
    block_bytes=st.integers(1, 50),
    hold=st.integers(0, 4),
)
def test_pooled_blocks_are_the_blocks_of_iter_line_blocks(data, block_bytes, hold):
    # the caller holds up to ``hold`` buffers at a time before giving them back, in any order
    pool, held, got = [], [], []
    for buf, n in _base.pooled_line_blocks(io.BytesIO(data), pool, block_bytes):
        assert all(buf is not b for b, _ in held)  # a held buffer is never read into
        got.append(bytes(buf[:n]))
        held.append((buf, bytes(buf[:n])))
        if len(held) > hold:
            b, text = held.pop(len(held) // 2)
            assert bytes(b[: len(text)]) == text  # untouched while held
            pool.append(b)
    expected = [block for block, _ in _base.iter_line_blocks(io.BytesIO(data), block_bytes=block_bytes)]
    assert got == expected


def test_parse_a_buffer_prefix_and_count_its_lines(tmp_path):
    rng = np.random.default_rng(4)
    text = ("\n".join(criteo_line(rng) for _ in range(30)) + "\n\n").encode()
    plan = criteo_plan(tmp_path)
    whole = plan.new_parser().parse(text, 5, False)
    padded = bytearray(text + b"1\t2\t3\n" * 7)
    prefix = plan.new_parser().parse(padded, 5, False, None, len(text))
    assert whole[0] == prefix[0] == _tsv.OK and whole[5] == prefix[5] == 31
    for a, b in zip(whole[1], prefix[1]):
        assert np.array_equal(a, b)
    assert whole[1][4].tolist() == list(range(5, 35))
    with pytest.raises(ValueError, match="exceeds"):
        plan.new_parser().parse(text, 1, False, None, len(text) + 1)


def test_buffers_handed_back_fit_any_block_of_the_same_buffer_size(tmp_path):
    # the blocks of a file fill their reused buffers to different lengths; the output buffers of one parse must
    # serve the next whatever its length, or every longer block allocates (and page-faults) a fresh set
    rng = np.random.default_rng(5)
    lines = [criteo_line(rng).encode() + b"\n" for _ in range(40)]
    plan = criteo_plan(tmp_path)
    parser = plan.new_parser()
    size = sum(map(len, lines)) + 64
    spare = None
    for k in (10, 11, 25, 40):  # ever longer blocks in buffers of one size
        text = b"".join(lines[:k])
        buf = bytearray(text + bytes(size - len(text)))
        status, piece, _, _, buffers, n_lines = parser.parse(buf, 0, False, spare, len(text))
        assert status == _tsv.OK and n_lines == k and piece[3].size == k
        fresh = parser.parse(text, 0, False)[1]
        for a, b in zip(piece, fresh):
            assert (a is None and b is None) or np.array_equal(a, b)
        if spare is not None:
            assert all(x is y for x, y in zip(buffers, spare))
        spare = buffers


# --------------------------------------------------------------------------
# reused output arrays
# --------------------------------------------------------------------------
def test_recycler_reuses_only_unreferenced_arrays():
    rec = _base.Recycler(keep=4)
    a = rec.empty(100, np.dtype(np.float64))
    view = a[:10]
    del a
    b = rec.empty(100, np.dtype(np.float64))
    assert not np.shares_memory(b, view)  # the view keeps the first array in use
    del view
    c = rec.empty(90, np.dtype(np.float64))
    assert c.size >= 90 and c.dtype == np.float64
    assert rec.empty(100, np.dtype(np.int32)).dtype == np.int32
    assert len(rec.arrays) <= 4


def test_chunks_kept_by_the_caller_stay_intact(tmp_path, monkeypatch):
    monkeypatch.setattr(_base, "BLOCK_BYTES", 3000)
    rng = np.random.default_rng(8)
    path = tmp_path / "t.tsv"
    path.write_text("\n".join(criteo_line(rng) for _ in range(2000)) + "\n")
    kept = []
    snapshots = []
    for k, (X, _) in enumerate(iter_criteo(path, chunk_size=50)):
        if k % 3 == 0:  # keep some chunks, and a bare view of another's indices
            kept.append(X)
            snapshots.append((X.data.copy(), X.indices.copy(), X.indptr.copy()))
        elif k % 3 == 1:
            kept.append(X.indices[5:])
            snapshots.append((X.indices[5:].copy(),))
    reference = list(iter_criteo(path, chunk_size=50))
    for item, snap in zip(kept, snapshots):
        if isinstance(item, np.ndarray):
            assert np.array_equal(item, snap[0])
        else:
            for now, then in zip((item.data, item.indices, item.indptr), snap):
                assert np.array_equal(now, then)
    assert [X.nnz for X, _ in reference] == [X.nnz for X, _ in iter_criteo(path, chunk_size=50)]


# --------------------------------------------------------------------------
# rows merged by the parse
# --------------------------------------------------------------------------
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("n_features", [1, 7, 2**20, 2**32])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_merged_rows_concatenate_to_the_assembled_chunk(tmp_path, signed, n_features, dtype):
    # tiny widths make many collisions, signed ones cancel to zero: runs summed and dropped by the parse
    from ftrlx.datasets._criteo import CRITEO_CATEGORICAL, CRITEO_INTEGER
    from ftrlx.hashing import CategoricalHasher

    hasher = CategoricalHasher(
        n_features=n_features,
        categorical=CRITEO_CATEGORICAL,
        numeric=CRITEO_INTEGER,
        numeric_mode="log_bin",
        interactions=[("C1", "I2")],
        signed=signed,
        dtype=dtype,
    )
    rng = np.random.default_rng(11)
    text = ("\n".join(criteo_line(rng) for _ in range(300)) + "\n").encode()
    plan = criteo_plan(tmp_path, hasher)
    assert not plan.exact
    cut = text.index(b"\n", len(text) // 2) + 1
    raw, merged = [], []
    for part, line0 in ((text[:cut], 1), (text[cut:], 151)):
        raw.append(_tsv.BlockParser(*plan._args).parse(part, line0, False)[1])
        merged.append(_tsv.BlockParser(*plan._args, merge=True).parse(part, line0, False)[1])
    for r0, r1 in ((0, 150), (3, 150), (150, 150)):  # a chunk across both pieces, and an empty one
        slices_raw = [(p[0], p[1], p[2], r0 if k == 0 else 0, r1 if k == 0 else 40) for k, p in enumerate(raw)]
        slices_merged = [(p[0], p[1], p[2], r0 if k == 0 else 0, r1 if k == 0 else 40) for k, p in enumerate(merged)]
        expected = _tsv.assemble_csr(slices_raw, plan.n_slots, plan.n_features, plan.dtype, False)
        got = appended(slices_merged, plan)
        for a, b in zip(expected, got):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    row_ptr, cols, vals = merged[0][:3]
    small = np.empty(int(row_ptr[3] - row_ptr[0]) - 1, dtype=plan.dtype)  # one entry short of three rows
    with pytest.raises(ValueError, match="no room"):
        _tsv.append_rows(small, np.empty(small.size, np.int64), np.zeros(4, np.int64), 0, 0, row_ptr, cols, vals, 0, 3)


def appended(slices, plan):
    """The CSR arrays of ``slices`` copied one after another by ``append_rows`` into arrays with room to spare."""
    n_rows = sum(r1 - r0 for *_, r0, r1 in slices)
    data = np.full(n_rows * plan.n_slots + 7, np.nan, dtype=plan.dtype)
    index_dtype = np.int64 if plan.n_features >= 2**31 else np.int32
    indices = np.full(data.size, -1, dtype=index_dtype)
    indptr = np.zeros(n_rows + 1, dtype=index_dtype)
    pos = row = 0
    for row_ptr, cols, vals, r0, r1 in slices:
        pos = _tsv.append_rows(data, indices, indptr, row, pos, row_ptr, cols, vals, r0, r1)
        row += r1 - r0
    assert indptr[-1] == pos
    return data[:pos], indices[:pos], indptr


def test_merge_refuses_numbers_as_values(tmp_path):
    from ftrlx.hashing import CategoricalHasher

    hasher = CategoricalHasher(n_features=64, categorical=["C1"], numeric=["I1"], numeric_mode="value")
    plan = criteo_plan(tmp_path, hasher)
    with pytest.raises(ValueError, match="merged rows need values"):
        _tsv.BlockParser(*plan._args, merge=True)
