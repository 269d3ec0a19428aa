"""ftrlx: fast sparse online learners for Python.

Per-coordinate online learners (FTRL-Proximal, L1-RDA, L1-FOBOS, truncated
gradient, AdaGrad, LazyAdam, passive-aggressive and plain online gradient descent) as Cython
kernels over scipy CSR matrices, wrapped as scikit-learn estimators with
``partial_fit``; a pure-NumPy layer of dense optimizers, initialisers and
normalisation layers; and streaming click-through training.

Public names are imported on first use, so ``import ftrlx`` stays cheap.
"""

__version__ = "0.1.0"

from ._kernels.registry import ALGORITHMS as _ALGORITHMS  # plain Python: nothing compiled is loaded

_ESTIMATORS = [name for algorithm in _ALGORITHMS.values() for name in algorithm.estimators]
_LAZY = {name: "ftrlx.linear_model" for name in _ESTIMATORS}
_LAZY.update({"save": "ftrlx.io", "load": "ftrlx.io", "fit_stream": "ftrlx.stream"})
_LAZY.update(
    {"CategoricalHasher": "ftrlx.hashing", "make_click_data": "ftrlx.datasets", "iter_click_data": "ftrlx.datasets"}
)
_LAZY.update({"path": "ftrlx._path"})  # one-pass regularisation paths
_LAZY.update(
    {name: "ftrlx.preprocessing" for name in ("StreamingMaxAbsScaler", "StreamingStdScaler", "RowL2Normalizer")}
)
_SUBMODULES = (
    "datasets",
    "hashing",
    "init",
    "io",
    "linear_model",
    "metrics",
    "nn",
    "optim",
    "preprocessing",
    "stream",
    "viz",
)

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"ftrlx.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ftrlx' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
