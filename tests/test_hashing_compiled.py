"""The compiled CategoricalHasher path against the NumPy reference it replaced: bitwise the same output."""

import math

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.utils import murmurhash3_32

from ftrlx._hashing_reference import murmurhash3_32_many_numpy
from ftrlx._hashing_views import column_view
from ftrlx._kernels import _hashing as kernel
from ftrlx.hashing import CategoricalHasher, murmurhash3_32_many

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def assert_bitwise(X, Y):
    assert X.shape == Y.shape
    assert X.dtype == Y.dtype
    assert X.indices.dtype == Y.indices.dtype and X.indptr.dtype == Y.indptr.dtype
    np.testing.assert_array_equal(X.indptr, Y.indptr)
    np.testing.assert_array_equal(X.indices, Y.indices)
    assert X.data.tobytes() == Y.data.tobytes()
    assert X.has_canonical_format and X.has_sorted_indices


def both_ways(hasher, X):
    """transform and the reference agree: the same matrix bit for bit, or the same error."""
    try:
        expected = hasher._transform_reference(X)
    except Exception as exc:  # the compiled path must refuse it the same way
        with pytest.raises(type(exc)):
            hasher.transform(X)
        return None
    got = hasher.transform(X)
    assert_bitwise(got, expected)
    return got


# --------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------
@SETTINGS
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != 0), min_size=1, max_size=40),
    st.integers(0, 400),
)
def test_reduceat_sum_is_numpys(values, n_zeros):
    n = len(values) + n_zeros
    flat = np.concatenate([values, np.zeros(n_zeros), [1.0]])
    with np.errstate(over="ignore"):  # huge values may sum to inf, in both
        expected = np.add.reduceat(flat, [0, n])[0]
    got = kernel.reduceat_sum(np.array(values), n)
    assert got == expected or (math.isnan(got) and math.isnan(expected))


@SETTINGS
@given(st.lists(st.binary(max_size=40), max_size=30), st.integers(0, 2**32 - 1))
def test_murmurhash3_32_many_matches_numpy_and_sklearn(tokens, seed):
    got = murmurhash3_32_many(tokens, seed)
    assert got.dtype == np.uint32 and got.shape == (len(tokens),)
    np.testing.assert_array_equal(got, murmurhash3_32_many_numpy(tokens, seed))
    assert got.tolist() == [murmurhash3_32(t, seed=seed, positive=True) for t in tokens]


def test_decimal_tables_are_str_of_int():
    signed = np.array([0, -1, 7, -10, 2**63 - 1, -(2**63), 123456789], dtype=np.int64)
    unsigned = np.array([0, 9, 2**64 - 1, 2**63], dtype=np.uint64)
    for values in [signed, unsigned]:
        offsets, data = kernel.decimal_table(values)
        tokens = [data[offsets[i] : offsets[i + 1]].tobytes() for i in range(values.size)]
        assert tokens == [str(v).encode() for v in values.tolist()]


def test_kernels_refuse_bad_tables():
    C = np.empty((1, 2), dtype=np.int64)
    prefix = np.frombuffer(b"a\x00", dtype=np.uint8)
    data = np.frombuffer(b"xy", dtype=np.uint8)
    offsets = np.array([0, 1, 2])
    with pytest.raises(ValueError, match="offsets outside"):
        kernel.emit_tokens(prefix, None, np.array([0, 1, 3]), data, None, 0, 0, 16, False, C, None, 0)
    with pytest.raises(ValueError, match="code 5"):
        kernel.emit_tokens(prefix, np.array([0, 5]), offsets, data, None, 0, 0, 16, False, C, None, 0)
    with pytest.raises(ValueError, match="field 3"):
        kernel.emit_tokens(prefix, None, offsets, data, None, 0, 0, 16, False, C, None, 3)
    with pytest.raises(ValueError, match="validity bitmap of 1 bytes"):
        kernel.emit_tokens(prefix, None, offsets, data, np.ones(1, np.uint8), 7, 0, 16, False, C, None, 0)


# --------------------------------------------------------------------------
# random tables
# --------------------------------------------------------------------------
TEXT = st.sampled_from(["", "a", "bb", "día", "0", "1", "-3", "x y", "\x00", "long value 123"])
FLOATS = st.one_of(
    st.sampled_from(
        [0.0, -0.0, 1.0, -2.0, 0.5, 2.5, 1e19, -1e300, 2.0**63, 2.0**53 + 1, math.inf, -math.inf, math.nan]
    ),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
)
MIXED = st.one_of(st.none(), st.just(math.nan), TEXT, st.integers(-(10**6), 10**6), FLOATS, st.booleans())


def column_strategy(kind, n):
    if kind == "str":
        return st.lists(st.one_of(st.none(), TEXT), min_size=n, max_size=n).map(lambda v: np.array(v, dtype=object))
    if kind == "int":
        return st.sampled_from([np.int8, np.int64, np.uint64, np.uint8]).flatmap(
            lambda t: st.lists(st.integers(int(np.iinfo(t).min), int(np.iinfo(t).max)), min_size=n, max_size=n).map(
                lambda v: np.array(v, dtype=t)
            )
        )
    if kind == "wide_int":
        return st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n).map(np.array)
    if kind == "float":
        return st.tuples(st.lists(FLOATS, min_size=n, max_size=n), st.booleans()).map(float_array)
    if kind == "intfloat":  # an integer column with missing values, as pandas holds it
        return st.lists(st.one_of(st.just(math.nan), st.integers(-50, 50).map(float)), min_size=n, max_size=n).map(
            np.array
        )
    if kind == "bool":
        return st.lists(st.booleans(), min_size=n, max_size=n).map(np.array)
    if kind == "unicode":
        return st.lists(TEXT, min_size=n, max_size=n).map(lambda v: np.array(v, dtype="U"))
    if kind == "num":  # numeric columns: values that round differently depending on the order of sums
        return st.lists(
            st.one_of(st.none(), st.sampled_from([0.0, 1.0, 0.1, 3.0, 1e16, -1e16, 2.0**53]), st.floats(-1e20, 1e20)),
            min_size=n,
            max_size=n,
        ).map(lambda v: np.array([math.nan if x is None else x for x in v]))
    return st.lists(MIXED, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=object))


def float_array(drawn):
    values, single = drawn
    with np.errstate(over="ignore"):  # float32 overflows to inf, which is fine here
        return np.array(values, dtype=np.float32 if single else np.float64)


CAT_KINDS = ["str", "int", "wide_int", "float", "intfloat", "bool", "unicode", "mixed"]


@st.composite
def tables(draw, kinds=CAT_KINDS, max_rows=25, max_numeric=4):
    n = draw(st.integers(0, max_rows))
    cat_kinds = draw(st.lists(st.sampled_from(kinds), min_size=0, max_size=5))
    table = {f"c{i}": draw(column_strategy(k, n)) for i, k in enumerate(cat_kinds)}
    n_num = draw(st.integers(0, max_numeric))
    table.update({f"n{i}": draw(column_strategy("num", n)) for i in range(n_num)})
    return table


@st.composite
def hashers(draw, table):
    names = list(table)
    numeric = [c for c in names if c.startswith("n")]
    pairs = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), max_size=3)) if names else []
    return CategoricalHasher(
        n_features=draw(st.sampled_from([1, 3, 16, 2**20, 2**31, 2**32])),
        categorical=[c for c in names if c not in numeric],
        numeric=numeric or None,
        numeric_mode=draw(st.sampled_from(["value", "log_bin", "both"])),
        interactions=pairs,
        signed=draw(st.booleans()),
        seed=draw(st.sampled_from([0, 1, 2**32 - 1])),
        dtype=draw(st.sampled_from([np.float64, np.float32])),
    )


@SETTINGS
@given(st.data())
def test_dict_of_arrays_bitwise(data):
    table = data.draw(tables())
    both_ways(data.draw(hashers(table)), table)


@SETTINGS
@given(st.data())
def test_many_fields_colliding_into_few_columns_bitwise(data):
    # Long runs of one column per row: the order in which values are summed shows in the last bits.
    table = data.draw(tables(kinds=["str", "int"], max_rows=12, max_numeric=14))
    hasher = data.draw(hashers(table)).set_params(n_features=data.draw(st.sampled_from([1, 2])))
    both_ways(hasher, table)


def arrow_variant(col, how):
    try:
        arr = pa.array(col, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return col
    if how == "chunked" and len(arr) > 1:
        return pa.chunked_array([arr.slice(0, len(arr) // 2), arr.slice(len(arr) // 2)])
    if how == "sliced":
        padded = pa.concat_arrays([arr.slice(0, 1), arr, arr.slice(0, 2)]) if len(arr) else arr
        return padded.slice(1 if len(arr) else 0, len(arr))
    if how == "large" and pa.types.is_string(arr.type):
        return arr.cast(pa.large_string())
    if how == "binary" and pa.types.is_string(arr.type):
        return arr.cast(pa.binary())
    if how == "dictionary" and not pa.types.is_null(arr.type):
        return arr.dictionary_encode()
    return arr


@SETTINGS
@given(st.data())
def test_arrow_tables_bitwise(data):
    table = data.draw(tables())
    hasher = data.draw(hashers(table))
    how = data.draw(st.sampled_from(["plain", "chunked", "sliced", "large", "binary", "dictionary"]))
    columns = {k: arrow_variant(v, how) for k, v in table.items()}
    n = len(next(iter(table.values()))) if table else 0
    # A mixed column pyarrow cannot type goes in as the text of its cells.
    arrays = {
        k: v
        if isinstance(v, (pa.Array, pa.ChunkedArray))
        else pa.array([None if x is None else str(x) for x in v.tolist()], type=pa.string())
        for k, v in columns.items()
    }
    if not arrays:
        arrays = {"empty": pa.nulls(n, pa.string())}
        hasher.set_params(categorical=None)
    both_ways(hasher, pa.table(arrays))
    both_ways(hasher, columns)  # a dict of Arrow arrays


@SETTINGS
@given(st.data())
def test_dataframes_bitwise(data):
    pd = pytest.importorskip("pandas")
    table = data.draw(tables())
    hasher = data.draw(hashers(table))
    frame = pd.DataFrame(table) if table else pd.DataFrame(index=range(0))
    if data.draw(st.booleans()) and table:  # categorical dtypes become Arrow dictionaries
        name = next(iter(table))
        frame[name] = frame[name].astype("category")
    both_ways(hasher, frame)


def test_empty_tables():
    for X in [
        {},
        {"a": np.array([], dtype=object)},
        pa.table({"a": pa.array([], pa.string())}),
        np.zeros((0, 3)),
        np.zeros((4, 0)),
    ]:
        for signed in [False, True]:
            out = both_ways(CategoricalHasher(n_features=64, signed=signed), X)
            assert sp.issparse(out) and out.nnz == 0


def test_arrow_dictionary_with_null_values_and_null_indices():
    dictionary = pa.array(["u", None, "", "v"])
    indices = pa.array([0, 1, 2, 3, None, 0], type=pa.int8())
    col = pa.DictionaryArray.from_arrays(indices, dictionary)
    ints = pa.DictionaryArray.from_arrays(indices, pa.array([5, None, -7, 2**40]))
    floats = pa.DictionaryArray.from_arrays(indices, pa.array([0.5, None, math.nan, 3.0]))
    table = pa.table({"s": col, "i": ints, "f": floats})
    hasher = CategoricalHasher(n_features=2**20, interactions=[("s", "i")])
    X = both_ways(hasher, table)
    assert X.getnnz(axis=1).tolist() == [4, 0, 1, 4, 0, 4]  # s, i, f and the pair where present


def test_arrow_integer_columns_with_nulls():
    table = pa.table(
        {
            "all_null": pa.array([None, None, None], pa.int64()),
            "some": pa.array([None, 2**40, -3], pa.int64()).slice(0),
            "u": pa.array([2**64 - 1, None, 0], pa.uint64()),
            "sliced": pa.array([9, None, 1, 5, None]).slice(2),
        }
    )
    for signed in [False, True]:
        hasher = CategoricalHasher(n_features=2**20, signed=signed, interactions=[("some", "sliced")])
        X = both_ways(hasher, table)
        assert X.getnnz(axis=1).tolist() == [2, 3, 2]


def test_string_columns_are_hashed_from_arrow_buffers():
    # A sliced, chunked string column: its view reads Arrow's offsets and bytes where they are.
    arr = pa.array(["p", None, "qq", "", "rrr", "s"]).slice(1, 4)
    view = column_view(arr)
    assert view.codes is None and view.validity is not None and view.validity_offset == 1
    assert view.data.ctypes.data == np.frombuffer(arr.buffers()[2], dtype=np.uint8).ctypes.data
    big = pa.chunked_array([pa.array(["a", "b"] * 50), pa.array(["c"] * 7, pa.string())])
    both_ways(CategoricalHasher(n_features=128, signed=True), pa.table({"x": big}))


def test_fractional_floats_take_the_python_path_for_those_values_only():
    x = np.array([1.0, 0.25, np.inf, 3.0, 1e19, np.nan, -0.0, 0.25])
    view = column_view(x)
    tokens = [
        None if c < 0 else view.data[view.offsets[c] : view.offsets[c + 1]].tobytes() or None
        for c in view.codes.tolist()
    ]  # an empty token is a missing cell
    assert tokens == [b"1", b"0.25", b"inf", b"3", b"10000000000000000000", None, b"0", b"0.25"]


def test_import_paths_kept():
    from ftrlx.datasets import iter_csv  # noqa: F401 (imports _names from ftrlx.hashing)
    from ftrlx.hashing import _as_float, _columns_of, _log_bin_codes, _log_bin_token, _names, _value_token  # noqa: F401

    assert _names("a") == ["a"] and _value_token(5.0) == b"5"
    assert CategoricalHasher.__module__ == "ftrlx.hashing"
