"""Returns and advantages checked against numbers computed by hand on scripted episodes."""

import numpy as np
import pytest
import torch as th
from envs import ScriptedEnv
from gymnasium.wrappers import TimeLimit
from helpers import collect, set_constant_value
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_pg import A2C, Reinforce
from sb3_pg.common.returns import compute_gae
from sb3_pg.reinforce.reinforce import batch_episodes

GAMMA = 0.5
CRITIC_VALUE = 10.0
# Episode 0 terminates, episode 1 is truncated by a time limit.
EPISODES = [([1.0, 2.0, 3.0], "terminated"), ([1.0, 1.0], "truncated")]


def make_reinforce(episodes, n_episodes, n_envs=1, **kwargs) -> Reinforce:
    env = DummyVecEnv([lambda i=i: TimeLimit(ScriptedEnv(episodes[i % len(episodes)]), 10_000) for i in range(n_envs)])
    model = Reinforce("MlpPolicy", env, n_episodes=n_episodes, gamma=GAMMA, policy_kwargs=dict(net_arch=[]), seed=0, **kwargs)
    set_constant_value(model, CRITIC_VALUE)
    return model


def batch_weights(model: Reinforce) -> tuple[np.ndarray, np.ndarray]:
    """The returns G_t and the weights w_t - b_t of the batch just collected, episode after episode."""
    data = next(model.rollout_buffer.get())
    rho = th.ones(batch_episodes(data))
    return data.returns.numpy(), model.weights(data, rho).numpy()


@pytest.mark.parametrize(
    "baseline, reward_to_go, expected_returns, expected_weights",
    [
        # G_t = r_t + 0.5 G_{t+1}; without a critic the truncated episode just ends
        ("none", True, [2.75, 3.5, 3.0, 1.5, 1.0], [2.75, 3.5, 3.0, 1.5, 1.0]),
        ("none", False, [2.75, 3.5, 3.0, 1.5, 1.0], [2.75, 2.75, 2.75, 1.5, 1.5]),
        # the other episode's G at the same step (none once it has ended: 0): [1.5, 1.0, 0] and [2.75, 3.5]
        ("mean", True, [2.75, 3.5, 3.0, 1.5, 1.0], [1.25, 2.5, 3.0, -1.25, -2.5]),
        # the other episode's R(tau): 1.5 for the first, 2.75 for the second
        ("mean", False, [2.75, 3.5, 3.0, 1.5, 1.0], [1.25, 1.25, 1.25, -1.25, -1.25]),
        # with a critic V = 10, the truncation adds 0.5 * 10 to the last reward: [1, 6] -> G = [4, 6]
        ("value", True, [2.75, 3.5, 3.0, 4.0, 6.0], [-7.25, -6.5, -7.0, -6.0, -4.0]),
        ("value", False, [2.75, 3.5, 3.0, 4.0, 6.0], [-7.25, -7.25, -7.25, -6.0, -6.0]),
    ],
)
def test_reinforce_returns_by_hand(baseline, reward_to_go, expected_returns, expected_weights):
    model = make_reinforce([EPISODES], n_episodes=2, baseline=baseline, reward_to_go=reward_to_go)
    collect(model)
    returns, weights = batch_weights(model)
    np.testing.assert_allclose(returns, expected_returns, rtol=1e-6)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-6)


def test_importance_weights_enter_the_mean_baseline():
    model = make_reinforce([EPISODES], n_episodes=2, baseline="mean")
    collect(model)
    data = next(model.rollout_buffer.get())
    # rho = (2, 1): the first episode counts twice in the second's baseline: [2 * 2.75, 2 * 3.5]
    weights = model.weights(data, th.tensor([2.0, 1.0])).numpy()
    np.testing.assert_allclose(weights[3:], [1.5 - 5.5, 1.0 - 7.0], rtol=1e-6)


def test_batches_are_episodes_in_start_order_and_keep_every_step():
    # env 0: episodes of 2 steps; env 1: one episode of 5 steps. Two episodes a batch.
    episodes = [[([1.0, 1.0], "terminated")], [([1.0] * 5, "terminated")]]
    model = make_reinforce(episodes, n_episodes=2, n_envs=2, baseline="none", stale_episodes="importance")
    collect(model)
    buffer = model.rollout_buffer
    # Batch 0: the two episodes that started first (env 0's first, env 1's); the rollout ends when
    # env 1's ends, after 5 steps. Env 0 meanwhile began episodes 2 and 3 (batch 1): kept.
    assert model.num_timesteps == 10
    np.testing.assert_array_equal(buffer.batch_rows().sum(axis=0), [2, 5])
    np.testing.assert_array_equal(buffer.lengths, [5, 5])
    returns, _ = batch_weights(model)
    np.testing.assert_allclose(returns, [1.5, 1.0, 1.9375, 1.875, 1.75, 1.5, 1.0])

    # Batch 1 (env 0's episodes 2 and 3) needs one more step; env 1 begins batch 2 meanwhile
    collect(model)
    assert model.num_timesteps == 12
    np.testing.assert_array_equal(buffer.batch_rows().sum(axis=0), [4, 0])
    data = next(buffer.get())
    np.testing.assert_array_equal(data.episode_index.numpy(), [0, 0, 1, 1])
    np.testing.assert_array_equal(data.time_index.numpy(), [0, 1, 0, 1])
    # every episode starts at its step 0
    assert (data.observations[data.time_index == 0, 1] == 0).all()
    assert buffer.n_batch_steps == 11  # all but env 1's step of batch 2


def test_stale_episodes_are_played_out_and_not_trained_on():
    # As above, with stale_episodes="drop": env 0's episodes begun while batch 0 is full are dropped
    episodes = [[([1.0, 1.0], "terminated")], [([1.0] * 5, "terminated")]]
    model = make_reinforce(episodes, n_episodes=2, n_envs=2, baseline="none")
    collect(model)
    buffer = model.rollout_buffer
    assert model.num_timesteps == 10
    np.testing.assert_array_equal(buffer.batch_rows().sum(axis=0), [2, 5])
    np.testing.assert_array_equal(buffer.lengths, [2, 5])  # env 0's steps 2 to 4 are not stored
    assert buffer.n_dropped_steps == 3
    returns, _ = batch_weights(model)
    np.testing.assert_allclose(returns, [1.5, 1.0, 1.9375, 1.875, 1.75, 1.5, 1.0])

    # Batch 1: env 1's next episode (steps 5 to 9) and env 0's first one begun after the update
    # (steps 6 and 7); env 0's stale step 5 and its episode begun at step 8 are dropped
    collect(model)
    assert model.num_timesteps == 20
    data = next(buffer.get())
    np.testing.assert_array_equal(data.episode_index.numpy(), [0, 0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(data.time_index.numpy(), [0, 1, 0, 1, 2, 3, 4])
    assert buffer.n_dropped_steps == 6
    assert buffer.n_batch_steps + buffer.n_dropped_steps == model.num_timesteps


def test_reinforce_buffer_grows():
    model = make_reinforce([[([1.0] * 600, "terminated")]], n_episodes=1, baseline="none")
    collect(model)
    assert model.rollout_buffer.buffer_size >= 600
    returns, _ = batch_weights(model)
    np.testing.assert_allclose(returns[0], sum(GAMMA**k for k in range(600)), rtol=1e-6)


def naive_gae(rewards, dones, values, last_value, gamma, lam):
    """Sum_k (gamma lambda)^k delta_{t+k} over each episode, the textbook form, one env."""
    n = len(rewards)
    next_values = [*values[1:], last_value]
    deltas = [rewards[t] + gamma * next_values[t] * (1 - dones[t]) - values[t] for t in range(n)]
    advantages = []
    for t in range(n):
        total, discount = 0.0, 1.0
        for k in range(t, n):
            total += discount * deltas[k]
            if dones[k]:
                break
            discount *= gamma * lam
        advantages.append(total)
    return np.array(advantages)


# Rollout of 6 steps: episode [1, 2] terminates, [1, 1] is truncated, then [1, 2, 3] is cut at 2 steps.
A2C_EPISODES = [([1.0, 2.0], "terminated"), ([1.0, 1.0], "truncated"), ([1.0, 2.0, 3.0], "terminated")]


@pytest.mark.parametrize(
    "gae_lambda, expected",
    [
        # TD(0): r + 0.5 * 10 * (1 - done) - 10; the truncated step's reward carries + 0.5 * 10
        (0.0, [-4.0, -8.0, -4.0, -4.0, -4.0, -3.0]),
        # n-step Monte Carlo: discounted sum to the episode's end (or the cut, bootstrapped with 10)
        (1.0, [-8.0, -8.0, -6.0, -4.0, -5.5, -3.0]),
    ],
)
def test_a2c_advantages_by_hand(gae_lambda, expected):
    env = DummyVecEnv([lambda: ScriptedEnv(A2C_EPISODES)])
    model = A2C("MlpPolicy", env, n_steps=6, gamma=GAMMA, gae_lambda=gae_lambda, policy_kwargs=dict(net_arch=[]), seed=0)
    set_constant_value(model, CRITIC_VALUE)
    collect(model)
    np.testing.assert_allclose(model.rollout_buffer.advantages[:, 0], expected, rtol=1e-6)


@pytest.mark.parametrize("gae_lambda", [0.0, 0.5, 0.95, 1.0])
@pytest.mark.parametrize("critic_target", ["td_lambda", "monte_carlo"])
def test_a2c_advantages_and_targets_match_textbook_form(gae_lambda, critic_target):
    env = DummyVecEnv([lambda: ScriptedEnv(A2C_EPISODES)])
    model = A2C(
        "MlpPolicy",
        env,
        n_steps=6,
        gamma=GAMMA,
        gae_lambda=gae_lambda,
        critic_target=critic_target,
        policy_kwargs=dict(net_arch=[]),
        seed=0,
    )
    set_constant_value(model, CRITIC_VALUE)
    collect(model)
    # rewards as the buffer sees them: the truncated step carries gamma * V(terminal obs)
    rewards = [1.0, 2.0, 1.0, 1.0 + GAMMA * CRITIC_VALUE, 1.0, 2.0]
    dones = [0, 1, 0, 1, 0, 0]
    values = [CRITIC_VALUE] * 6
    expected = naive_gae(rewards, dones, values, CRITIC_VALUE, GAMMA, gae_lambda)
    np.testing.assert_allclose(model.rollout_buffer.advantages[:, 0], expected, rtol=1e-6)
    target_lambda = gae_lambda if critic_target == "td_lambda" else 1.0
    expected_returns = naive_gae(rewards, dones, values, CRITIC_VALUE, GAMMA, target_lambda) + CRITIC_VALUE
    np.testing.assert_allclose(model.rollout_buffer.returns[:, 0], expected_returns, rtol=1e-6)


@pytest.mark.parametrize(
    ("n_steps", "gamma", "gae_lambda"), [(16, 0.97, 0.9), (5, 0.99, 1.0), (7, 0.9, 0.0), (1, 0.99, 0.95), (64, 1.0, 1.0)]
)
def test_compute_gae_matches_sb3_buffer(n_steps, gamma, gae_lambda):
    """The shared maths gives SB3's numbers to the bit on random data."""
    from gymnasium import spaces
    from stable_baselines3.common.buffers import RolloutBuffer

    rng = np.random.default_rng(n_steps)
    n_envs = 3
    buffer = RolloutBuffer(
        n_steps, spaces.Box(-1, 1, (1,)), spaces.Discrete(2), gamma=gamma, gae_lambda=gae_lambda, n_envs=n_envs
    )
    buffer.rewards[:] = rng.normal(size=(n_steps, n_envs))
    buffer.values[:] = rng.normal(size=(n_steps, n_envs))
    buffer.episode_starts[:] = rng.random((n_steps, n_envs)) < 0.2
    last_values, dones = rng.normal(size=n_envs).astype(np.float32), rng.random(n_envs) < 0.5
    import torch as th

    buffer.compute_returns_and_advantage(th.as_tensor(last_values), dones)
    ours = compute_gae(buffer.rewards, buffer.values, buffer.episode_starts, last_values, dones, gamma, gae_lambda)
    np.testing.assert_array_equal(ours, buffer.advantages)
