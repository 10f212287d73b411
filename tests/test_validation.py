"""Bad arguments: a ValueError at construction that names the argument and what it accepts."""

import gymnasium as gym
import pytest
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer

from sb3_pg import A2C, Reinforce


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
    (dict(max_grad_norm=-1.0), "max_grad_norm", ">= 0"),
    (dict(critic_learning_rate=-1.0), "critic_learning_rate", ">= 0"),
    (dict(n_critic_updates=0, critic_learning_rate=1e-3), "n_critic_updates", ">= 1"),
    (dict(normalize_advantage="yes"), "normalize_advantage", "True, False"),
    (dict(exact_rollouts="yes"), "exact_rollouts", "True, False"),
    (dict(rollout_buffer_kwargs=[1]), "rollout_buffer_kwargs", "dict"),
]

REINFORCE_CASES = [
    (dict(baseline="critic"), "baseline", "'none', 'mean', 'value'"),
    (dict(reward_to_go="yes"), "reward_to_go", "True, False"),
    (dict(loss_reduction="sum"), "loss_reduction", "'episode_mean', 'step_mean'"),
    (dict(n_episodes=0), "n_episodes", ">= 1"),
    (dict(n_episodes=2.5), "n_episodes", ">= 1"),
    (dict(max_episode_steps=0), "max_episode_steps", ">= 1"),
    (dict(rollout_buffer_kwargs=dict(n_episodes=3)), "rollout_buffer_kwargs", "pass `n_episodes`"),
    (dict(baseline="none", critic_learning_rate=1e-3), "critic_learning_rate", "baseline='value'"),
    (dict(baseline="mean", n_critic_updates=3), "n_critic_updates", "baseline='value'"),
    (dict(rollout_buffer_class=RolloutBuffer), "rollout_buffer_class", "EpisodicRolloutBuffer"),
]

A2C_CASES = [
    (dict(n_steps=0), "n_steps", ">= 1"),
    (dict(n_steps=2.5), "n_steps", ">= 1"),
    (dict(gae_lambda=1.1), "gae_lambda", "[0.0, 1.0]"),
    (dict(gae_lambda=-0.5), "gae_lambda", "[0.0, 1.0]"),
    (dict(critic_target="bellman"), "critic_target", "'td_lambda', 'monte_carlo'"),
    (dict(n_critic_updates=3), "n_critic_updates", "critic_learning_rate"),
    (dict(vf_coef=-1.0), "vf_coef", ">= 0"),
    (dict(rms_prop_eps=-1.0), "rms_prop_eps", ">= 0"),
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
def test_good_defaults_construct(algo):
    algo("MlpPolicy", "CartPole-v1")
