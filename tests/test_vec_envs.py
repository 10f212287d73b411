"""Gymnasium's vector envs as SB3 VecEnvs: the same transitions as DummyVecEnv on the same seeds, and
every algorithm trains, normalizes, evaluates and saves through them."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from stable_baselines3 import A2C as SB3_A2C
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize

from sb3_pg import A2C, Reinforce
from sb3_pg.vec_envs import (
    CartPoleSameStepVectorEnv,
    GymnasiumVecEnv,
    check_vec_env,
    make_gymnasium_vec_env,
    make_vec_env_of,
)


def _rollout(env, n_steps: int, seed: int = 0):
    """Transitions under random actions drawn from a fixed stream (the same for every env kind)."""
    rng = np.random.default_rng(seed)
    env.seed(seed)
    env.action_space.seed(seed)
    obs = env.reset()
    record = [("reset", np.array(obs))]
    for _ in range(n_steps):
        if isinstance(env.action_space, gym.spaces.Discrete):
            actions = rng.integers(env.action_space.n, size=env.num_envs)
        else:
            low, high = env.action_space.low, env.action_space.high
            actions = rng.uniform(low, high, size=(env.num_envs, *env.action_space.shape)).astype(np.float32)
        obs, rewards, dones, infos = env.step(actions)
        ends = [
            (i, np.array(info["terminal_observation"]), info["TimeLimit.truncated"], *info["episode"].values())
            for i, info in enumerate(infos)
            if dones[i]
        ]
        record.append((np.array(obs), np.array(rewards, dtype=np.float32), np.array(dones), ends))
    env.close()
    return record


def _assert_same(expected, actual):
    assert len(expected) == len(actual)
    n_ends = 0
    for step, (want, got) in enumerate(zip(expected, actual, strict=True)):
        if isinstance(want[0], str):
            np.testing.assert_array_equal(want[1], got[1])
            continue
        for a, b in zip(want[:3], got[:3], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"step {step}")
        assert len(want[3]) == len(got[3]), f"step {step}"
        for (i, terminal, truncated, r, length, _), (j, terminal2, truncated2, r2, length2, _) in zip(
            want[3], got[3], strict=True
        ):
            assert i == j and truncated == truncated2 and length == length2 and r == pytest.approx(r2, abs=1e-4)
            np.testing.assert_array_equal(terminal, terminal2)
            n_ends += 1
    assert n_ends > 0  # the comparison saw episodes end


@pytest.mark.parametrize(
    "env_id, n_steps",
    [("CartPole-v1", 300), ("Pendulum-v1", 450)],  # Pendulum: every episode is a time-limit truncation at 200
)
@pytest.mark.parametrize("mode", ["sync", "async", "same_step"])
def test_same_transitions_as_dummy_vec_env(env_id, n_steps, mode):
    n_envs = 3
    expected = _rollout(make_vec_env(env_id, n_envs=n_envs), n_steps)
    if mode == "same_step":
        vector_env = gym.make_vec(env_id, n_envs, "sync", vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
        env = GymnasiumVecEnv(vector_env)
    else:
        env = make_gymnasium_vec_env(env_id, n_envs, vectorization_mode=mode)
    _assert_same(expected, _rollout(env, n_steps))


def test_truncations_are_marked_for_bootstrapping():
    env = make_gymnasium_vec_env("Pendulum-v1", 2, seed=0)
    env.reset()
    for _ in range(200):
        _, _, dones, infos = env.step(np.zeros((2, 1), dtype=np.float32))
    assert dones.all() and all(info["TimeLimit.truncated"] for info in infos)
    assert all(info["episode"]["l"] == 200 for info in infos)


def test_a_vector_env_without_partial_reset_is_refused():
    vector_env = gym.make_vec("CartPole-v1", 4, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="reset_mask"):
        GymnasiumVecEnv(vector_env)
    vector_env.close()
    with pytest.raises(ValueError, match="vectorization_mode"):
        make_gymnasium_vec_env("CartPole-v1", 2, vectorization_mode="threads")


def test_native_cartpole_is_gymnasiums_with_each_reset_step_taken_at_the_end_of_the_episode():
    """One env, the same seed and actions: Gymnasium's NEXT_STEP CartPole with its reset steps (action
    ignored, reward 0) removed is our same-step one, draw for draw."""
    ours = CartPoleSameStepVectorEnv(num_envs=1, max_episode_steps=15)
    theirs = gym.make_vec("CartPole-v1", 1, vectorization_mode="vector_entry_point", max_episode_steps=15)
    obs, _ = ours.reset(seed=3)
    their_obs, _ = theirs.reset(seed=3)
    np.testing.assert_array_equal(obs, their_obs)
    actions = np.random.default_rng(0).integers(2, size=400)
    ends = {"terminated": 0, "truncated": 0}
    for action in actions:
        obs, reward, terminated, truncated, info = ours.step(np.array([action]))
        their_obs, their_reward, their_terminated, their_truncated, _ = theirs.step(np.array([action]))
        assert (reward, terminated, truncated) == (their_reward, their_terminated, their_truncated)
        if terminated[0] or truncated[0]:
            ends["terminated" if terminated[0] else "truncated"] += 1
            assert info["_final_obs"][0]
            np.testing.assert_array_equal(info["final_obs"][0], their_obs[0])  # Gymnasium's last observation
            their_obs, their_reward, *_ = theirs.step(np.array([1 - action]))  # its reset step
            assert their_reward[0] == 0.0
        else:
            assert "final_obs" not in info
        np.testing.assert_array_equal(obs, their_obs)
    assert ends["terminated"] > 3 and ends["truncated"] > 3


def test_native_cartpole_gives_sb3s_semantics_and_reproduces_runs():
    def rollout(seed):
        env = make_vec_env_of("gymnasium-native", "CartPole-v1", 64, seed=seed)
        return _rollout(env, 600, seed)

    record = rollout(0)
    lengths, truncated = [], []
    for obs, rewards, _, ends in record[1:]:
        assert (rewards == 1.0).all()  # no reset step: every step is a real one
        for i, terminal, was_truncated, episode_return, length, _ in ends:
            assert (np.abs(obs[i]) <= 0.05).all()  # the new episode's first observation
            assert was_truncated == (length == 500) and episode_return == length
            # a termination leaves the pole or the cart out of bounds
            assert was_truncated or abs(terminal[2]) > 12 * 2 * np.pi / 360 or abs(terminal[0]) > 2.4
            lengths.append(length)
            truncated.append(was_truncated)
    assert len(lengths) > 100 and not all(truncated)
    _assert_same(record, rollout(0))
    with pytest.raises(AssertionError):
        _assert_same(record, rollout(1))


def test_native_vector_envs_that_cannot_give_sb3s_semantics_are_refused():
    with pytest.raises(ValueError, match="argument --vec-env: gymnasium-native: 'Pendulum-v1' has no vector implementation"):
        check_vec_env("--vec-env", "gymnasium-native", "Pendulum-v1")
    with pytest.raises(ValueError, match="'Pendulum-v1' has no vector implementation"):
        make_gymnasium_vec_env("Pendulum-v1", 2, vectorization_mode="vector_entry_point")
    check_vec_env("--vec-env", "gymnasium-native", "CartPole-v1")


def test_attributes_and_methods():
    env = make_gymnasium_vec_env("CartPole-v1", 2, seed=0)
    assert env.get_attr("spec")[0].id == "CartPole-v1"
    env.set_attr("marker", 7, indices=[1])
    assert env.get_attr("marker", indices=[1]) == [7]
    assert len(env.env_method("get_wrapper_attr", "spec")) == 2
    with pytest.raises(ValueError, match="indices"):
        env.env_method("get_wrapper_attr", "spec", indices=[0])
    env.close()


@pytest.mark.parametrize(
    "algo, kwargs", [(A2C, {}), (A2C, {"exact_rollouts": True}), (Reinforce, {"n_episodes": 4}), (SB3_A2C, {})]
)
@pytest.mark.parametrize("mode", ["sync", "vector_entry_point"])
def test_algorithms_train_evaluate_and_save_through_it(algo, kwargs, mode, tmp_path):
    env = VecNormalize(make_gymnasium_vec_env("CartPole-v1", 4, seed=0, vectorization_mode=mode))
    model = algo("MlpPolicy", env, seed=0, **kwargs).learn(2_000)
    assert model.ep_info_buffer and model.num_timesteps >= 2_000  # rollout/ep_rew_mean comes from the episode infos
    eval_env = VecNormalize(make_gymnasium_vec_env("CartPole-v1", 1, seed=100), training=False, norm_reward=False)
    eval_env.obs_rms = env.obs_rms
    mean, _ = evaluate_policy(model, eval_env, n_eval_episodes=3, warn=False)
    assert mean > 0
    model.save(tmp_path / "model.zip")
    loaded = algo.load(tmp_path / "model.zip", env=env)
    loaded.learn(500, reset_num_timesteps=False)
    env.close()


def _envpool_or_skip():
    return pytest.importorskip("envpool")


@pytest.mark.parametrize("env_id, n_steps, limit", [("CartPole-v1", 300, 500), ("Pendulum-v1", 450, 200)])
def test_envpool_gives_sb3_semantics(env_id, n_steps, limit):
    _envpool_or_skip()
    from sb3_pg.vec_envs import make_envpool_vec_env

    env = make_envpool_vec_env(env_id, 3, seed=0)
    obs = env.reset()
    rng = np.random.default_rng(0)
    lengths, returns = np.zeros(3, dtype=int), np.zeros(3)
    ends = 0
    for _ in range(n_steps):
        if isinstance(env.action_space, gym.spaces.Discrete):
            actions = rng.integers(2, size=3).astype(np.int32)
        else:
            actions = rng.uniform(-2, 2, size=(3, 1)).astype(np.float32)
        new_obs, rewards, dones, infos = env.step(actions)
        lengths += 1
        returns += rewards
        for i in np.flatnonzero(dones):
            info = infos[i]
            ends += 1
            assert info["episode"]["l"] == lengths[i] and info["TimeLimit.truncated"] == (lengths[i] == limit)
            assert info["episode"]["r"] == pytest.approx(returns[i], abs=1e-3)
            assert not np.array_equal(info["terminal_observation"], new_obs[i])  # the new episode's first
            lengths[i], returns[i] = 0, 0.0
        obs = new_obs
    assert ends > 0 and obs.shape == (3, *env.observation_space.shape)
    assert env.env_is_wrapped(gym.wrappers.TimeLimit) == [True] * 3
    # seed(s) reseeds env i with s + i, as make_vec_env does (EnvPool itself ignores reset(seed=...))
    env.seed(5)
    reseeded = env.reset()
    np.testing.assert_array_equal(reseeded, make_envpool_vec_env(env_id, 3, seed=5).reset())
    np.testing.assert_array_equal(reseeded[1], make_envpool_vec_env(env_id, 1, seed=6).reset()[0])
    assert not np.array_equal(reseeded, make_envpool_vec_env(env_id, 3, seed=0).reset())
    assert env.pool.config["max_episode_steps"] == limit  # the pool's options are kept
    env.close()


def test_envpool_trains_every_algorithm():
    _envpool_or_skip()
    from sb3_pg.vec_envs import make_envpool_vec_env

    for algo in (A2C, Reinforce, SB3_A2C):
        model = algo("MlpPolicy", make_envpool_vec_env("CartPole-v1", 4, seed=0), seed=0).learn(1_500)
        assert model.ep_info_buffer


@pytest.mark.parametrize("kind", ["dummy", "gymnasium", "gymnasium-native", "envpool"])
@pytest.mark.parametrize("monitor", [True, False])
def test_every_kind_with_or_without_monitor_statistics_and_env_kwargs(kind, monitor):
    if kind == "envpool":
        _envpool_or_skip()
    env = make_vec_env_of(kind, "CartPole-v1", 2, seed=0, env_kwargs={"max_episode_steps": 7}, monitor=monitor)
    env.reset()
    for _ in range(7):
        _, _, dones, infos = env.step(np.zeros(2, dtype=np.int64))
    assert dones.all() and all(info["TimeLimit.truncated"] for info in infos)  # the env_kwargs limit
    assert all(("episode" in info) == monitor for info in infos)
    env.close()
