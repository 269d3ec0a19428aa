"""The hashing of :class:`ftrlx.hashing.CategoricalHasher` without scikit-learn: parameters, spec and transform.

:class:`HashingCore` holds everything a hasher does; ``CategoricalHasher`` adds scikit-learn's estimator API to
it (``fit``, ``get_params``, tags).  The module imports no scikit-learn, so the command line can build the hasher
of a file and start reading the file while scikit-learn is being imported, and the readers of ``ftrlx.datasets``
import without it.  The compiled readers accept either class (:func:`exact_hasher`): the two hash alike.
"""

import numbers

import numpy as np

from ._hashing_tables import _names

_NUMERIC_MODES = ("value", "log_bin", "both")
_SPEC_VERSION = 1


class HashingCore:
    """A :class:`~ftrlx.hashing.CategoricalHasher` without the scikit-learn API (same parameters, same output)."""

    def __init__(
        self,
        n_features=2**20,
        categorical=None,
        numeric=None,
        numeric_mode="value",
        interactions=(),
        signed=False,
        seed=0,
        dtype=np.float64,
    ):
        self.n_features = n_features
        self.categorical = categorical
        self.numeric = numeric
        self.numeric_mode = numeric_mode
        self.interactions = interactions
        self.signed = signed
        self.seed = seed
        self.dtype = dtype

    # -- parameters ---------------------------------------------------------
    def _check_params(self):
        n = self.n_features
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not 1 <= n <= 2**32:
            raise ValueError(f"n_features must be an integer in [1, 2**32], got {n!r}")
        if self.numeric_mode not in _NUMERIC_MODES:
            raise ValueError(f"numeric_mode must be one of {_NUMERIC_MODES}, got {self.numeric_mode!r}")
        seed = self.seed
        if not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
            raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
        dtype = np.dtype(self.dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        numeric = _names(self.numeric) or []
        categorical = _names(self.categorical)
        if categorical is not None:
            both = sorted(set(categorical) & set(numeric))
            if both:
                raise ValueError(f"columns {both} are listed both as categorical and numeric")
        pairs = []
        for pair in self.interactions:
            pair = _names(pair)
            if len(pair) != 2:
                raise ValueError(f"each interaction must be a pair of column names, got {pair!r}")
            pairs.append(tuple(pair))
        return categorical, numeric, pairs, dtype

    def get_spec(self):
        """Return all parameters as a JSON-serialisable dict.

        Returns
        -------
        spec : dict
            Enough to rebuild an identical hasher with :meth:`from_spec`.

        Examples
        --------
        >>> import json
        >>> from ftrlx.hashing import CategoricalHasher
        >>> spec = CategoricalHasher(n_features=16, categorical=["a"]).get_spec()
        >>> json.loads(json.dumps(spec)) == spec
        True
        >>> spec["n_features"], spec["categorical"]
        (16, ['a'])
        """
        categorical, numeric, pairs, dtype = self._check_params()
        return {
            "type": "CategoricalHasher",
            "version": _SPEC_VERSION,
            "hash": "murmurhash3_32",
            "n_features": int(self.n_features),
            "categorical": categorical,
            "numeric": numeric,
            "numeric_mode": self.numeric_mode,
            "interactions": [list(p) for p in pairs],
            "signed": bool(self.signed),
            "seed": int(self.seed),
            "dtype": dtype.name,
        }

    @classmethod
    def from_spec(cls, spec):
        """Rebuild a hasher from the dict of :meth:`get_spec`.

        Parameters
        ----------
        spec : dict
            A dict returned by :meth:`get_spec` (possibly through JSON).

        Returns
        -------
        hasher : CategoricalHasher

        Examples
        --------
        >>> from ftrlx.hashing import CategoricalHasher
        >>> h = CategoricalHasher(n_features=8, signed=True, seed=3)
        >>> CategoricalHasher.from_spec(h.get_spec()).get_spec() == h.get_spec()
        True
        """
        if not isinstance(spec, dict) or spec.get("type") != "CategoricalHasher":
            raise ValueError(
                "spec is not a CategoricalHasher spec (its 'type' entry should be "
                "'CategoricalHasher'); build it with CategoricalHasher.get_spec()"
            )
        if spec.get("version", _SPEC_VERSION) > _SPEC_VERSION:
            raise ValueError(
                f"spec version {spec['version']} is newer than this ftrlx understands ({_SPEC_VERSION}); upgrade ftrlx"
            )
        return cls(
            n_features=spec["n_features"],
            categorical=spec["categorical"],
            numeric=spec["numeric"] or None,
            numeric_mode=spec["numeric_mode"],
            interactions=[tuple(p) for p in spec["interactions"]],
            signed=spec["signed"],
            seed=spec["seed"],
            dtype=np.dtype(spec["dtype"]).type,
        )

    def _plan(self, names):
        categorical, numeric, pairs, dtype = self._check_params()
        if categorical is None:
            numeric_set = set(numeric)
            categorical = [c for c in names if c not in numeric_set]
        available = set(names)
        wanted = list(categorical) + list(numeric) + [c for p in pairs for c in p]
        missing = [c for c in dict.fromkeys(wanted) if c not in available]
        if missing:
            raise ValueError(
                f"column(s) {missing} not found in the input, which has columns {names}; "
                "check the categorical, numeric and interactions parameters"
            )
        return categorical, numeric, pairs, dtype

    def transform(self, X):
        """Hash a table into a CSR matrix of shape (n_rows, n_features).

        Parameters
        ----------
        X : DataFrame, pyarrow Table or RecordBatch, dict of 1-D arrays or 2-D array
            The rows to hash. A 2-D array's columns are named "0", "1", ...

        Returns
        -------
        Xt : scipy.sparse.csr_matrix
            Sorted indices, duplicates summed, no explicit zeros.

        Examples
        --------
        >>> import numpy as np
        >>> from ftrlx.hashing import CategoricalHasher
        >>> X = np.array([["a", "x"], ["a", "y"]], dtype=object)
        >>> Xt = CategoricalHasher(n_features=64).transform(X)
        >>> Xt.sum(axis=1).ravel().tolist()  # two tokens per row, unless they collide
        [[2.0, 2.0]]
        """
        from ._hashing_transform import transform_compiled

        return transform_compiled(self, X)

    def _transform_reference(self, X):
        """:meth:`transform` computed by the NumPy reference implementation (for tests)."""
        from ._hashing_reference import transform_reference

        return transform_reference(self, X)


#: The hasher classes whose output the compiled readers reproduce (CategoricalHasher adds itself when imported);
#: a subclass may hash otherwise, and is read through its own ``transform``.
_EXACT = {HashingCore}


def exact_hasher(hasher):
    """Whether ``hasher`` hashes exactly as its spec says (a HashingCore or a CategoricalHasher, not a subclass)."""
    return type(hasher) in _EXACT
