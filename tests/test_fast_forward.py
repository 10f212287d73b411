"""The fast forward pass: the same numbers and random stream as SB3's policy, or no fast path at all."""

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from scipy import stats
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import FakeImageEnv, IdentityEnvMultiBinary, IdentityEnvMultiDiscrete, SimpleMultiObsEnv
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
        lambda: A2C("MlpPolicy", FakeImageEnv(screen_height=36, screen_width=36, n_channels=1), n_steps=4),
    ],
    ids=["MultiDiscrete", "MultiBinary", "Dict", "gSDE", "custom-policy", "dropout", "image-MlpPolicy"],
)
def test_unsupported_policies_use_the_standard_path(make_model):
    model = make_model()
    fast = model._fast_forward()
    assert fast is None or not fast.mode_free
    model.learn(50)


def test_dropout_policy_switches_modes():
    model = Reinforce("MlpPolicy", "CartPole-v1", n_episodes=4, policy_kwargs=dict(activation_fn=th.nn.Dropout))
    fast = model._fast_forward()
    assert fast is not None and not fast.mode_free
    model.learn(50)
    assert model.policy.training  # train() ran last, in training mode


def _far_from_uniform(model):
    with th.no_grad():
        model.policy.action_net.weight.mul_(5)
        if hasattr(model.policy, "log_std"):
            model.policy.log_std.copy_(th.linspace(-1.0, 0.5, model.policy.log_std.numel()))
    return model


ROLLOUT_PATHS = {
    # name: (make the model, which rollout path it must take)
    "Discrete-numpy": (lambda: A2C("MlpPolicy", "Acrobot-v1", seed=0), "numpy"),
    "Discrete-torch": (lambda: A2C("MlpPolicy", "Acrobot-v1", seed=0, exact_rollouts=True), "torch"),
    "Box-numpy": (lambda: Reinforce("MlpPolicy", "LunarLanderContinuous-v3", seed=0), "numpy"),
    "Box-torch": (lambda: A2C("MlpPolicy", "LunarLanderContinuous-v3", seed=0, exact_rollouts=True), "torch"),
    "Box-relu-numpy": (
        lambda: A2C("MlpPolicy", "Pendulum-v1", seed=0, policy_kwargs=dict(activation_fn=th.nn.ReLU)),
        "numpy",
    ),
    "Discrete-asymmetric-numpy": (  # actor and critic of different depths: not fused into one network
        lambda: A2C("MlpPolicy", "Acrobot-v1", seed=0, policy_kwargs=dict(net_arch=dict(pi=[32], vf=[64, 64]))),
        "numpy",
    ),
    "Box-no-hidden-numpy": (
        lambda: A2C("MlpPolicy", "Pendulum-v1", seed=0, policy_kwargs=dict(net_arch=dict(pi=[], vf=[]))),
        "numpy",
    ),
    "MultiDiscrete-sb3": (lambda: A2C("MlpPolicy", IdentityEnvMultiDiscrete(3), seed=0), "sb3"),
    "MultiBinary-sb3": (lambda: Reinforce("MlpPolicy", TimeLimit(IdentityEnvMultiBinary(3), 100), seed=0), "sb3"),
}


@pytest.mark.parametrize("name", list(ROLLOUT_PATHS))
def test_rollout_actions_follow_the_policy_distribution(name):
    """20,000 actions from the rollout path (whichever it is) against SB3's distribution of the policy:
    chi-square per action dimension for discrete spaces, Kolmogorov-Smirnov per dimension for Box;
    and the stored log-probabilities and values are the policy's."""
    make_model, path = ROLLOUT_PATHS[name]
    model = _far_from_uniform(make_model())
    assert (model._numpy_actor() is not None) == (path == "numpy")
    assert (model._fast_forward() is not None) == (path != "sb3")
    n = 20_000
    obs = np.repeat(model.observation_space.sample()[None], n, axis=0)
    actions, _, values, log_probs = model._act(obs)
    obs_tensor = th.as_tensor(obs[:1]).float()
    distribution = model.policy.get_distribution(obs_tensor).distribution
    if isinstance(model.action_space, spaces.Box):
        mean, std = distribution.mean[0].detach().numpy(), distribution.stddev[0].detach().numpy()
        for dim in range(actions.shape[1]):
            assert stats.kstest((actions[:, dim] - mean[dim]) / std[dim], "norm").pvalue > 1e-3, dim
    else:
        actions = actions.reshape(n, -1)
        if isinstance(model.action_space, spaces.MultiBinary):
            probs = [np.array([1 - p, p]) for p in distribution.probs[0].detach().numpy()]
        elif isinstance(model.action_space, spaces.MultiDiscrete):
            probs = [d.probs[0].detach().numpy() for d in distribution]
        else:
            probs = [distribution.probs[0].detach().numpy()]
        for dim, p in enumerate(probs):
            counts = np.bincount(actions[:, dim].astype(int), minlength=len(p))
            assert min(p) * n >= 5  # chi-square's approximation holds
            p = p.astype(np.float64)
            assert stats.chisquare(counts, p / p.sum() * n).pvalue > 1e-3, dim
    # Log-probabilities and values as the policy computes them for these actions
    with th.no_grad():
        eval_actions = th.as_tensor(actions[:100])
        if isinstance(model.action_space, spaces.Discrete):
            eval_actions = eval_actions.long().flatten()
        expected_values, expected_log_probs, _ = model.policy.evaluate_actions(th.as_tensor(obs[:100]).float(), eval_actions)
    np.testing.assert_allclose(log_probs[:100].numpy(), expected_log_probs.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(values[:100].numpy(), expected_values.numpy(), rtol=1e-5, atol=1e-6)


def test_numpy_actor_follows_parameter_updates_and_loads(tmp_path):
    """The NumPy actor acts with the policy's parameters: after training, loading or replacing
    parameters, the values it computes in the next rollout are the policy's."""
    from helpers import collect

    model = A2C("MlpPolicy", "CartPole-v1", seed=0)

    def check(model):
        assert model._numpy_actor() is not None
        collect(model)  # a rollout with no user code: the actor takes the parameters at its start
        buffer = model.rollout_buffer
        expected = model.policy.predict_values(th.as_tensor(buffer.observations[0])).detach().flatten()
        th.testing.assert_close(th.as_tensor(buffer.values[0]), expected, rtol=1e-5, atol=1e-6)

    model.learn(500)
    check(model)
    other = A2C("MlpPolicy", "CartPole-v1", seed=1).learn(100)
    model.set_parameters(other.get_parameters())
    check(model)
    with th.no_grad():
        model.policy.value_net.weight.data = model.policy.value_net.weight.data * 2  # new memory
    check(model)
    with th.no_grad():
        model.policy.mlp_extractor.value_net[0].bias.add_(1.0)  # an in-place edit
    check(model)
    model.save(tmp_path / "model.zip")
    loaded = A2C.load(tmp_path / "model.zip", env=make_vec_env("CartPole-v1"))
    loaded.learn(10)
    check(loaded)


def test_numpy_rollouts_are_reproducible_with_a_seed():
    runs = [A2C("MlpPolicy", "CartPole-v1", seed=3).learn(200) for _ in range(2)]
    for p, q in zip(runs[0].policy.parameters(), runs[1].policy.parameters(), strict=True):
        assert th.equal(p, q)
