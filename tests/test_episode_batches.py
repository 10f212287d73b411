"""REINFORCE's batches of complete episodes: episode limits, trained fraction, schedules, resets."""

import gymnasium as gym
import numpy as np
import pytest
from envs import NeverEndingEnv, ScriptedEnv
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_pg import A2C, Reinforce


def test_an_env_without_episode_limit_is_refused():
    for env in (NeverEndingEnv(), DummyVecEnv([NeverEndingEnv])):
        with pytest.raises(ValueError, match=r"`env` has no episode limit.*max_episode_steps"):
            Reinforce("MlpPolicy", env)


def test_max_episode_steps_ends_every_episode():
    model = Reinforce("MlpPolicy", NeverEndingEnv(), max_episode_steps=20, n_episodes=2, seed=0)
    model.learn(100)
    assert model._n_updates >= 2
    assert model.rollout_buffer.buffer_size <= 256  # bounded: never grew
    assert model.ep_info_buffer[0]["l"] == 20


def test_max_episode_steps_is_refused_for_a_vec_env():
    with pytest.raises(ValueError, match=r"`max_episode_steps`.*TimeLimit"):
        Reinforce("MlpPolicy", DummyVecEnv([lambda: TimeLimit(NeverEndingEnv(), 5)]), max_episode_steps=5)


def test_set_env_refuses_an_env_without_limit():
    model = Reinforce("MlpPolicy", "CartPole-v1")
    with pytest.raises(ValueError, match="no episode limit"):
        model.set_env(DummyVecEnv([NeverEndingEnv]))


def test_truncation_without_a_critic_warns_once():
    model = Reinforce("MlpPolicy", NeverEndingEnv(), max_episode_steps=5, n_episodes=1, baseline="none", seed=0)
    with pytest.warns(UserWarning, match="no critic to bootstrap") as record:
        model.learn(50)
    assert len([w for w in record if "no critic" in str(w.message)]) == 1


@pytest.mark.parametrize("stale_episodes", ["drop", "importance"])
@pytest.mark.parametrize("n_envs", [1, 4])
def test_trained_fraction_is_logged_and_every_step_accounted_for(n_envs, stale_episodes):
    model = Reinforce("MlpPolicy", make_vec_env("CartPole-v1", n_envs=n_envs, seed=0), stale_episodes=stale_episodes, seed=0)
    model.learn(20_000)
    fraction = model.logger.name_to_value["rollout/trained_fraction"]
    assert fraction == pytest.approx(model.trained_steps / model.num_timesteps, abs=0.02)
    buffer = model.rollout_buffer
    # Every step taken was trained on, dropped, or is still in the buffer
    assert buffer.n_batch_steps + buffer.n_dropped_steps + buffer.n_waiting_steps == model.num_timesteps
    if stale_episodes == "importance" or n_envs == 1:
        assert buffer.n_dropped_steps == 0
        assert fraction > 0.9  # all but the steps of the batches still being collected when training stopped
    else:
        assert 0 < buffer.n_dropped_steps < 0.2 * model.num_timesteps


@pytest.mark.parametrize("algo", [Reinforce, A2C])
def test_learning_rate_progress_stays_in_zero_one(algo):
    progress: list[float] = []

    def schedule(remaining: float) -> float:
        progress.append(remaining)
        return 1e-3 * remaining

    model = algo("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), learning_rate=schedule, seed=0)
    model.learn(1_000)  # REINFORCE's last batch runs past 1,000 steps to finish its episodes
    assert model.num_timesteps > 1_000 or algo is A2C
    assert min(progress) >= 0.0 and max(progress) <= 1.0


def test_a_new_learn_cuts_the_episodes_in_progress():
    env = make_vec_env("CartPole-v1", n_envs=4, seed=0)
    model = Reinforce("MlpPolicy", env, n_episodes=4, stale_episodes="importance", seed=0)
    model.learn(2_000)
    assert model.rollout_buffer.lengths.sum() > 0  # steps of later batches, carried
    # reset_num_timesteps=True resets the envs: the episodes in progress are cut, their steps dropped
    model._setup_learn(1_000, reset_num_timesteps=True)
    assert model.rollout_buffer.lengths.sum() == 0


def test_continuing_learn_keeps_the_carried_episodes():
    env = make_vec_env("CartPole-v1", n_envs=4, seed=0)
    model = Reinforce("MlpPolicy", env, n_episodes=4, stale_episodes="importance", seed=0)
    model.learn(500)
    before = model.rollout_buffer.n_batch_steps
    model.learn(500, reset_num_timesteps=False)
    buffer = model.rollout_buffer
    assert buffer.n_batch_steps > before
    assert buffer.n_batch_steps + buffer.n_waiting_steps == model.num_timesteps


def test_dict_observations_train():
    env = gym.make("CartPole-v1")
    dict_env = gym.wrappers.TransformObservation(
        env, lambda obs: {"state": obs}, gym.spaces.Dict({"state": env.observation_space})
    )
    model = Reinforce("MultiInputPolicy", dict_env, n_episodes=2, seed=0)
    model.learn(300)
    assert model._n_updates >= 1
    data = next(model.rollout_buffer.get())
    assert np.isfinite(data.returns.numpy()).all()


class StopAfter(BaseCallback):
    def __init__(self, n_calls: int):
        super().__init__()
        self.stop_at = n_calls

    def _on_step(self) -> bool:
        return self.n_calls < self.stop_at


@pytest.mark.parametrize("algo", [Reinforce, A2C])
def test_stopping_from_a_callback_then_continuing_loses_no_step(algo):
    """A callback stops training mid-rollout; learning on continues from the env's real observation."""
    env = DummyVecEnv([lambda: TimeLimit(ScriptedEnv([([1.0] * 6, "terminated")]), 100)])
    kwargs = dict(n_episodes=1) if algo is Reinforce else dict(n_steps=4)
    model = algo("MlpPolicy", env, seed=0, **kwargs)
    model.learn(100, callback=StopAfter(3))
    assert model.num_timesteps == 3
    np.testing.assert_array_equal(model._last_obs, [[0, 3]])  # episode 0, step 3: the env's observation
    model.learn(2, reset_num_timesteps=False)
    if algo is Reinforce:
        data = next(model.rollout_buffer.get())  # the first episode, whole: steps 0 to 5
        np.testing.assert_array_equal(data.observations[:, 1].numpy(), [0, 1, 2, 3, 4, 5])
    else:
        # The rollout after the stop starts where the env is
        np.testing.assert_array_equal(model.rollout_buffer.observations.reshape(4, -1)[0], [0, 3])
