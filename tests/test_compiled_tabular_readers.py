"""The compiled Criteo/Avazu readers (ftrlx._kernels._tsv) against the pyarrow path they replace.

Both paths must give bitwise the same chunks (data, indices, indptr, dtypes, shape, labels), the same
``rows_read``/``skipped`` and the same errors, for every hasher configuration.
"""

import datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftrlx.datasets import _base, criteo_hasher, iter_avazu, iter_criteo
from ftrlx.datasets._criteo import CRITEO_CATEGORICAL, CRITEO_INTEGER
from ftrlx.hashing import CategoricalHasher

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


# --------------------------------------------------------------------------
# the readers, compiled against pyarrow
# --------------------------------------------------------------------------
def outcome(make_reader, compiled):
    """Everything a pass yields: chunks, counters, and the error that ended it (if any)."""
    reader = make_reader()
    reader._compiled = compiled
    chunks, error = [], None
    try:
        for X, y in reader:
            chunks.append((X, y))
    except Exception as exc:  # noqa: BLE001 - whatever the pyarrow path raises, the compiled one must too
        error = (type(exc), str(exc))
    return reader, chunks, error


def assert_same_pass(make_reader, expect_compiled=None):
    """Run both paths; returns the compiled reader (``_switched_at`` None: compiled all the way)."""
    fast, fast_chunks, fast_error = outcome(make_reader, True)
    slow, slow_chunks, slow_error = outcome(make_reader, False)
    assert fast_error == slow_error
    assert len(fast_chunks) == len(slow_chunks)
    for (X1, y1), (X2, y2) in zip(fast_chunks, slow_chunks):
        assert X1.shape == X2.shape and X1.format == X2.format == "csr"
        for a, b in ((X1.data, X2.data), (X1.indices, X2.indices), (X1.indptr, X2.indptr), (y1, y2)):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert a.tobytes() == b.tobytes()
    assert (fast.rows_read, fast.skipped) == (slow.rows_read, slow.skipped)
    if fast_error is None:
        assert all(X.shape[0] == fast.chunk_size for X, _ in fast_chunks[:-1])
    if expect_compiled is not None:
        assert (fast._switched_at is None) == expect_compiled
    return fast


def criteo_line(rng, missing=0.2):
    ints = [str(v) if rng.random() > missing else "" for v in rng.integers(-3, 5000, 13)]
    cats = [f"{v:08x}" if rng.random() > missing else "" for v in rng.integers(0, 60, 26)]
    return "\t".join([str(int(rng.random() < 0.3))] + ints + cats)


HASHERS = {
    "default": criteo_hasher(),
    "signed32": CategoricalHasher(
        n_features=2**12,
        categorical=CRITEO_CATEGORICAL[:20],
        numeric=CRITEO_INTEGER,
        numeric_mode="log_bin",
        signed=True,
        seed=7,
        dtype=np.float32,
    ),
    "value": CategoricalHasher(
        n_features=2**6,
        categorical=["C1", "C2", "C3"],
        numeric=CRITEO_INTEGER[::-1],
        numeric_mode="value",
        interactions=[("C1", "I2"), ("I3", "I4")],
        signed=True,
    ),
    "both": CategoricalHasher(
        n_features=1000,
        categorical=["I5", "C9"],
        numeric=["I1", "I2", "C26"],
        numeric_mode="both",
        interactions=[("C1", "C2"), ("I1", "C3"), ("I2", "I2")],
    ),
    "tiny": CategoricalHasher(
        n_features=3, categorical=CRITEO_CATEGORICAL, numeric=CRITEO_INTEGER, numeric_mode="value", signed=True
    ),
    "wide": CategoricalHasher(
        n_features=2**32,
        categorical=CRITEO_CATEGORICAL[:3],
        numeric=["I1"],
        numeric_mode="log_bin",
        interactions=[("C1", "I1")],
    ),
}


@pytest.mark.parametrize("name", sorted(HASHERS))
@pytest.mark.parametrize("chunk_size", [1, 7, 1000])
def test_criteo_same_chunks(tmp_path, name, chunk_size, monkeypatch):
    monkeypatch.setattr(_base, "BLOCK_BYTES", 700)
    rng = np.random.default_rng(len(name))
    lines = [criteo_line(rng) for _ in range(60)]
    lines[5] = "\t".join(["0"] + [""] * 39)  # no feature at all
    lines[6] = lines[5]
    lines[40] = ""
    path = tmp_path / "day_0"
    path.write_text("\n".join(lines) + "\n")
    hasher = HASHERS[name]
    # a C column declared numeric holds hex values that are not numbers: those lines are bad
    on_bad = "skip" if "C26" in (hasher.numeric or []) else "error"
    reader = assert_same_pass(
        lambda: iter_criteo(path, chunk_size=chunk_size, hasher=hasher, on_bad_lines=on_bad), expect_compiled=True
    )
    assert reader.rows_read + reader.skipped == 59


def test_chunk_index_type_follows_its_entries(tmp_path, monkeypatch):
    # A chunk of merged rows is filled in arrays sized for its bound (rows x fields): where the bound reaches the
    # int64 limit and the entries do not, the indices are int32, as the hasher makes them
    from ftrlx.datasets import _text_blocks

    monkeypatch.setattr(_base, "BLOCK_BYTES", 500)
    monkeypatch.setattr(_text_blocks, "INT32_LIMIT", 7 * 39)  # the bound of a 7-row chunk of criteo_hasher()
    rng = np.random.default_rng(3)
    path = tmp_path / "day_0"
    path.write_text("\n".join(criteo_line(rng) for _ in range(40)) + "\n")
    assert_same_pass(lambda: iter_criteo(path, chunk_size=7), expect_compiled=True)
    assert all(X.indices.dtype == np.int32 for X, _ in iter_criteo(path, chunk_size=7))


@pytest.mark.parametrize("chunk_size", [5, 64, 10**9])
def test_chunk_being_filled_grows(tmp_path, monkeypatch, chunk_size):
    # the chunk being filled starts with room for a few rows and grows for longer chunks (a chunk of 10**9 rows
    # reserves nothing of that size)
    from ftrlx.datasets import _text_blocks

    monkeypatch.setattr(_base, "BLOCK_BYTES", 900)
    monkeypatch.setattr(_text_blocks, "FIRST_ROWS", 3)
    rng = np.random.default_rng(8)
    path = tmp_path / "day_0"
    path.write_text("\n".join(criteo_line(rng, missing=0.5) for _ in range(300)) + "\n")
    assert_same_pass(lambda: iter_criteo(path, chunk_size=chunk_size), expect_compiled=True)


def test_parsed_buffers_are_reused_once_copied(tmp_path, monkeypatch):
    # each block's parsed rows are copied into the chunk being filled at once, so the sets of parse buffers in use
    # stay those of the blocks being parsed, however many blocks a chunk spans
    from ftrlx.datasets import _text_blocks

    monkeypatch.setattr(_base, "BLOCK_BYTES", 2_000)
    rng = np.random.default_rng(4)
    path = tmp_path / "day_0"
    path.write_text("\n".join(criteo_line(rng) for _ in range(3_000)) + "\n")
    seen = {}  # the sets of buffers the parses wrote to (held, so that no id is reused)
    parse = _text_blocks._parse

    def counting(plan, buf, n, skip):
        result = parse(plan, buf, n, skip)
        seen[id(result[4][1])] = result[4]
        return result

    monkeypatch.setattr(_text_blocks, "_parse", counting)
    reader = iter_criteo(path, chunk_size=1_000)
    reader.parse_threads = 2
    chunks = list(reader)
    assert sum(X.shape[0] for X, _ in chunks) == 3_000
    assert len(seen) <= 3 + 1, len(seen)  # the blocks parsed ahead (threads + 1), and the one being copied


def test_criteo_value_mode_sums_like_numpy(tmp_path):
    # Many tokens collide in 2 columns, and rows with no feature follow: the summation order (NumPy's
    # pairwise reduceat over the chunk, padding included) must be reproduced exactly.
    rng = np.random.default_rng(5)
    lines = []
    for _ in range(80):
        if rng.random() < 0.3:
            lines.append("\t".join(["1"] + [""] * 39))
            continue
        ints = [str(v) for v in rng.integers(-(10**15), 10**15, 13)]
        lines.append("\t".join(["0"] + ints + ["a"] * 26))
    path = tmp_path / "day_0"
    path.write_text("\n".join(lines) + "\n")
    hasher = CategoricalHasher(
        n_features=2, categorical=["C1"], numeric=CRITEO_INTEGER, numeric_mode="value", signed=True
    )
    for chunk_size in (3, 10, 80):
        assert_same_pass(lambda: iter_criteo(path, chunk_size=chunk_size, hasher=hasher), expect_compiled=True)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r[:-1],  # 39 fields
        lambda r: r + ["x"],  # 41 fields
        lambda r: ["2"] + r[1:],  # label not 0/1
        lambda r: [""] + r[1:],  # label missing
        lambda r: [" 1"] + r[1:],
        lambda r: r[:3] + ["1.5"] + r[4:],  # I3 not an integer
        lambda r: r[:3] + ["12a"] + r[4:],
        lambda r: r[:3] + ["-"] + r[4:],
        lambda r: r[:3] + [" 7"] + r[4:],  # Python's int() accepts it: left to the pyarrow path
        lambda r: r[:3] + ["1_0"] + r[4:],
        lambda r: r[:3] + ["9" * 30] + r[4:],  # a huge integer
        lambda r: r[:3] + ["9" * 400] + r[4:],  # too large for a float: OverflowError, as before
        lambda r: r[:20] + ["caf\u00e9"] + r[21:],
        lambda r: r[:20] + ["a\rb"] + r[21:],
        lambda r: r[:20] + ['"quoted"'] + r[21:],
    ],
)
@pytest.mark.parametrize("on_bad_lines", ["error", "skip"])
def test_criteo_same_errors(tmp_path, mutate, on_bad_lines, monkeypatch):
    monkeypatch.setattr(_base, "BLOCK_BYTES", 300)
    rng = np.random.default_rng(3)
    rows = [criteo_line(rng).split("\t") for _ in range(12)]
    rows[7] = mutate(rows[7])
    path = tmp_path / "train.tsv"
    path.write_bytes(("\r\n".join("\t".join(r) for r in rows) + "\r\n").encode("utf-8"))
    assert_same_pass(lambda: iter_criteo(path, chunk_size=4, on_bad_lines=on_bad_lines))


def test_invalid_utf8_left_to_pyarrow(tmp_path):
    rng = np.random.default_rng(4)
    lines = [criteo_line(rng).encode() for _ in range(5)]
    lines[3] = lines[3].replace(b"\t", b"\t\xff", 1)  # in I1: not an integer, and not UTF-8
    path = tmp_path / "t.tsv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(ValueError):
        list(iter_criteo(path, on_bad_lines="skip"))
    assert_same_pass(lambda: iter_criteo(path, on_bad_lines="skip"))


def test_unsupported_hashers_use_pyarrow(tmp_path):
    rng = np.random.default_rng(6)
    path = tmp_path / "t.tsv"
    path.write_text("\n".join(criteo_line(rng) for _ in range(20)) + "\n")
    for hasher in [
        CategoricalHasher(n_features=64, numeric=CRITEO_INTEGER),  # categorical=None
        CategoricalHasher(n_features=64, categorical=["label"]),
    ]:
        assert_same_pass(lambda: iter_criteo(path, chunk_size=6, hasher=hasher), expect_compiled=False)


# --------------------------------------------------------------------------
# hypothesis: random and corrupted Criteo files, random hashers and chunkings
# --------------------------------------------------------------------------
LABELS = st.sampled_from(["0", "1"])
INTS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.just(""),
    st.integers(-(10**17), 10**17).map(str),
    st.sampled_from(["-0", "+4", "007", "-12"]),
)
CATS = st.one_of(
    st.integers(0, 2**32 - 1).map("{:08x}".format),
    st.just(""),
    st.text(st.sampled_from(list('ab"\u00e9\x00 ')), max_size=4),
)
# What a corrupted line gets in one of its cells: bad values, and values only pyarrow's path reads
BAD_LABELS = st.sampled_from(["", "2", "01", "x", " 1", "\u0661"])
BAD_INTS = st.one_of(
    st.integers(-(10**22), 10**22).map(str),
    st.sampled_from(["1.5", "1e3", " 3", "1_0", "--1", "\u0663", "9" * 400, "a\rb"]),
)


@st.composite
def criteo_files(draw):
    lines = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["row"] * 12 + ["empty", "short", "long", "label", "int"]))
        if kind == "empty":
            lines.append("")
            continue
        cells = [draw(LABELS)] + [draw(INTS) for _ in range(13)] + [draw(CATS) for _ in range(26)]
        if kind == "short":
            del cells[draw(st.integers(0, 39))]
        elif kind == "long":
            cells.append(draw(CATS))
        elif kind == "label":
            cells[0] = draw(BAD_LABELS)
        elif kind == "int":
            cells[draw(st.integers(1, 13))] = draw(BAD_INTS)
        lines.append("\t".join(cells))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join(lines) + draw(st.sampled_from(["", ending]))
    return text.encode("utf-8")


@st.composite
def criteo_hashers(draw):
    cats = draw(st.lists(st.sampled_from(CRITEO_CATEGORICAL), max_size=6))
    nums = draw(st.lists(st.sampled_from(CRITEO_INTEGER), max_size=5, unique=True))
    columns = CRITEO_CATEGORICAL + CRITEO_INTEGER
    pairs = draw(st.lists(st.tuples(st.sampled_from(columns), st.sampled_from(columns)), max_size=3))
    pairs = [p for p in pairs if not (p[0] in cats and p[0] in nums)]
    if not (cats or nums or pairs):
        cats = ["C1"]
    return CategoricalHasher(
        n_features=draw(st.sampled_from([1, 2, 5, 64, 2**20])),
        categorical=cats,
        numeric=nums,
        numeric_mode=draw(st.sampled_from(["value", "log_bin", "both"])),
        interactions=pairs,
        signed=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
    )


@FUZZ
@given(
    data=criteo_files(),
    hasher=st.one_of(st.just(None), criteo_hashers()),
    chunk_size=st.integers(1, 12),
    block=st.integers(1, 400),
    on_bad_lines=st.sampled_from(["error", "skip"]),
)
def test_fuzz_criteo(tmp_path, monkeypatch, data, hasher, chunk_size, block, on_bad_lines):
    fuzz_pass(
        monkeypatch,
        tmp_path / "fuzz.tsv",
        data,
        block,
        iter_criteo,
        dict(chunk_size=chunk_size, hasher=hasher, on_bad_lines=on_bad_lines),
    )


def fuzz_pass(monkeypatch, path, data, block, reader, kwargs):
    monkeypatch.setattr(_base, "BLOCK_BYTES", block)  # blocks of a few lines: boundaries everywhere
    path.write_bytes(data)
    assert_same_pass(lambda: reader(path, **kwargs))


@FUZZ
@given(
    rows=st.lists(
        st.lists(st.sampled_from(["", "0", "1", "-1", "2.5", "-0.0", "1e3", "3.25e-2", "7"]), min_size=13, max_size=13),
        max_size=20,
    ),
    hasher=criteo_hashers(),
    chunk_size=st.integers(1, 8),
)
def test_fuzz_float_columns(tmp_path, rows, hasher, chunk_size):
    # C columns declared numeric are read with float(): fractions, exponents, negative zero
    params = hasher.get_params()
    params["numeric"] = list(dict.fromkeys((params["numeric"] or []) + ["C1", "C2"]))
    params["categorical"] = [c for c in params["categorical"] if c not in ("C1", "C2")] or ["C3"]
    params["interactions"] = [p for p in params["interactions"] if "C1" not in p] + [("C2", "C3")]
    hasher = CategoricalHasher(**params)
    lines = ["\t".join(["1"] + r + [r[0], r[1]] + ["x"] * 24) for r in rows]
    path = tmp_path / "f.tsv"
    path.write_text("".join(line + "\n" for line in lines))
    assert_same_pass(lambda: iter_criteo(path, chunk_size=chunk_size, hasher=hasher))


# --------------------------------------------------------------------------
# Avazu
# --------------------------------------------------------------------------
AVAZU_HEADER = (
    "id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,"
    "app_domain,app_category,device_id,device_ip,device_model,device_type,"
    "device_conn_type,C14,C15,C16,C17,C18,C19,C20,C21"
)
HOURS = st.datetimes(datetime.datetime(2000, 1, 1), datetime.datetime(2099, 12, 31)).map(
    lambda d: d.strftime("%y%m%d%H")
)
BAD_HOURS = st.sampled_from(["1410210", "", "14132100", "1410x100", "14102199", "15022911", "14103124", "\u0661410210"])
AVAZU_CELLS = st.one_of(
    st.sampled_from(["", "1005", "0", "a9f", "-3", "2.5", "\u00e9t\u00e9"]),
    st.text(st.sampled_from(list("xy")), max_size=3),
)
AVAZU_ODD_CELLS = st.sampled_from(['"a,b"', "x\ry", "1e999", "nan", " 5", "bad"])


@st.composite
def avazu_files(draw):
    lines = [AVAZU_HEADER]
    for i in range(draw(st.integers(0, 20))):
        cells = [str(i), draw(LABELS), draw(HOURS)] + [draw(AVAZU_CELLS) for _ in range(21)]
        fault = draw(st.integers(0, 14))
        if fault == 0:
            del cells[draw(st.integers(0, 23))]
        elif fault == 1:
            cells[1] = draw(BAD_LABELS)
        elif fault == 2:
            cells[draw(st.integers(3, 23))] = draw(AVAZU_ODD_CELLS)
        elif fault == 3:
            cells[2] = draw(BAD_HOURS)
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


AVAZU_HASHERS = st.sampled_from(
    [
        None,
        CategoricalHasher(n_features=2**8, categorical=["C1", "hour", "weekday"], signed=True),
        CategoricalHasher(
            n_features=7,
            categorical=["site_id"],
            numeric=["C14", "C15"],
            numeric_mode="both",
            interactions=[("hour_of_day", "C14"), ("site_id", "app_id")],
            dtype=np.float32,
        ),
        CategoricalHasher(n_features=2**4, categorical=["app_id"], numeric=["C16"], interactions=[("C16", "weekday")]),
        CategoricalHasher(n_features=2**5, categorical=["C1"], interactions=[("hour", "C1")]),
    ]
)


@FUZZ
@given(
    data=avazu_files(),
    hasher=AVAZU_HASHERS,
    chunk_size=st.integers(1, 9),
    block=st.integers(1, 500),
    on_bad_lines=st.sampled_from(["error", "skip"]),
)
def test_fuzz_avazu(tmp_path, monkeypatch, data, hasher, chunk_size, block, on_bad_lines):
    fuzz_pass(
        monkeypatch,
        tmp_path / "train.csv",
        data,
        block,
        iter_avazu,
        dict(chunk_size=chunk_size, hasher=hasher, on_bad_lines=on_bad_lines),
    )


def test_avazu_compiled(tmp_path):
    rng = np.random.default_rng(8)
    lines = [AVAZU_HEADER]
    for i in range(50):
        hour = f"1410{rng.integers(21, 31):02d}{rng.integers(0, 24):02d}"
        lines.append(",".join([str(i), str(i % 2), hour] + [f"v{v}" for v in rng.integers(0, 9, 21)]))
    path = tmp_path / "train.csv"
    path.write_text("\n".join(lines) + "\n")
    assert_same_pass(lambda: iter_avazu(path, chunk_size=8), expect_compiled=True)


# --------------------------------------------------------------------------
# threads
# --------------------------------------------------------------------------
def test_parse_in_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(9)
    path = tmp_path / "t.tsv"
    path.write_text("\n".join(criteo_line(rng) for _ in range(3000)) + "\n")
    reference = [X for X, _ in iter_criteo(path, chunk_size=500)]

    def read(_):
        return [X for X, _ in iter_criteo(path, chunk_size=500)]

    with ThreadPoolExecutor(3) as pool:
        for result in pool.map(read, range(3)):
            assert all((a != b).nnz == 0 for a, b in zip(result, reference))


def test_hashing_core_reads_compiled_and_bitwise_as_the_hasher(tmp_path):
    """The scikit-learn-free core (what ``ftrlx train`` reads with) takes the compiled path and gives the chunks of
    ``criteo_hasher``; a subclass of the hasher, which may hash otherwise, is read through its own transform."""
    from ftrlx._hashing_core import HashingCore, exact_hasher
    from ftrlx.datasets._criteo import criteo_hashing

    rng = np.random.default_rng(8)
    path = tmp_path / "t.tsv"
    path.write_text("\n".join(criteo_line(rng) for _ in range(50)) + "\n")
    core = HashingCore(**criteo_hashing(2**12))
    assert core.get_spec() == criteo_hasher(2**12).get_spec()
    fast = assert_same_pass(lambda: iter_criteo(path, chunk_size=16, hasher=core), expect_compiled=True)
    assert fast.hasher is core
    for (X1, y1), (X2, y2) in zip(
        iter_criteo(path, chunk_size=16, hasher=core), iter_criteo(path, chunk_size=16, hasher=criteo_hasher(2**12))
    ):
        for a, b in ((X1.data, X2.data), (X1.indices, X2.indices), (X1.indptr, X2.indptr), (y1, y2)):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()

    class Own(CategoricalHasher):
        pass

    assert exact_hasher(core) and exact_hasher(criteo_hasher()) and not exact_hasher(Own())
    assert_same_pass(
        lambda: iter_criteo(path, chunk_size=16, hasher=Own(**criteo_hashing(2**12))), expect_compiled=False
    )
