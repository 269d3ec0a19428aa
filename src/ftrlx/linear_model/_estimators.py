"""Every public estimator, gathered from their modules (one per algorithm: ``_ftrl``, ``_rda``, ... as the
algorithm registry lists them).

Models pickled before the estimators had modules of their own name this module as the classes' home; importing
the classes here keeps those pickles loading.
"""

from importlib import import_module

from .._kernels.registry import ALGORITHMS

__all__ = []
for _algorithm in ALGORITHMS.values():
    _module = import_module(f".{_algorithm.module}", __package__)
    for _name in _algorithm.estimators:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _algorithm, _module, _name
