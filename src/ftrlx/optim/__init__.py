"""Dense first-order optimizers, schedules, wrappers and ``minimize``.

Every optimizer has ``step(params, grads)``, updating NumPy arrays (one
array, a dict or a list of arrays) in place; ``lr`` is a float or a
:class:`Schedule`.  ``minimize`` adds Newton, (L-)BFGS, steepest descent,
nonlinear conjugate gradient and coordinate descent, and drives any
optimizer object.

Examples
--------
>>> import numpy as np
>>> from ftrlx.optim import Adam, ill_conditioned_quadratic, minimize
>>> q = ill_conditioned_quadratic()
>>> res = minimize(q, q.x0, jac=q.grad, method=Adam(lr=0.1), tol=1e-6, max_iter=5000)
>>> res.success
True
"""

from .adaptive import AdaDelta, AdaGrad, Adam, AdaMax, AMSGrad, DeltaBarDelta, LazyAdam, NAdam, RMSProp
from .base import Optimizer, Schedule, all_optimizers, all_schedules, as_schedule
from .minimize import OptimizeResult, minimize, wolfe_line_search
from .schedules import Constant, ExponentialDecay, InverseSqrt, LinearDecay, StepDecay
from .sgd import SGD, fit_minibatch, iterate_minibatches
from .testfunctions import (
    Beale,
    Objective,
    Quadratic,
    Rosenbrock,
    Saddle,
    ill_conditioned_quadratic,
    standard_objectives,
)
from .wrappers import Averaged, ClipGradient

__all__ = [
    "Optimizer",
    "Schedule",
    "as_schedule",
    "all_optimizers",
    "all_schedules",
    "Constant",
    "InverseSqrt",
    "LinearDecay",
    "StepDecay",
    "ExponentialDecay",
    "SGD",
    "iterate_minibatches",
    "fit_minibatch",
    "AdaGrad",
    "RMSProp",
    "AdaDelta",
    "Adam",
    "AMSGrad",
    "NAdam",
    "AdaMax",
    "LazyAdam",
    "DeltaBarDelta",
    "Averaged",
    "ClipGradient",
    "minimize",
    "OptimizeResult",
    "wolfe_line_search",
    "Objective",
    "Quadratic",
    "ill_conditioned_quadratic",
    "Rosenbrock",
    "Saddle",
    "Beale",
    "standard_objectives",
]
