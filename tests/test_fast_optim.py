"""``sb3_pg.common.fast_optim``: the same results as torch's and SB3's, to the bit: ``FlatRMSprop`` against
``torch.optim.RMSprop``, the clipping against ``clip_grad_norm_``, the explained variance against SB3's."""

import copy

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.utils import explained_variance as sb3_explained_variance

from sb3_pg.common.fast_optim import FlatRMSprop, clip_grad_norm, explained_variance, zero_grad


def _net() -> th.nn.Module:
    th.manual_seed(0)
    return th.nn.Sequential(th.nn.Linear(4, 32), th.nn.Tanh(), th.nn.Linear(32, 3))


def _set_grads(net: th.nn.Module, step: int) -> None:
    generator = th.Generator().manual_seed(step)
    for p in net.parameters():
        p.grad = th.randn(p.shape, generator=generator) * (step + 1)


@pytest.mark.parametrize(
    "ours_class, reference_class, kwargs",
    [
        (FlatRMSprop, th.optim.RMSprop, dict(lr=7e-4, alpha=0.99, eps=1e-5)),
        (FlatRMSprop, th.optim.RMSprop, dict(lr=7e-4, alpha=0.99, eps=1e-5, foreach=True)),
        (FlatRMSprop, th.optim.RMSprop, dict(lr=1e-3, momentum=0.9)),  # not the plain case: torch's own step
        (th.optim.Adam, th.optim.Adam, dict(lr=1e-3)),  # the clipping alone
    ],
    ids=["rmsprop", "rmsprop-foreach", "rmsprop-momentum", "adam"],
)
@pytest.mark.parametrize("max_norm", [0.5, 1e6], ids=["clipped", "not-clipped"])
def test_clip_and_step_as_torch(ours_class, reference_class, kwargs, max_norm):
    ours, reference = _net(), _net()
    ours_optimizer, reference_optimizer = (
        ours_class(ours.parameters(), **kwargs),
        reference_class(reference.parameters(), **kwargs),
    )
    for step in range(6):
        if step == 2:  # loading a state dict (new state tensors) and replacing a parameter's memory
            ours_optimizer.load_state_dict(copy.deepcopy(reference_optimizer.state_dict()))
        if step == 4:
            with th.no_grad():
                first = next(ours.parameters())
                first.data = first.data.clone()
        for param_group in (ours_optimizer.param_groups[0], reference_optimizer.param_groups[0]):
            param_group["lr"] = 1e-3 / (step + 1)  # as SB3's schedules set it
        _set_grads(ours, step)
        _set_grads(reference, step)
        clip_grad_norm(list(ours.parameters()), max_norm)
        th.nn.utils.clip_grad_norm_(reference.parameters(), max_norm)
        for p, q in zip(ours.parameters(), reference.parameters(), strict=True):
            assert th.equal(p.grad, q.grad)
        ours_optimizer.step()
        reference_optimizer.step()
        for p, q in zip(ours.parameters(), reference.parameters(), strict=True):
            assert th.equal(p, q)
        zero_grad(ours_optimizer)
        flat = isinstance(ours_optimizer, FlatRMSprop) and kwargs.get("momentum", 0) == 0  # momentum: torch's step
        if flat:  # zeroed views of its flat gradient: backward writes there
            assert all(p.grad is not None and not p.grad.any() for p in ours.parameters())
        else:
            assert all(p.grad is None for p in ours.parameters())
    assert ours_optimizer.state_dict()["state"].keys() == reference_optimizer.state_dict()["state"].keys()
    for state, reference_state in zip(
        ours_optimizer.state_dict()["state"].values(), reference_optimizer.state_dict()["state"].values(), strict=True
    ):
        assert state.keys() == reference_state.keys()
        assert all(th.equal(state[key], reference_state[key]) for key in state)
    # the state loads into torch's optimizer, and back
    copy.deepcopy(reference_optimizer).load_state_dict(ours_optimizer.state_dict())


def test_clip_coefficient_as_torch():
    """The clipping coefficient, computed in float32 outside torch, scales exactly as torch's: gradient
    norms over nine orders of magnitude around several thresholds, and non-finite gradients."""
    rng = np.random.default_rng(0)
    shapes = [(16, 4), (16,), (3, 16), (1,)]
    for case in range(2_000):
        scale = 10 ** rng.uniform(-5, 4)
        grads = [th.from_numpy((rng.standard_normal(shape) * scale).astype(np.float32)) for shape in shapes]
        if case % 500 == 0:
            grads[0][0, 0] = float("inf")
        max_norm = float(rng.choice([0.1, 0.5, 1.0, 3.3, 10.0]))
        ours, reference = (
            [th.nn.Parameter(th.zeros(shape)) for shape in shapes],
            [th.nn.Parameter(th.zeros(shape)) for shape in shapes],
        )
        for p, q, grad in zip(ours, reference, grads, strict=True):
            p.grad, q.grad = grad.clone(), grad.clone()
        clip_grad_norm(ours, max_norm)
        th.nn.utils.clip_grad_norm_(reference, max_norm)
        for p, q in zip(ours, reference, strict=True):
            th.testing.assert_close(p.grad, q.grad, rtol=0, atol=0, equal_nan=True, msg=f"case {case}")


def test_parameters_without_gradient_are_left_alone():
    ours, reference = _net(), _net()
    ours_optimizer, reference_optimizer = FlatRMSprop(ours.parameters()), th.optim.RMSprop(reference.parameters())
    for step in range(3):
        _set_grads(ours, step)
        _set_grads(reference, step)
        if step == 1:  # a parameter without gradient in this step
            next(ours.parameters()).grad = next(reference.parameters()).grad = None
        ours_optimizer.step()
        reference_optimizer.step()
        for p, q in zip(ours.parameters(), reference.parameters(), strict=True):
            assert th.equal(p, q)


def test_optimizer_hooks_are_honoured():
    net = _net()
    optimizer = FlatRMSprop(net.parameters())
    calls = []
    optimizer.register_step_post_hook(lambda *args: calls.append(1))
    _set_grads(net, 0)
    optimizer.step()
    assert calls == [1]


def test_a2c_steps_with_flat_rmsprop_as_sb3_passes_rmsprop():
    from sb3_pg import A2C

    model = A2C("MlpPolicy", "CartPole-v1")
    assert model.policy_kwargs["optimizer_class"] is FlatRMSprop and isinstance(model.policy.optimizer, FlatRMSprop)
    assert not hasattr(th.optim.RMSprop, "_flat_groups")  # torch's own class is left as it is


@pytest.mark.parametrize("n", [1, 5, 40, 41, 512, 5000])
def test_explained_variance_as_sb3(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        y_true = (rng.normal(size=n) * rng.uniform(0.1, 100)).astype(np.float32)
        y_pred = (y_true + rng.normal(size=n)).astype(np.float32)
        expected = sb3_explained_variance(y_pred, y_true)
        got = explained_variance(y_pred, y_true)
        assert got == expected or (np.isnan(got) and np.isnan(expected))
    assert np.isnan(explained_variance(np.zeros(3, np.float32), np.ones(3, np.float32)))
