"""Weight and bias initialisers for dense layers.

Every weight initialiser returns an array of shape ``(fan_in, fan_out)``:
row ``i`` holds the weights leaving input ``i`` and column ``j`` the weights
entering output unit ``j``, so a layer computes ``x @ W`` for a batch ``x`` of
shape ``(n_samples, fan_in)``.  A *unit* is therefore a column.  With
``m = fan_in`` and ``n = fan_out``:

=====================  ============================================  ==============
function               distribution of each entry                    variance
=====================  ============================================  ==============
``fan_in_uniform``     U(-1/sqrt(m), 1/sqrt(m))                      1/(3m)
``glorot_uniform``     U(-a, a), a = gain * sqrt(6/(m+n))            gain^2 * 2/(m+n)
``glorot_normal``      N(0, s^2), s = gain * sqrt(2/(m+n))           gain^2 * 2/(m+n)
``sparse_init``        exactly k non-zeros N(0, scale^2) per column  k scale^2 / m
=====================  ============================================  ==============

Bias initialisers return shape ``(n_units,)``: :func:`zeros_bias`,
:func:`relu_bias` (a small positive constant, so that ReLU units start in
their active region) and :func:`marginal_bias` (the output's marginal
statistics, e.g. the log-odds of the positive rate for a logistic output, so
that with small initial weights the network starts by predicting the base
rate).

Randomness always comes from a :class:`numpy.random.Generator`; every
random function takes ``rng``, which may be a Generator (used and advanced in
place), a non-negative integer seed, or ``None`` (fresh OS entropy).

References
----------
Glorot & Bengio, "Understanding the difficulty of training deep feedforward
neural networks", AISTATS 2010.  Martens, "Deep learning via Hessian-free
optimization", ICML 2010 (sparse initialisation).  Goodfellow, Bengio &
Courville, *Deep Learning*, 2016, section 8.4.
"""

from numbers import Integral, Real

import numpy as np

__all__ = [
    "check_rng",
    "fan_in_uniform",
    "glorot_uniform",
    "glorot_normal",
    "sparse_init",
    "zeros_bias",
    "relu_bias",
    "marginal_bias",
]

_DTYPES = (np.float64, np.float32)


def check_rng(rng):
    """Turn ``rng`` into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    rng : numpy.random.Generator, int or None
        A Generator is returned as is (so draws advance it); a non-negative
        integer seeds a new PCG64 Generator; ``None`` seeds one from OS entropy.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    TypeError
        For anything else, e.g. a legacy ``numpy.random.RandomState``, a float
        or a bool.
    ValueError
        For a negative integer seed.

    Examples
    --------
    >>> g = check_rng(0)
    >>> check_rng(g) is g
    True
    >>> float(check_rng(0).random()) == float(check_rng(0).random())
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, Integral) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"rng seed must be a non-negative integer, got {rng}.")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng must be a numpy.random.Generator, a non-negative int seed or None, "
        f"got {rng!r} of type {type(rng).__name__}. "
        "Use numpy.random.default_rng(seed) to build a Generator."
    )


def _check_count(value, name, minimum=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def _check_positive(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}.")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}.")
    return float(value)


def _check_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}.") from exc
    if dt not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dt}.")
    return dt


def _check_shape(fan_in, fan_out):
    return _check_count(fan_in, "fan_in"), _check_count(fan_out, "fan_out")


def _glorot_scale(fan_in, fan_out, gain, dtype, numerator):
    """The checked shape and dtype, and ``gain * sqrt(numerator / (fan_in + fan_out))``."""
    m, n = _check_shape(fan_in, fan_out)
    g = _check_positive(gain, "gain")
    dt = _check_dtype(dtype)
    return m, n, dt, g * np.sqrt(numerator / (m + n))


def fan_in_uniform(fan_in, fan_out, *, rng=None, dtype=np.float64):
    """Draw weights from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    The classic heuristic that keeps the variance of ``x @ W`` near 1/3 of
    the variance of one input, whatever the number of inputs.

    Parameters
    ----------
    fan_in : int
        Number of inputs m (rows of the result), >= 1.
    fan_out : int
        Number of output units n (columns of the result), >= 1.
    rng : numpy.random.Generator, int or None, default=None
        Source of randomness, see :func:`check_rng`.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of the result.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> W = fan_in_uniform(4, 3, rng=0)
    >>> W.shape
    (4, 3)
    >>> bool(abs(W).max() <= 1 / 4 ** 0.5)
    True
    """
    m, n = _check_shape(fan_in, fan_out)
    dt = _check_dtype(dtype)
    bound = 1.0 / np.sqrt(m)
    return check_rng(rng).uniform(-bound, bound, size=(m, n)).astype(dt, copy=False)


def glorot_uniform(fan_in, fan_out, *, gain=1.0, rng=None, dtype=np.float64):
    """Draw Glorot/Xavier uniform weights, U(-a, a) with a = gain*sqrt(6/(m+n)).

    The variance a^2/3 = gain^2 * 2/(m+n) is the compromise between keeping
    the forward activations' variance (which wants 1/m) and the backward
    gradients' variance (which wants 1/n) constant across layers.

    Parameters
    ----------
    fan_in : int
        Number of inputs m (rows), >= 1.
    fan_out : int
        Number of output units n (columns), >= 1.
    gain : float, default=1.0
        Multiplier of the bound, > 0 (e.g. ``sqrt(2)`` before ReLU units).
    rng : numpy.random.Generator, int or None, default=None
        Source of randomness, see :func:`check_rng`.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of the result.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> W = glorot_uniform(10, 6, rng=1)
    >>> bool(abs(W).max() <= (6 / 16) ** 0.5)
    True
    """
    m, n, dt, bound = _glorot_scale(fan_in, fan_out, gain, dtype, 6.0)
    return check_rng(rng).uniform(-bound, bound, size=(m, n)).astype(dt, copy=False)


def glorot_normal(fan_in, fan_out, *, gain=1.0, rng=None, dtype=np.float64):
    """Draw Glorot/Xavier normal weights, N(0, s^2) with s = gain*sqrt(2/(m+n)).

    Same variance as :func:`glorot_uniform`; the normal is not truncated.

    Parameters
    ----------
    fan_in : int
        Number of inputs m (rows), >= 1.
    fan_out : int
        Number of output units n (columns), >= 1.
    gain : float, default=1.0
        Multiplier of the standard deviation, > 0.
    rng : numpy.random.Generator, int or None, default=None
        Source of randomness, see :func:`check_rng`.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of the result.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)

    Examples
    --------
    >>> W = glorot_normal(300, 200, rng=2)
    >>> round(float(W.std() / (2 / 500) ** 0.5), 1)
    1.0
    """
    m, n, dt, std = _glorot_scale(fan_in, fan_out, gain, dtype, 2.0)
    return check_rng(rng).normal(0.0, std, size=(m, n)).astype(dt, copy=False)


def sparse_init(fan_in, fan_out, k, *, scale=1.0, rng=None, dtype=np.float64):
    """Sparse initialisation: exactly ``k`` non-zero weights per output unit.

    For every column (unit) ``j``, ``k`` distinct rows are chosen uniformly
    at random and given N(0, scale^2) weights; all other weights are exactly 0.
    Units thus start out looking at different inputs, which breaks symmetry
    without making the total input of a unit grow with ``fan_in``.
    A normal draw that happens to be exactly 0 is redrawn, so the count is
    exact.

    Parameters
    ----------
    fan_in : int
        Number of inputs m (rows), >= 1.
    fan_out : int
        Number of output units n (columns), >= 1.
    k : int
        Non-zeros per column, ``1 <= k <= fan_in`` (Martens used k = 15).
    scale : float, default=1.0
        Standard deviation of the non-zero weights, > 0.
    rng : numpy.random.Generator, int or None, default=None
        Source of randomness, see :func:`check_rng`.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of the result.

    Returns
    -------
    W : ndarray of shape (fan_in, fan_out)
        Dense array with exactly ``k`` non-zeros in every column.

    Examples
    --------
    >>> W = sparse_init(6, 4, 2, rng=0)
    >>> (W != 0).sum(axis=0).tolist()
    [2, 2, 2, 2]
    """
    m, n = _check_shape(fan_in, fan_out)
    k = _check_count(k, "k")
    if k > m:
        raise ValueError(f"k must be <= fan_in={m} (k non-zeros per column), got k={k}.")
    s = _check_positive(scale, "scale")
    dt = _check_dtype(dtype)
    gen = check_rng(rng)
    # Row ranks of an i.i.d. uniform matrix give an independent uniformly random
    # k-subset per column in one vectorised call.
    rows = np.argsort(gen.random((m, n)), axis=0)[:k]
    values = gen.normal(0.0, s, size=(k, n)).astype(dt)
    while not values.all():
        zero = values == 0
        values[zero] = gen.normal(0.0, s, size=int(zero.sum())).astype(dt)
    W = np.zeros((m, n), dtype=dt)
    W[rows, np.arange(n)] = values
    return W


def zeros_bias(n_units, *, dtype=np.float64):
    """Zero biases, the usual default.

    Parameters
    ----------
    n_units : int
        Number of units, >= 1.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of the result.

    Returns
    -------
    b : ndarray of shape (n_units,)

    Examples
    --------
    >>> zeros_bias(3).tolist()
    [0.0, 0.0, 0.0]
    """
    return np.zeros(_check_count(n_units, "n_units"), dtype=_check_dtype(dtype))


def relu_bias(n_units, value=0.1, *, dtype=np.float64):
    """A small positive constant bias for ReLU units.

    A positive bias makes most ReLU units active (positive pre-activation) at
    initialisation, so that gradients flow through them from the first step.

    Parameters
    ----------
    n_units : int
        Number of units, >= 1.
    value : float, default=0.1
        The bias, a finite number > 0.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of the result.

    Returns
    -------
    b : ndarray of shape (n_units,)

    Examples
    --------
    >>> relu_bias(2, 0.01).tolist()
    [0.01, 0.01]
    """
    n = _check_count(n_units, "n_units")
    v = _check_positive(value, "value")
    return np.full(n, v, dtype=_check_dtype(dtype))


_LINKS = ("logit", "softmax", "identity", "log")


def marginal_bias(y, link="logit", *, smoothing=0.0, dtype=np.float64):
    """Output biases that reproduce the targets' marginal statistics.

    With the weights near zero, an output unit's prediction is its bias
    passed through the inverse link; this picks the bias that makes that
    prediction the empirical mean of the targets:

    * ``"logit"`` (sigmoid output, labels in {0, 1}, one column per output):
      ``b = log(p / (1 - p))`` with p the positive rate,
      ``p = (sum(y) + smoothing) / (n + 2 * smoothing)``.
    * ``"softmax"`` (class probabilities, labels of any kind, 1-d):
      ``b_c = log(p_c) - mean_c log(p_c)`` with
      ``p_c = (count_c + smoothing) / (n + C * smoothing)`` over the sorted
      unique classes; centred because softmax ignores a common shift.
    * ``"identity"`` (linear output): ``b = mean(y)``.
    * ``"log"`` (exponential output, e.g. Poisson counts >= 0):
      ``b = log(mean(y))``.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Training targets (finite). ``"softmax"`` needs a 1-d array.
    link : {"logit", "softmax", "identity", "log"}, default="logit"
        The output unit's link function.
    smoothing : float, default=0.0
        Additive (Laplace) pseudo-count for ``"logit"`` and ``"softmax"``,
        >= 0; needed when a class never or always occurs, whose log-odds is
        infinite.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of the result.

    Returns
    -------
    b : ndarray of shape (n_outputs,) or (n_classes,)
        One bias per output column (shape (1,) for a 1-d ``y``), or one
        per class for ``"softmax"``.

    Examples
    --------
    >>> marginal_bias([0, 0, 0, 1]).round(4).tolist()  # log(1/3)
    [-1.0986]
    >>> marginal_bias([1.0, 2.0, 6.0], link="identity").tolist()
    [3.0]
    >>> b = marginal_bias(["a", "a", "b", "c"], link="softmax")
    >>> (np.exp(b) / np.exp(b).sum()).round(12).tolist()
    [0.5, 0.25, 0.25]
    """
    if link not in _LINKS:
        raise ValueError(f"link must be one of {_LINKS}, got {link!r}.")
    if isinstance(smoothing, (bool, np.bool_)) or not isinstance(smoothing, Real):
        raise TypeError(f"smoothing must be a real number, got {smoothing!r}.")
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise ValueError(f"smoothing must be a finite number >= 0, got {smoothing}.")
    dt = _check_dtype(dtype)
    y = np.asarray(y)
    if y.ndim not in (1, 2) or y.shape[0] == 0:
        raise ValueError(f"y must be a non-empty 1-d or 2-d array of targets, got shape {y.shape}.")

    if link == "softmax":
        if y.ndim != 1:
            raise ValueError(f"link='softmax' needs 1-d class labels, got shape {y.shape}.")
        _, counts = np.unique(y, return_counts=True)
        logp = np.log((counts + smoothing) / (y.shape[0] + counts.size * smoothing))
        return (logp - logp.mean()).astype(dt)

    if y.dtype.kind not in "biuf":
        raise TypeError(f"y must be numeric for link={link!r}, got dtype {y.dtype}.")
    Y = y.reshape(y.shape[0], -1).astype(np.float64)
    if not np.isfinite(Y).all():
        raise ValueError("y contains NaN or infinity; remove or impute those targets.")
    mean = Y.mean(axis=0)

    if link == "identity":
        return mean.astype(dt)
    if link == "log":
        if (Y < 0).any():
            raise ValueError("link='log' needs targets >= 0 (counts or rates).")
        if (mean == 0).any():
            raise ValueError(f"link='log' needs a positive mean target in every column; got means {mean.tolist()}.")
        return np.log(mean).astype(dt)
    # logit
    if not np.isin(Y, (0.0, 1.0)).all():
        raise ValueError("link='logit' needs binary targets in {0, 1}.")
    pos = Y.sum(axis=0)
    p = (pos + smoothing) / (Y.shape[0] + 2 * smoothing)
    if ((p == 0) | (p == 1)).any():
        raise ValueError(
            f"the positive rate is 0 or 1 in some column (rates {p.tolist()}), so its "
            "log-odds is infinite; pass smoothing > 0 (e.g. smoothing=1)."
        )
    return (np.log(p) - np.log1p(-p)).astype(dt)
