"""Random CSR streams and the one-vs-rest driver used by the oracle tests.

The streams are deliberately *not* canonical: rows may repeat a column index,
indices are unsorted, rows may be empty. They are built directly from
``(data, indices, indptr)`` so that scipy leaves them as they are.
"""

import numpy as np
import scipy.sparse as sp

from .oracles import fit_eager

__all__ = ["fit_eager_ovr", "ovr_targets", "random_csr"]


def random_csr(rng, n, d, max_nnz=4, p_empty=0.1, p_duplicate=0.3, grid=None, dtype=np.float64, index_dtype=np.int32):
    """An ``n x d`` CSR matrix with raw, non-canonical rows.

    Each row gets 0..``max_nnz`` stored entries (none with probability
    ``p_empty``), each column drawn uniformly, plus with probability
    ``p_duplicate`` a second entry for one of its columns. Values are
    standard normal, or multiples of ``grid`` in [-2, 2] when ``grid`` is
    given (exact in float32 for grid = 1/8).

    >>> X = random_csr(np.random.default_rng(0), 5, 3, index_dtype=np.int64)
    >>> X.shape, X.indices.dtype, X.indptr.dtype
    ((5, 3), dtype('int64'), dtype('int64'))
    """
    indices, counts = [], []
    for _ in range(n):
        k = 0 if rng.random() < p_empty else int(rng.integers(1, max_nnz + 1))
        cols = list(rng.integers(0, d, size=k))
        if k and rng.random() < p_duplicate:
            cols.insert(int(rng.integers(0, k + 1)), cols[int(rng.integers(0, k))])
        indices.extend(cols)
        counts.append(len(cols))
    nnz = len(indices)
    if grid is None:
        data = rng.normal(size=nnz)
    else:
        steps = round(2.0 / grid)
        data = grid * rng.integers(-steps, steps + 1, size=nnz)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(index_dtype)
    X = sp.csr_matrix((data.astype(dtype), np.asarray(indices, dtype=index_dtype), indptr), shape=(n, d))
    # scipy narrows small int64 index arrays on construction; put the width back.
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    return X


def ovr_targets(y, classes, k, class_weight=None):
    """Targets in {-1, +1} and per-row class weights for binary problem ``k``.

    With two classes there is one problem (k = 1): classes[1] is positive,
    and each side gets its own class weight. With more classes, problem k
    has classes[k] positive with weight class_weight[classes[k]], and all
    other rows weight 1.
    """
    cw = class_weight or {}
    pos = np.asarray(y) == classes[k]
    target = np.where(pos, 1.0, -1.0)
    neg_weight = cw.get(classes[0], 1.0) if len(classes) == 2 else 1.0
    return target, np.where(pos, cw.get(classes[k], 1.0), neg_weight)


def fit_eager_ovr(algo, params, X, y, classes, sample_weight=None, class_weight=None, states=None, **kwargs):
    """One eager run per binary problem (one-vs-rest); returns the list of states.

    ``coef`` of the result stacks as ``np.array([s.coef() for s in states])``.
    Pass the list back as ``states`` to continue (``partial_fit``).
    """
    problems = [1] if len(classes) == 2 else range(len(classes))
    sw = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    if states is None:
        states = [None] * len(problems)
    out = []
    for state, k in zip(states, problems):
        target, cw = ovr_targets(y, classes, k, class_weight)
        out.append(fit_eager(algo, params, X, target, sw * cw, state=state, **kwargs))
    return out
