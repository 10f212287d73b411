"""MuJoCo smoke tests: both algorithms train, evaluate, save and load on the v5 envs (the mujoco extra)."""

import pytest

pytest.importorskip("mujoco", reason='the mujoco extra: pip install -e ".[mujoco]"')

from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize

from sb3_pg import A2C, Reinforce


@pytest.mark.parametrize("env_id", ["HalfCheetah-v5", "Hopper-v5"])
@pytest.mark.parametrize("algo, kwargs, steps", [(A2C, {"n_steps": 8}, 400), (Reinforce, {"n_episodes": 1}, 1_000)])
def test_trains_evaluates_and_reloads(env_id, algo, kwargs, steps, tmp_path):
    env = VecNormalize(make_vec_env(env_id, n_envs=2, seed=0))  # RL Zoo's MuJoCo setting: normalize
    model = algo("MlpPolicy", env, seed=0, **kwargs).learn(steps)
    assert model.num_timesteps >= steps and model.ep_info_buffer is not None
    env.training = False
    mean, _ = evaluate_policy(model, env, n_eval_episodes=1, warn=False)
    assert mean == mean  # finite, not NaN
    model.save(tmp_path / "model.zip")
    assert algo.load(tmp_path / "model.zip").policy.action_space.shape == env.action_space.shape
