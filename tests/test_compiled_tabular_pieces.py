"""The pieces of the compiled Criteo/Avazu path (ftrlx._kernels._tsv), each against what it stands in for.

The murmur hash against scikit-learn's, the log-binned integer codes against NumPy, numbers against Python's
float(), Avazu hours against the calendar and UTF-8 validation against bytes.decode.
"""

import datetime
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sklearn.utils import murmurhash3_32

from ftrlx._kernels import _tsv
from ftrlx.datasets._avazu import _parse_hour


# --------------------------------------------------------------------------
# kernel pieces
# --------------------------------------------------------------------------
@given(st.binary(max_size=40), st.integers(0, 2**32 - 1), st.data())
def test_murmur_header_and_pieces_match_sklearn(key, seed, data):
    expected = murmurhash3_32(key, seed=seed, positive=True)
    assert _tsv.murmur3(key, seed) == expected
    cut = data.draw(st.integers(0, len(key)))
    assert _tsv.murmur3_pair(key[:cut], key[cut:], seed) == expected
    cuts = sorted(data.draw(st.lists(st.integers(0, len(key)), max_size=4)))
    pieces = [key[a:b] for a, b in zip([0] + cuts, cuts + [len(key)])]
    assert _tsv.murmur3_pieces(pieces, seed) == expected


def numpy_codes(x):
    """The documented log-bin code, computed with NumPy."""
    a = np.abs(x)
    with np.errstate(divide="ignore"):
        large = 4 + np.floor(np.log(np.where(a <= 2, 3.0, a)) ** 2)
    code = np.where(a <= 2, 1 + np.floor(a), large)
    code[a == 0] = 0
    return np.where(x < 0, -code, code).astype(np.int64)


def test_log_bin_codes_match_numpy_everywhere():
    thresholds, small = _tsv.log_bin_tables()
    bits = thresholds.view(np.int64)
    # every threshold and its neighbours, both signs (the last one bounds the table)
    around = (bits[:-1, None] + np.arange(-3, 3)[None, :]).ravel().view(np.float64)
    rng = np.random.default_rng(0)
    ints = np.concatenate(
        [
            np.arange(0, 70_000),
            rng.integers(0, 10**18, 20_000),
            np.round(np.exp(np.sqrt(np.arange(1, 1900)))).astype(np.int64),
        ]
    )
    for ints_too, x in [
        (False, around),
        (False, rng.random(50_000) * 4),
        (False, np.exp(rng.random(50_000) * 44)),
        (True, ints.astype(np.float64)),
    ]:
        x = np.concatenate([x, -x])
        codes, ok = _tsv.bin_codes(x, ints_too)
        assert ok.all()
        np.testing.assert_array_equal(codes, numpy_codes(x))
    codes, ok = _tsv.bin_codes(np.array([np.nan, 1e30, -1e30, 1e19]))
    assert ok.tolist() == [False, False, False, True]


def test_bin_tokens():
    assert [_tsv.bin_token_of(c) for c in (0, 1, 3, -2, 4, 25, -30)] == [
        b"0",
        b"+s0",
        b"+s2",
        b"-s1",
        b"+l0",
        b"+l21",
        b"-l26",
    ]


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False).filter(lambda v: v != 0), min_size=1, max_size=150),
    st.integers(0, 300),
)
def test_reduceat_emulation(run, zeros):
    run = np.array(run)
    segment = np.concatenate([run, np.zeros(zeros)])
    expected = np.add.reduceat(segment, [0])[0]
    assert _tsv.reduceat_like_numpy(run, zeros) == expected


CELL_CHARS = st.sampled_from(list("0123456789+-.eE _xin") + ["\u0663", "\x00", "\x0b"])


@given(
    st.one_of(
        st.text(CELL_CHARS, max_size=12),
        st.integers(-(10**25), 10**25).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
    )
)
def test_numbers_read_like_python(text):
    cell = text.encode()
    for integer, parse in ((True, int), (False, float)):
        status, value = _tsv.parse_number(cell, integer)
        if status == _tsv.UNSUPPORTED:
            continue
        if cell == b"":
            assert status == _tsv.OK and math.isnan(value)
            continue
        try:
            expected = float(parse(text))
        except ValueError:
            assert status == _tsv.BAD, text
        else:
            assert status == _tsv.OK and value == expected, text
            assert math.copysign(1, value) == math.copysign(1, expected)


def test_numbers_left_to_python():
    for cell in [b" 5", b"1_000", b"\xd9\xa3", b"inf", b"nan", b"1" * 70, b"9" * 19, b"1e400"]:
        assert _tsv.parse_number(cell, False)[0] == _tsv.UNSUPPORTED or cell == b"9" * 19
        assert _tsv.parse_number(cell, True)[0] in (_tsv.UNSUPPORTED, _tsv.BAD)
    assert _tsv.parse_number(b"-0", True) == (_tsv.OK, 0.0)
    assert math.copysign(1, _tsv.parse_number(b"-0", True)[1]) == 1


@given(st.one_of(st.text("0123456789", min_size=8, max_size=8), st.text("0123x", max_size=9)))
def test_avazu_hours(text):
    status, hour, weekday = _tsv.parse_avazu_hour(text.encode())
    expected = _parse_hour(text)
    if expected is None:
        assert status == _tsv.BAD
    else:
        assert status == _tsv.OK and (str(hour), str(weekday)) == expected


def test_avazu_hour_weekdays_over_a_century():
    day = datetime.date(2000, 1, 1)
    while day.year < 2100:
        text = day.strftime("%y%m%d") + "07"
        assert _tsv.parse_avazu_hour(text.encode())[1:] == (7, day.weekday())
        day += datetime.timedelta(days=17)


@given(st.binary(max_size=12))
def test_utf8_validation(data):
    try:
        data.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    assert _tsv.is_valid_utf8(data) == valid
