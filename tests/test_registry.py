"""The algorithm registry is the one list of the sparse online learners: everything else agrees with it.

An algorithm added to the registry fails here until its estimators are exported, its oracle exists, its docs
name it and the compiled kernel was rebuilt from the registry; the parametrised tests then cover it.
"""

from pathlib import Path

import pytest

import ftrlx
from ftrlx import linear_model as lm
from ftrlx._kernels import _online, _parallel, registry
from ftrlx._reference import ALGORITHMS as ORACLES
from ftrlx.linear_model._classifier import OnlineClassifierMixin
from ftrlx.linear_model._regressor import OnlineRegressorMixin

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "src" / "ftrlx" / "_kernels"
ENTRIES = list(registry.ALGORITHMS.values())
ids = [a.name for a in ENTRIES]


def test_the_compiled_kernel_was_built_from_this_registry():
    # codes and state widths: the math files' constants against the registry's slot kinds
    assert _online.ALGORITHMS == {a.name: (a.code, len(a.slots), len(a.intercept_slots)) for a in ENTRIES}
    assert _online.GLOBAL_SLOTS == registry.GLOBAL_SLOTS
    assert _parallel.ALGORITHMS == _online.ALGORITHMS


def test_the_rendered_sources_are_up_to_date():
    # a stale rendering (the registry changed, the build did not run) would compile an old dispatch
    for template in sorted(KERNELS.glob("*.tp")):
        target = template.with_suffix("")
        assert target.exists(), f"{target.name} is missing: run python setup.py build_ext --inplace"
        assert target.read_text() == registry.render(template.read_text()), f"{target.name} is stale: rebuild"


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_every_algorithm_has_its_estimators_oracle_and_docs(entry):
    assert entry.estimators, f"{entry.name}: the registry names no estimator"
    for position, name in enumerate(entry.estimators):
        cls = getattr(ftrlx, name)
        assert cls is getattr(lm, name) and name in lm.__all__
        assert cls._algorithm == entry.name
        assert cls.__module__ == f"ftrlx.linear_model.{entry.module}"
        mixin = OnlineClassifierMixin if position == 0 else OnlineRegressorMixin
        assert issubclass(cls, mixin), f"{name}: the first estimator is the classifier, the second the regressor"
    assert entry.name in ORACLES, f"{entry.name}: no eager oracle in ftrlx._reference.oracles"
    assert (KERNELS / f"{entry.module}.pxd").exists()
    guide = (ROOT / "docs" / "guide" / "algorithms.rst").read_text()
    api = (ROOT / "docs" / "api" / "linear_model.rst").read_text()
    for name in entry.estimators:
        assert f":class:`ftrlx.{name}`" in guide, f"docs/guide/algorithms.rst does not describe {name}"
        assert f".. autoclass:: {name}" in api, f"docs/api/linear_model.rst does not document {name}"


def test_nothing_else_lists_algorithms():
    estimators = [name for a in ENTRIES for name in a.estimators]
    assert [n for n in lm.__all__ if n.endswith(("Classifier", "Regressor"))] == estimators
    assert set(ORACLES) == set(registry.ALGORITHMS)
    from ftrlx._cli_common import ALGOS

    assert ALGOS == {a.cli: a.estimators[0] for a in ENTRIES}


def test_a_bad_entry_is_refused():
    good = registry.ALGORITHMS["ftrl"]
    with pytest.raises(ValueError, match="unknown slot kind"):
        registry._check([good, registry.Algorithm("x", 1, "x", "_x", {}, slots=("values",), intercept_slots=())])
    with pytest.raises(ValueError, match="shared names share a field"):
        registry._check([good, registry.Algorithm("x", 1, "x", "_x", {"l1": ("int", 0)}, slots=(), intercept_slots=())])
    with pytest.raises(ValueError, match="codes must be"):
        registry._check([good, registry.Algorithm("x", 5, "x", "_x", {}, slots=(), intercept_slots=())])


def test_make_params_takes_the_registry_defaults():
    rendered = (KERNELS / "_params.pxd").read_text()
    for name, (_, default) in registry.param_fields().items():
        assert f'p.{name} = d.get("{name}", {default!r})' in rendered


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_models_pickled_when_the_estimators_shared_one_module_still_load(entry):
    import pickle

    import numpy as np
    import scipy.sparse as sp

    cls = getattr(ftrlx, entry.estimators[0])
    X = sp.csr_matrix(np.eye(4))
    model = cls().partial_fit(X, [0, 1, 0, 1], classes=[0, 1])
    new = pickle.dumps(model, protocol=0)  # text protocol: the class's module is a plain line
    old = new.replace(f"c{cls.__module__}\n".encode(), b"cftrlx.linear_model._estimators\n")
    assert old != new
    back = pickle.loads(old)
    assert type(back) is cls
    np.testing.assert_array_equal(back.state_, model.state_)
