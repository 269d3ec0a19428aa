"""Docstrings agree with signatures: every parameter documented, every stated default the signature's."""

import importlib
import inspect

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from ftrlx._docdefaults import derive_defaults, documented_parameters, mismatched_defaults

PUBLIC_MODULES = [
    "ftrlx",
    "ftrlx.linear_model",
    "ftrlx.optim",
    "ftrlx.preprocessing",
    "ftrlx.init",
    "ftrlx.nn",
    "ftrlx.hashing",
    "ftrlx.stream",
    "ftrlx.metrics",
    "ftrlx.io",
    "ftrlx.datasets",
    "ftrlx.viz",
]


def _public_callables():
    seen, out = set(), []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                out.append(pytest.param(obj, id=f"{module_name}.{name}"))
    return out


def _parameters(obj):
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):  # a class without an inspectable __init__
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"
    ]


@pytest.mark.parametrize("obj", _public_callables())
def test_documented_defaults_are_the_signatures(obj):
    assert mismatched_defaults(obj) == []


@pytest.mark.parametrize("obj", _public_callables())
def test_a_parameters_section_lists_every_parameter(obj):
    documented = documented_parameters(inspect.getdoc(obj))
    if isinstance(obj, type) and issubclass(obj, BaseEstimator):
        assert documented, f"{obj.__name__} has no Parameters section"
    if documented:
        assert [name for name in _parameters(obj) if name not in documented] == []


class _Documented:
    """A class for the checker's own tests.

    Parameters
    ----------
    eta0 : float, default=0.5
        A rate.
    gravity, theta : float
        Two names on one line.
    l1 : float, default=1e-5
    bound : float, default=np.inf

    Attributes
    ----------
    eta1 : float, default=3
        Not a parameter: outside the section.
    """

    def __init__(self, eta0=0.05, gravity=0.0, theta=1.0, l1=1e-05, bound=np.inf):
        pass


def test_the_checker_finds_a_wrong_default_and_only_that():
    assert mismatched_defaults(_Documented) == [("eta0", 0.5, 0.05)]
    assert sorted(documented_parameters(inspect.getdoc(_Documented))) == ["bound", "eta0", "gravity", "l1", "theta"]


def test_derive_defaults_writes_the_signatures_defaults_and_keeps_correct_spellings():
    cls = type("Copy", (_Documented,), {"__doc__": _Documented.__doc__})
    derive_defaults(cls)
    assert mismatched_defaults(cls) == []
    assert "    eta0 : float, default=0.05\n" in cls.__doc__
    assert "    l1 : float, default=1e-5\n" in cls.__doc__  # equal value: the written spelling stays
    assert "    bound : float, default=np.inf\n" in cls.__doc__
    assert "eta1 : float, default=3" in cls.__doc__  # other sections untouched


@pytest.mark.parametrize("name", ["FOBOSRegressor", "TruncatedGradientRegressor", "OGDRegressor"])
def test_regressor_rates_are_documented_as_they_are(name):
    import ftrlx

    cls = getattr(ftrlx, name)
    assert cls().eta0 == 0.05
    assert "eta0 : float, default=0.05" in cls.__doc__


def test_the_readme_learner_table_states_the_signature_defaults():
    import re
    from pathlib import Path

    import ftrlx

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \(`([^`]*)`(?:; regressor `([^`]*)`)?\) \|", readme, re.M)
    assert len(rows) == 7

    def check(cls, text):
        signature = inspect.signature(cls).parameters
        for item in text.split(", "):
            name, value = item.split("=")
            stated = eval(value.replace("inf", "float('inf')"), {})  # noqa: S307 - the README's own literals
            assert signature[name].default == stated, (cls.__name__, name)

    for name, classifier, regressor in rows:
        check(getattr(ftrlx, f"{name}Classifier"), classifier)
        check(getattr(ftrlx, f"{name}Regressor"), regressor or classifier)
