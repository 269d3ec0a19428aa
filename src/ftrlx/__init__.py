"""ftrlx: fast sparse online learners for Python.

Per-coordinate online learners (FTRL-Proximal, L1-RDA, L1-FOBOS, truncated
gradient, AdaGrad, LazyAdam and plain online gradient descent) as Cython
kernels over scipy CSR matrices, wrapped as scikit-learn estimators with
``partial_fit``; a pure-NumPy layer of dense optimizers, initialisers and
normalisation layers; and streaming click-through training.

Public names are imported on first use, so ``import ftrlx`` stays cheap.
"""

__version__ = "0.1.0"

_ESTIMATORS = [
    f"{algo}{kind}"
    for algo in ("FTRL", "RDA", "FOBOS", "TruncatedGradient", "AdaGrad", "LazyAdam", "OGD")
    for kind in ("Classifier", "Regressor")
]
_LAZY = {name: "ftrlx.linear_model" for name in _ESTIMATORS}
_LAZY.update({"save": "ftrlx.io", "load": "ftrlx.io", "fit_stream": "ftrlx.stream"})

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ftrlx' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
