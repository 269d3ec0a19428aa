"""Deferred imports for the command line: a module is created when imported, and run on its first use.

scikit-learn imports SciPy's statistics and pandas (when installed) as it is imported, and a training job of the
``ftrlx`` command uses neither: with scikit-learn 1.9, importing ``sklearn.base`` took 2.1-3.1 s, and 0.7-1.1 s with
them deferred.  The command (``ftrlx.__main__``) defers them: ``import pandas`` gives a module whose code runs on
the first attribute read that its import-time attributes (``__name__``, ``__path__``, ``__spec__``, ...) do not
answer.  A job that uses the module pays for it then, and nothing else changes.  Importing ftrlx from Python
defers nothing.

The first use loads the module under a lock, so a second thread that reaches it meanwhile waits for the whole
module rather than reading a half-run one.  A module whose code fails is taken out of ``sys.modules`` and the
error raised, as a failed import would be.
"""

import importlib.machinery
import sys
import threading
import types

_LOCK = threading.RLock()


class _DeferredModule(types.ModuleType):
    """A module whose code has not run yet; ``_load`` runs it on the first attribute it does not have."""

    def __getattr__(self, name):
        spec = self.__dict__.get("__spec__")
        if spec is None or not spec.loader.armed:  # being made: the import machinery probes for its attributes
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        _load(self)
        return getattr(self, name)


def _load(module):
    with _LOCK:
        if type(module) is not _DeferredModule:  # loaded meanwhile, by another thread
            return
        deferring = module.__spec__.loader
        if deferring.running:  # read by its own code while that runs: as in any import cycle
            raise AttributeError(f"partially initialized module {module.__name__!r} has no such attribute yet")
        deferring.running = True
        try:
            deferring.real.exec_module(module)
        except BaseException:
            sys.modules.pop(module.__name__, None)
            raise
        finally:
            deferring.running = False
        module.__spec__.loader = module.__loader__ = deferring.real
        module.__class__ = types.ModuleType


class _DeferringLoader:
    """Makes the module at import and leaves its code, which ``real`` loads, to its first use."""

    def __init__(self, real):
        self.real, self.armed, self.running = real, False, False

    def create_module(self, spec):
        return _DeferredModule(spec.name)

    def exec_module(self, module):
        self.armed = True  # the module is in sys.modules: its first use loads it


class _Finder:
    """On ``sys.meta_path``: finds the deferred modules where Python would, and defers them."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, name, path=None, target=None):
        if name not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _DeferringLoader(spec.loader)
        return spec


def defer(*names):
    """Defer the import of the modules ``names`` (full dotted names) in this process, if not imported yet."""
    sys.meta_path.insert(0, _Finder(name for name in names if name not in sys.modules))


def is_deferred(name):
    """True while the module ``name`` was imported deferred and has not been used."""
    return type(sys.modules.get(name)) is _DeferredModule
