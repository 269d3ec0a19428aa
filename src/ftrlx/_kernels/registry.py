"""The registry of the sparse online learners: every fact about an algorithm that is not its update rule.

An algorithm is one ``_<name>.pxd`` file of small inline functions (its math, see below) and one ``Algorithm``
entry here.  Everything else is derived from this list:

* at build time, ``setup.py`` renders ``_dispatch.pxi`` and ``_params.pxd`` from it (``render``): the compile-time
  dispatch of the row-loop driver in ``_online.pyx`` (one specialised loop per algorithm), the kernel's parameter
  struct and the function that fills it;
* at run time, the estimators, saved-model checks, threaded and distributed training read the same entries
  (``ftrlx._kernels.registry.ALGORITHMS``).

This module is plain Python with no import from ftrlx, so that the build can load it before anything is compiled.

The math file of an algorithm with prefix ``p`` (upper case ``P``) defines::

    cdef enum: P_SLOTS = ..., P_ISLOTS = ...     # doubles per coordinate, and of the intercept
    p_read(Params*, const double* gs)            # prepare reading weights at the current time
    p_step(Params*, const double* gs)            # prepare the step being taken
    p_end(const Params*, double* gs)             # commit the step's global clocks (gs[0], the step count, excepted)
    p_weight(const Params*, const double* s) -> double
    p_update(const Params*, double* s, double g, double w)   # g: this coordinate's gradient, w: its weight
    p_intercept(const Params*, const double* s) -> double
    p_intercept_update(const Params*, double* s, double g, double b)

and, where its entry says so, ``p_update_exact``/``p_suspect`` (``exact``) or ``p_row_gradient`` (``row_gradient``).
The developer guide ("Adding an algorithm") walks through the steps.
"""

from collections import namedtuple
from types import MappingProxyType

__all__ = ["Algorithm", "ALGORITHMS", "BY_CODE", "SLOT_KINDS", "GLOBAL_SLOTS", "render"]

# How a slot of the state combines when copies trained apart are merged (threads in 'deterministic' mode,
# workers of ftrlx.dask):
#   "value"   an accumulator or a stored value: the changes add up (or the values are averaged);
#   "sqrt"    the square root of an accumulator (FTRL keeps sqrt(n)): combined as its square, then rooted;
#   "weight"  a weight stored lazily (its regulariser caught up when read): combined through the weight that each
#             copy's clock gives it, so that the regularisation a copy applied is not lost;
#   "stampK"  a per-coordinate time stamp of the lazy catch-up: set to the combined clock gstate[K], because the
#             combined weight is stored already caught up.
SLOT_KINDS = ("value", "sqrt", "weight", "stamp0", "stamp1", "stamp2")
# gstate columns: 0 is the step count; 1 and 2 are each algorithm's clocks, combined as "sum" or "composed"
GLOBAL_SLOTS = 3


# a named tuple rather than a dataclass: ``import ftrlx`` reads the registry, and the dataclasses module (with the
# inspect module it imports) would add about 10 ms to it
_FIELDS = ("name", "code", "prefix", "module", "params", "slots", "intercept_slots", "scratch", "clocks", "averaged")
_FIELDS += ("nonnegative_slot", "gathers", "exact", "row_gradient", "estimators", "cli")
_DEFAULTS = (MappingProxyType({}), ("sum", "sum"), False, None, False, False, False, (), "")


class Algorithm(namedtuple("Algorithm", _FIELDS, defaults=_DEFAULTS)):
    """One sparse online learner, as the kernel and the estimators know it.

    name : the estimators' ``_algorithm`` and the key saved models record.
    code : the kernel's integer code (never saved: only ``name`` is).
    prefix : the prefix of the functions and constants of its math file ``_<module>.pxd``.
    module : that file's module name.
    params : the hyper-parameters its math reads from the parameter struct, name -> (C type, default); the
        estimator's ``_kernel_params()`` gives their values.  Names shared with other algorithms share a field.  The
        default is only what the kernel reads when a caller leaves the value out (a neutral, safe value): the
        estimators always pass theirs, and their defaults live in their signatures.
    scratch : extra per-call working fields of the struct its math uses (name -> C type), beyond ``SCRATCH``.
    slots, intercept_slots : the merge kind (``SLOT_KINDS``) of each slot of a coordinate and of the intercept; their
        number is the width of the state, which the compiled module checks against ``P_SLOTS``/``P_ISLOTS``.
    clocks : the merge kind of gstate columns 1 and 2.
    averaged : whether copies trained apart are averaged rather than their changes summed (``'auto'`` merging).
    nonnegative_slot : the slot (of a coordinate and of the intercept) that accumulates squares, which a saved
        model must hold non-negative; None if there is none.
    gathers : whether the one-row step copies the row's coordinates into a contiguous buffer first (worth it where
        the weight and the update vectorize).
    exact : whether the math file has ``p_update_exact`` (a slower update for steps the fast one cannot take
        exactly) and ``p_suspect`` (which tells, after a gathered row's fast updates, whether to redo them).
    row_gradient : whether the math file has ``p_row_gradient(p, loss, margin, y, sqnorm)``, the loss derivative
        scaled by a step size that depends on the row (its squared norm); otherwise the driver uses ``dloss``.
    estimators : the public estimator classes, defined in ``ftrlx.linear_model.<module>`` (the math file's name):
        exported by ``ftrlx.linear_model`` and ``ftrlx``; the first is a classifier, which the command line trains.
    cli : the command line's name for it (``ftrlx train --algo``).
    """

    __slots__ = ()


_SCHEDULE = {
    "eta0": ("double", 0.0),
    "schedule": ("int", 0),
    "decay_steps": ("double", 1.0),
    "eta_final": ("double", 0.0),
}

ALGORITHMS = {
    a.name: a
    for a in [
        Algorithm(
            "ftrl",
            0,
            "ftrl",
            "_ftrl",
            {"alpha": ("double", 0.0), "beta": ("double", 0.0), "l1": ("double", 0.0), "l2": ("double", 0.0)},
            slots=("value", "sqrt"),
            intercept_slots=("value", "sqrt"),
            nonnegative_slot=1,
            gathers=True,
            exact=True,
            estimators=("FTRLClassifier", "FTRLRegressor"),
            cli="ftrl",
        ),
        Algorithm(
            "rda",
            1,
            "rda",
            "_rda",
            {"gamma": ("double", 0.0), "rho": ("double", 0.0), "l1": ("double", 0.0)},
            slots=("value",),
            intercept_slots=("value",),
            gathers=True,
            estimators=("RDAClassifier", "RDARegressor"),
            cli="rda",
        ),
        Algorithm(
            "fobos",
            2,
            "fobos",
            "_fobos",
            {**_SCHEDULE, "l1": ("double", 0.0), "l2": ("double", 0.0)},
            slots=("weight", "stamp1", "stamp2"),
            intercept_slots=("value",),
            clocks=("sum", "composed"),
            estimators=("FOBOSClassifier", "FOBOSRegressor"),
            cli="fobos",
        ),
        Algorithm(
            "truncated_gradient",
            3,
            "tg",
            "_truncated",
            {
                **_SCHEDULE,
                "gravity": ("double", 0.0),
                "theta": ("double", 0.0),
                "period": ("int64_t", 1),
                "rounding": ("int", 0),
            },
            slots=("weight", "stamp1"),
            intercept_slots=("value",),
            estimators=("TruncatedGradientClassifier", "TruncatedGradientRegressor"),
            cli="tg",
        ),
        Algorithm(
            "adagrad",
            4,
            "adagrad",
            "_adagrad",
            {
                "eta0": ("double", 0.0),
                "l1": ("double", 0.0),
                "l2": ("double", 0.0),
                "eps": ("double", 0.0),
                "n0": ("double", 0.0),
                "eps_inside": ("int", 0),
                "rda_form": ("int", 0),
            },
            slots=("weight", "value", "stamp0"),  # slot 0 is a sum of gradients in the RDA form (see _deterministic)
            intercept_slots=("value", "value"),
            nonnegative_slot=1,
            estimators=("AdaGradClassifier", "AdaGradRegressor"),
            cli="adagrad",
        ),
        Algorithm(
            "lazy_adam",
            5,
            "lazy_adam",
            "_lazy_adam",
            {
                "eta0": ("double", 0.0),
                "beta1": ("double", 0.0),
                "beta2": ("double", 0.0),
                "epsilon": ("double", 0.0),
            },
            slots=("value", "value", "value"),
            intercept_slots=("value", "value", "value"),
            averaged=True,
            nonnegative_slot=2,
            estimators=("LazyAdamClassifier", "LazyAdamRegressor"),
            cli="lazyadam",
        ),
        Algorithm(
            "ogd",
            6,
            "ogd",
            "_ogd",
            {**_SCHEDULE, "l1": ("double", 0.0), "l2": ("double", 0.0)},
            slots=("weight", "stamp1", "value"),
            intercept_slots=("value",),
            estimators=("OGDClassifier", "OGDRegressor"),
            cli="ogd",
        ),
        Algorithm(
            "passive_aggressive",
            7,
            "pa",
            "_pa",
            {"C": ("double", 1.0), "variant": ("int", 1)},
            slots=("value",),
            intercept_slots=("value",),
            row_gradient=True,
            estimators=("PassiveAggressiveClassifier",),
            cli="pa",
        ),
    ]
}
BY_CODE = {a.code: a for a in ALGORITHMS.values()}

# Working fields of the parameter struct that every algorithm may use: values for reading weights at the current
# time (set by ``p_read``) and values of the step being taken (set by ``p_step``).
SCRATCH = {
    **dict.fromkeys(["rT", "rlogP", "rB", "rG", "rlogS", "rthr", "rscale"], "double"),
    **dict.fromkeys(
        ["t", "eta", "a", "c", "lr_t", "decay", "logP_new", "B_new", "G_new", "logS_new", "u_new"], "double"
    ),
    "truncate": "int",
}


def _check(algorithms):
    """Refuse an inconsistent registry (at import: a mistake in an entry stops the build)."""
    codes = sorted(a.code for a in algorithms)
    if codes != list(range(len(codes))):
        raise ValueError(f"algorithm codes must be 0..{len(codes) - 1}, got {codes}")
    fields = {}
    for a in algorithms:
        for kind in a.slots + a.intercept_slots:
            if kind not in SLOT_KINDS:
                raise ValueError(f"{a.name}: unknown slot kind {kind!r}; known: {SLOT_KINDS}")
        for name, (ctype, default) in a.params.items():
            if fields.setdefault(name, (ctype, default)) != (ctype, default):
                raise ValueError(
                    f"{a.name}: parameter {name!r} is {ctype} = {default!r}, but another algorithm "
                    f"declares it {fields[name][0]} = {fields[name][1]!r}: shared names share a field"
                )
        for name in a.scratch:
            if name in SCRATCH or name in fields:
                raise ValueError(f"{a.name}: scratch field {name!r} already exists")


_check(list(ALGORITHMS.values()))


def param_fields():
    """Every hyper-parameter field of the struct, name -> (C type, default), in registry order."""
    out = {}
    for a in ALGORITHMS.values():
        out.update(a.params)
    return out


def scratch_fields():
    out = dict(SCRATCH)
    for a in ALGORITHMS.values():
        out.update(a.scratch)
    return out


def render(template_text):
    """A Tempita template rendered with the registry (the build's code generator)."""
    from Cython import Tempita

    algorithms = sorted(ALGORITHMS.values(), key=lambda a: a.code)
    return Tempita.sub(
        template_text, algorithms=algorithms, params=param_fields(), scratch=scratch_fields(), global_slots=GLOBAL_SLOTS
    )
