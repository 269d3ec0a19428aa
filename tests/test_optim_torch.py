"""Step-for-step agreement with ``torch.optim`` (float64, 50 steps, rtol 1e-10).

Both sides see the gradient of the same random quadratic evaluated at their
own current parameters, so any difference in the update rule shows up in the
trajectory.  Skipped when PyTorch is not installed.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ftrlx import optim  # noqa: E402

pytestmark = pytest.mark.torch

N_STEPS = 50

CASES = [
    ("SGD", {"lr": 0.05}, optim.SGD, {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
        optim.SGD,
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
    ),
    (
        "SGD",
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    ),
    # Sutskever's form at the look-ahead point equals PyTorch's Nesterov for a constant lr.
    (
        "SGD",
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "momentum_form": "classic"},
    ),
    ("Adagrad", {"lr": 0.3}, optim.AdaGrad, {"lr": 0.3}),
    (
        "Adagrad",
        {"lr": 0.3, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-6, "weight_decay": 0.01},
        optim.AdaGrad,
        {"lr": 0.3, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-6, "weight_decay": 0.01},
    ),
    ("RMSprop", {"lr": 0.01}, optim.RMSProp, {"lr": 0.01}),
    (
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "centered": True},
        optim.RMSProp,
        {"lr": 0.01, "alpha": 0.9, "centered": True},
    ),
    ("RMSprop", {"lr": 0.01, "momentum": 0.7}, optim.RMSProp, {"lr": 0.01, "momentum": 0.7}),
    (
        "RMSprop",
        {"lr": 0.01, "momentum": 0.7, "centered": True, "weight_decay": 0.01},
        optim.RMSProp,
        {"lr": 0.01, "momentum": 0.7, "centered": True, "weight_decay": 0.01},
    ),
    ("Adadelta", {}, optim.AdaDelta, {}),
    (
        "Adadelta",
        {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01},
        optim.AdaDelta,
        {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01},
    ),
    ("Adam", {"lr": 0.05}, optim.Adam, {"lr": 0.05}),
    (
        "Adam",
        {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.01},
        optim.Adam,
        {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.01},
    ),
    ("Adam", {"lr": 0.05, "amsgrad": True}, optim.AMSGrad, {"lr": 0.05}),
    ("NAdam", {"lr": 0.05}, optim.NAdam, {"lr": 0.05}),
    (
        "NAdam",
        {"lr": 0.05, "momentum_decay": 0.01, "weight_decay": 0.01},
        optim.NAdam,
        {"lr": 0.05, "momentum_decay": 0.01, "weight_decay": 0.01},
    ),
    ("Adamax", {"lr": 0.05}, optim.AdaMax, {"lr": 0.05}),
    (
        "Adamax",
        {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.01},
        optim.AdaMax,
        {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.01},
    ),
]


@pytest.fixture(autouse=True)
def _float64_scalars():
    # torch keeps per-parameter scalars such as NAdam's running product of
    # momentum coefficients in the default dtype; float32 there would round
    # torch's side at about 1e-8, so the comparison runs with float64 defaults.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def _quadratic(seed, n):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    A = M @ M.T / n + 0.5 * np.eye(n)
    b = rng.normal(size=n)
    return A, b, rng.normal(size=n)


@pytest.mark.parametrize("torch_name, torch_kw, ours, our_kw", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch_step_for_step(torch_name, torch_kw, ours, our_kw):
    n = 7
    A, b, w0 = _quadratic(len(torch_name) * 31 + len(torch_kw), n)
    # Two parameter arrays on our side (a dict) and two tensors on torch's side.
    split = 3
    params = {"a": w0[:split].copy(), "b": w0[split:].copy()}
    tensors = [
        torch.tensor(w0[:split], dtype=torch.float64, requires_grad=True),
        torch.tensor(w0[split:], dtype=torch.float64, requires_grad=True),
    ]
    topt = getattr(torch.optim, torch_name)(tensors, foreach=False, **torch_kw)
    opt = ours(**our_kw)
    for step in range(N_STEPS):
        w = np.concatenate([params["a"], params["b"]])
        g = A @ w - b
        opt.step(params, {"a": g[:split], "b": g[split:]})

        wt = torch.cat([t.detach() for t in tensors]).numpy()
        gt = A @ wt - b
        tensors[0].grad = torch.tensor(gt[:split], dtype=torch.float64)
        tensors[1].grad = torch.tensor(gt[split:], dtype=torch.float64)
        topt.step()

        ours_now = np.concatenate([params["a"], params["b"]])
        theirs = torch.cat([t.detach() for t in tensors]).numpy()
        np.testing.assert_allclose(
            ours_now, theirs, rtol=1e-10, atol=1e-13, err_msg=f"{torch_name} {torch_kw} differs at step {step + 1}"
        )
    # The run must have moved the parameters, or agreement proves nothing.
    assert np.linalg.norm(ours_now - w0) > 1e-3
