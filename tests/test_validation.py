"""Bad arguments: a ValueError at construction that names the argument and what it accepts."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer

from sb3_pg import A2C, Reinforce
from sb3_pg.common.episode_buffer import EpisodicRolloutBuffer


class TupleActionEnv(gym.Env):
    observation_space = spaces.Box(-1, 1, (2,))
    action_space = spaces.Tuple((spaces.Discrete(2), spaces.Discrete(2)))


class NestedDictEnv(gym.Env):
    observation_space = spaces.Dict({"a": spaces.Dict({"b": spaces.Box(-1, 1, (2,))})})
    action_space = spaces.Discrete(2)


COMMON_CASES = [
    (dict(learning_rate=-1e-3), "learning_rate", ">= 0"),
    (dict(learning_rate=lambda _: -1.0), "learning_rate", ">= 0"),
    (dict(learning_rate="fast"), "learning_rate", ">= 0"),
    (dict(gamma=1.5), "gamma", "[0.0, 1.0]"),
    (dict(gamma=-0.1), "gamma", "[0.0, 1.0]"),
    (dict(gamma=float("nan")), "gamma", "[0.0, 1.0]"),
    (dict(ent_coef=-0.1), "ent_coef", ">= 0"),
    (dict(max_grad_norm=0.0), "max_grad_norm", "> 0"),
    (dict(max_grad_norm=-1.0), "max_grad_norm", "> 0"),
    (dict(max_grad_norm="1"), "max_grad_norm", "> 0"),
    (dict(critic_learning_rate=-1.0), "critic_learning_rate", ">= 0"),
    (dict(n_critic_updates=0, critic_learning_rate=1e-3), "n_critic_updates", ">= 1"),
    (dict(normalize_advantage="yes"), "normalize_advantage", "True, False"),
    (dict(exact_rollouts="yes"), "exact_rollouts", "True, False"),
    (dict(rollout_buffer_kwargs=[1]), "rollout_buffer_kwargs", "dict"),
    (dict(rollout_buffer_kwargs=dict(bogus=1)), "rollout_buffer_kwargs", "does not take"),
    (dict(rollout_buffer_kwargs=dict(gamma=0.5)), "rollout_buffer_kwargs", "the algorithm sets it"),
    (dict(learning_rate=lambda progress: 2e-3 * progress - 1e-3), "learning_rate", "at 0.0"),
    (dict(critic_learning_rate=lambda progress: float("nan")), "critic_learning_rate", "at 1.0"),
    (dict(exact_rollouts=1), "exact_rollouts", "True, False"),
    (dict(use_sde="yes"), "use_sde", "True, False"),
    (dict(sde_sample_freq=4), "sde_sample_freq", "use_sde=True"),
    (dict(stats_window_size=0), "stats_window_size", ">= 1"),
    (dict(stats_window_size=-5), "stats_window_size", ">= 1"),
    (dict(verbose="loud"), "verbose", "0, 1, 2"),
    (dict(verbose=True), "verbose", "0, 1, 2"),
    (dict(policy_kwargs=dict(net_arch="big")), "policy_kwargs['net_arch']", "list of layer sizes"),
    (dict(policy_kwargs=dict(net_arch=dict(pi=[64], qf=[64]))), "policy_kwargs['net_arch']", "dict(pi="),
    (dict(policy_kwargs=dict(net_arch=[64, 0])), "policy_kwargs['net_arch']", "list of layer sizes"),
]

REINFORCE_CASES = [
    (dict(baseline="critic"), "baseline", "'none', 'mean', 'running_mean', 'value'"),
    (dict(reward_to_go="yes"), "reward_to_go", "True, False"),
    (dict(loss_reduction="sum"), "loss_reduction", "'episode_mean', 'step_mean'"),
    (dict(n_episodes=0), "n_episodes", ">= 1"),
    (dict(n_episodes=2.5), "n_episodes", ">= 1"),
    (dict(max_episode_steps=0), "max_episode_steps", ">= 1"),
    (dict(baseline="none", critic_learning_rate=1e-3), "critic_learning_rate", "baseline='value'"),
    (dict(baseline="mean", n_critic_updates=3), "n_critic_updates", "baseline='value'"),
    (dict(rollout_buffer_class=RolloutBuffer), "rollout_buffer_class", "EpisodicRolloutBuffer"),
    (dict(reward_to_go=0), "reward_to_go", "True, False"),
    (dict(normalize_advantage=1), "normalize_advantage", "True, False"),
    (dict(rollout_buffer_kwargs=dict(n_episodes=3)), "rollout_buffer_kwargs", "the algorithm sets it"),
    (dict(rollout_buffer_kwargs=dict(baseline="bogus")), "rollout_buffer_kwargs", "does not take"),
    (dict(n_episodes=np.float64(4.0)), "n_episodes", ">= 1"),
]

A2C_CASES = [
    (dict(n_steps=0), "n_steps", ">= 1"),
    (dict(n_steps=2.5), "n_steps", ">= 1"),
    (dict(gae_lambda=1.1), "gae_lambda", "[0.0, 1.0]"),
    (dict(gae_lambda=-0.5), "gae_lambda", "[0.0, 1.0]"),
    (dict(critic_target="bellman"), "critic_target", "'td_lambda', 'monte_carlo'"),
    (dict(n_critic_updates=3), "n_critic_updates", "critic_learning_rate"),
    (dict(vf_coef=-1.0), "vf_coef", ">= 0"),
    (dict(rms_prop_eps=-1.0), "rms_prop_eps", "> 0"),
    (dict(rms_prop_eps=0.0), "rms_prop_eps", "> 0"),
    (dict(use_rms_prop=False, rms_prop_eps=1e-3), "rms_prop_eps", "use_rms_prop=True"),
    (dict(use_rms_prop=1), "use_rms_prop", "True, False"),
    (dict(normalize_advantage=True, n_steps=1), "normalize_advantage", "at least 2 steps"),
    (dict(rollout_buffer_class=EpisodicRolloutBuffer), "rollout_buffer_class", "fixed n_steps rollouts"),
    (dict(rollout_buffer_kwargs=dict(critic_target="monte_carlo")), "rollout_buffer_kwargs", "the algorithm sets it"),
    (dict(use_rms_prop="no"), "use_rms_prop", "True, False"),
    (dict(critic_target="monte_carlo", rollout_buffer_class=RolloutBuffer), "rollout_buffer_class", "PGRolloutBuffer"),
]

CASES = [(Reinforce, *case) for case in COMMON_CASES + REINFORCE_CASES] + [(A2C, *case) for case in COMMON_CASES + A2C_CASES]


@pytest.mark.parametrize("algo, kwargs, argument, allowed", CASES, ids=[f"{c[0].__name__}-{c[2]}" for c in CASES])
def test_bad_argument_raises_value_error(algo, kwargs, argument, allowed):
    with pytest.raises(ValueError) as error:
        algo("MlpPolicy", "CartPole-v1", **kwargs)
    assert f"`{argument}`" in str(error.value)
    assert allowed in str(error.value)


@pytest.mark.parametrize("algo", [Reinforce, A2C])
@pytest.mark.parametrize("env, message", [(TupleActionEnv(), "action space"), (NestedDictEnv(), "[Nn]ested")])
def test_unsupported_spaces(algo, env, message):
    with pytest.raises(ValueError, match=message) as error:
        algo("MlpPolicy", env)
    assert "`env`" in str(error.value)


@pytest.mark.parametrize("algo", [Reinforce, A2C])
@pytest.mark.parametrize(
    "buffer_kwargs, message",
    [
        (dict(wrong_keyword=1), "unexpected keyword argument 'wrong_keyword'"),
        (dict(gamma=1), "multiple values for keyword argument 'gamma'"),
    ],
)
def test_bad_rollout_buffer_kwargs_raise_sb3s_type_error(algo, buffer_kwargs, message):
    """SB3's own tests (test_buffers.py::test_custom_rollout_buffer) expect these TypeErrors and words."""
    with pytest.raises(TypeError, match=message):
        algo("MlpPolicy", "Pendulum-v1", rollout_buffer_kwargs=buffer_kwargs)


@pytest.mark.parametrize("algo", [Reinforce, A2C])
def test_good_defaults_construct(algo):
    algo("MlpPolicy", "CartPole-v1")


@pytest.mark.parametrize(
    "algo, kwargs",
    [
        (A2C, dict(n_steps=np.int64(5), gamma=np.float32(0.99), learning_rate=np.float64(1e-3))),
        (Reinforce, dict(n_episodes=np.int64(4), gamma=np.float32(0.99), max_grad_norm=np.float32(0.5))),
    ],
)
def test_numpy_scalars_are_taken_as_sb3_takes_them(algo, kwargs):
    algo("MlpPolicy", "CartPole-v1", **kwargs).learn(100)


@pytest.mark.parametrize("algo", [A2C, Reinforce])
def test_sb3s_old_net_arch_spelling_is_taken_with_sb3s_warning(algo):
    """SB3 takes [dict(pi=..., vf=...)] (its spelling before v1.8) with a deprecation warning: so do we."""
    with pytest.warns(UserWarning, match="shared layers in the mlp_extractor are removed"):
        model = algo("MlpPolicy", "CartPole-v1", policy_kwargs=dict(net_arch=[dict(pi=[8], vf=[16])]))
    assert model.policy.mlp_extractor.policy_net[0].out_features == 8
    assert model.policy.mlp_extractor.value_net[0].out_features == 16
