"""The fast forward pass: the same numbers and random stream as SB3's policy, or no fast path at all."""

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import IdentityEnvMultiBinary, IdentityEnvMultiDiscrete, SimpleMultiObsEnv
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_pg import A2C, Reinforce
from sb3_pg.common.fast_forward import FastForward


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Acrobot-v1", "Pendulum-v1", "MountainCarContinuous-v0"])
@pytest.mark.parametrize("net_arch", [[64, 64], dict(pi=[16], vf=[])])
def test_identical_to_sb3_policy(env_id, net_arch):
    model = A2C("MlpPolicy", env_id, policy_kwargs=dict(net_arch=net_arch), seed=0)
    fast = FastForward.build(model.policy)
    assert fast is not None
    obs = np.stack([model.observation_space.sample() for _ in range(16)])
    for seed in range(3):
        th.manual_seed(seed)
        with th.no_grad():
            expected = model.policy(th.as_tensor(obs))
        th.manual_seed(seed)
        got = fast.act(obs, model.device)
        for a, b in zip(expected, got, strict=True):
            assert th.equal(a, b)
    assert th.equal(fast.predict_values(obs, model.device), model.policy.predict_values(th.as_tensor(obs)))
    actions = expected[0].float()
    if env_id in ("CartPole-v1", "Acrobot-v1"):
        actions = actions.long().flatten()
    expected_eval = model.policy.evaluate_actions(th.as_tensor(obs), actions)
    for a, b in zip(expected_eval, fast.evaluate_actions(th.as_tensor(obs), actions), strict=True):
        assert th.equal(a, b)


class CustomPolicy(ActorCriticPolicy):
    """A user's subclass: it may override anything, so it gets SB3's standard path."""


@pytest.mark.parametrize(
    "make_model",
    [
        lambda: A2C("MlpPolicy", IdentityEnvMultiDiscrete(2)),
        lambda: A2C("MlpPolicy", IdentityEnvMultiBinary(2)),
        lambda: A2C("MultiInputPolicy", SimpleMultiObsEnv()),
        lambda: A2C("MlpPolicy", "Pendulum-v1", use_sde=True),
        lambda: A2C(CustomPolicy, "CartPole-v1"),
        lambda: Reinforce("MlpPolicy", "CartPole-v1", policy_kwargs=dict(activation_fn=th.nn.Dropout)),
    ],
    ids=["MultiDiscrete", "MultiBinary", "Dict", "gSDE", "custom-policy", "dropout"],
)
def test_unsupported_policies_use_the_standard_path(make_model):
    model = make_model()
    fast = model._fast_forward()
    assert fast is None or not fast.mode_free
    model.learn(50)


def test_dropout_policy_switches_modes():
    model = Reinforce("MlpPolicy", "CartPole-v1", n_steps=16, policy_kwargs=dict(activation_fn=th.nn.Dropout))
    fast = model._fast_forward()
    assert fast is not None and not fast.mode_free
    model.learn(50)
    assert model.policy.training  # train() ran last, in training mode


def test_discrete_actions_follow_the_policy_distribution():
    """Chi-square test of 20,000 sampled actions against the policy's probabilities."""
    model = A2C("MlpPolicy", make_vec_env("Acrobot-v1", n_envs=1), seed=0)
    with th.no_grad():
        model.policy.action_net.weight.mul_(100)  # a far-from-uniform distribution
    obs = np.repeat(model.observation_space.sample()[None], 20_000, axis=0)
    actions, _, log_probs = model._fast_forward().act(obs, model.device)
    probs = model.policy.get_distribution(th.as_tensor(obs[:1])).distribution.probs[0].detach().numpy()
    counts = np.bincount(actions.numpy(), minlength=len(probs))
    expected = probs * len(obs)
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 13.8  # 99.9% quantile of chi-square with 2 degrees of freedom
    np.testing.assert_allclose(log_probs.numpy(), np.log(probs)[actions.numpy()], rtol=1e-5)


def test_continuous_actions_follow_the_policy_distribution():
    """Mean and standard deviation of 20,000 sampled actions against the policy's Gaussian."""
    model = A2C("MlpPolicy", "LunarLanderContinuous-v3", seed=0)
    with th.no_grad():
        model.policy.log_std.copy_(th.tensor([-1.0, 0.5]))
    obs = np.repeat(model.observation_space.sample()[None], 20_000, axis=0)
    actions, _, _ = model._fast_forward().act(obs, model.device)
    distribution = model.policy.get_distribution(th.as_tensor(obs[:1])).distribution
    mean, std = distribution.mean[0].detach().numpy(), distribution.stddev[0].detach().numpy()
    # 5 standard errors
    assert np.all(np.abs(actions.numpy().mean(axis=0) - mean) < 5 * std / np.sqrt(len(obs)))
    assert np.all(np.abs(actions.numpy().std(axis=0) / std - 1) < 5 / np.sqrt(2 * len(obs)))
