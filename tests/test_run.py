"""Every algorithm variant with SB3's spaces, policies, vector envs, wrappers and callbacks."""

import inspect

import numpy as np
import pytest
from algos import VARIANT_IDS, VARIANTS
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.callbacks import CheckpointCallback, EvalCallback, StopTrainingOnMaxEpisodes
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import (
    FakeImageEnv,
    IdentityEnv,
    IdentityEnvBox,
    IdentityEnvMultiBinary,
    IdentityEnvMultiDiscrete,
    SimpleMultiObsEnv,
)
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

from sb3_pg import A2C, Reinforce

# SB3's test envs end their episodes themselves; TimeLimit says so (REINFORCE refuses envs without a limit)
ACTION_SPACE_ENVS = {
    "Discrete": lambda: TimeLimit(IdentityEnv(2, ep_length=10), 10),
    "Box": lambda: TimeLimit(IdentityEnvBox(ep_length=10), 10),
    "MultiDiscrete": lambda: TimeLimit(IdentityEnvMultiDiscrete(2, ep_length=10), 10),
    "MultiBinary": lambda: TimeLimit(IdentityEnvMultiBinary(2, ep_length=10), 10),
}


@pytest.mark.parametrize("space", list(ACTION_SPACE_ENVS))
@pytest.mark.parametrize("name, algo, kwargs", VARIANTS, ids=VARIANT_IDS)
def test_action_spaces(name, algo, kwargs, space):
    env = DummyVecEnv([ACTION_SPACE_ENVS[space]])
    model = algo("MlpPolicy", env, seed=0, **kwargs).learn(100)
    assert model.num_timesteps >= 100
    action, _ = model.predict(env.observation_space.sample(), deterministic=True)
    assert env.action_space.contains(action.reshape(env.action_space.shape) if space != "Discrete" else int(action))


@pytest.mark.parametrize("name, algo, kwargs", VARIANTS, ids=VARIANT_IDS)
def test_cnn_policy(name, algo, kwargs):
    env = TimeLimit(FakeImageEnv(screen_height=40, screen_width=40, n_channels=1, discrete=True), 100)
    kwargs = {**kwargs, "policy_kwargs": dict(features_extractor_kwargs=dict(features_dim=16))}
    algo("CnnPolicy", env, seed=0, **kwargs).learn(64)


@pytest.mark.parametrize("name, algo, kwargs", VARIANTS, ids=VARIANT_IDS)
def test_multi_input_policy(name, algo, kwargs):
    env = TimeLimit(SimpleMultiObsEnv(random_start=True), 100)
    model = algo("MultiInputPolicy", env, seed=0, **kwargs).learn(64)
    model.predict(env.observation_space.sample())


@pytest.mark.parametrize("name, algo, kwargs", VARIANTS, ids=VARIANT_IDS)
def test_vec_envs_and_vec_normalize(name, algo, kwargs):
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=3, seed=0))
    model = algo("MlpPolicy", env, seed=0, **kwargs).learn(200)
    assert model.num_timesteps >= 200
    assert env.obs_rms.count > 1


@pytest.mark.parametrize("algo", [Reinforce, A2C])
def test_subproc_vec_env(algo):
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0, vec_env_cls=SubprocVecEnv)
    try:
        algo("MlpPolicy", env, seed=0, **({"n_episodes": 2} if algo is Reinforce else {"n_steps": 8})).learn(100)
    finally:
        env.close()


@pytest.mark.parametrize("name, algo, kwargs", VARIANTS, ids=VARIANT_IDS)
def test_eval_and_checkpoint_callbacks(name, algo, kwargs, tmp_path):
    model = algo("MlpPolicy", "CartPole-v1", seed=0, **kwargs)
    eval_callback = EvalCallback(
        make_vec_env("CartPole-v1", n_envs=1, seed=1), eval_freq=50, n_eval_episodes=2, log_path=str(tmp_path)
    )
    checkpoint = CheckpointCallback(save_freq=100, save_path=str(tmp_path / "checkpoints"), name_prefix="model")
    model.learn(300, callback=[eval_callback, checkpoint])
    assert len(np.load(tmp_path / "evaluations.npz")["results"]) >= 2
    assert list((tmp_path / "checkpoints").glob("model_*_steps.zip"))


@pytest.mark.parametrize("algo", [Reinforce, A2C])
def test_learn_has_a_default_budget(algo):
    assert inspect.signature(algo.learn).parameters["total_timesteps"].default == 200_000
    # learn() with no budget given runs until a callback stops it
    model = algo("MlpPolicy", "CartPole-v1", seed=0).learn(callback=StopTrainingOnMaxEpisodes(max_episodes=2))
    assert 0 < model.num_timesteps < 200_000


@pytest.mark.parametrize("name, algo, kwargs", VARIANTS, ids=VARIANT_IDS)
def test_logger_records_diagnostics(name, algo, kwargs, tmp_path):
    from stable_baselines3.common.logger import configure

    model = algo("MlpPolicy", "CartPole-v1", seed=0, **kwargs)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(200, log_interval=1)
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    expected = {
        "train/policy_loss",
        "train/value_loss",
        "train/entropy_loss",
        "train/explained_variance",
        "train/advantage_std",
        "train/learning_rate",
        "train/n_updates",
    }
    if model.critic_optimizer is not None:
        expected.add("train/critic_learning_rate")
    if algo is Reinforce and model.critic_optimizer is None:
        expected -= {"train/value_loss", "train/explained_variance"}  # no critic
    assert expected <= set(header), expected - set(header)


@pytest.mark.parametrize("name, algo, kwargs", VARIANTS, ids=VARIANT_IDS)
def test_same_seed_same_parameters(name, algo, kwargs):
    def train():
        return algo("MlpPolicy", "CartPole-v1", seed=7, **kwargs).learn(300)

    first, second = train(), train()
    for p, q in zip(first.policy.parameters(), second.policy.parameters(), strict=True):
        assert (p == q).all()


@pytest.mark.parametrize("exact_rollouts", [False, True])
@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize("algo", [A2C, Reinforce])
def test_a_dict_holding_one_vector_trains_as_the_vector(algo, env_id, exact_rollouts):
    """SB3's own guarantee (its test_consistency): the same seed gives the same model, on every path."""
    import gymnasium as gym
    import torch as th
    from envs import OneVectorDict

    models = []
    for policy, env in (("MultiInputPolicy", OneVectorDict(gym.make(env_id))), ("MlpPolicy", gym.make(env_id))):
        model = algo(policy, env, seed=1, exact_rollouts=exact_rollouts, gamma=0.5)
        model.learn(1_000)
        models.append(th.nn.utils.parameters_to_vector(model.policy.parameters()).detach())
    assert th.equal(models[0], models[1])


@pytest.mark.parametrize("algo, kwargs", [(A2C, {"n_steps": 8}), (Reinforce, {"n_episodes": 2})])
def test_small_cpu_networks_train_on_one_torch_thread_and_the_users_setting_holds_elsewhere(algo, kwargs, monkeypatch):
    import torch as th
    from stable_baselines3.common.callbacks import BaseCallback

    seen = {"train": set(), "callback": set()}
    step = algo._gradient_step

    def spy(self, *args):
        seen["train"].add(th.get_num_threads())
        return step(self, *args)

    class Threads(BaseCallback):
        def _on_step(self) -> bool:
            seen["callback"].add(th.get_num_threads())
            return True

    monkeypatch.setattr(algo, "_gradient_step", spy)
    th.set_num_threads(2)
    try:
        model = algo("MlpPolicy", "CartPole-v1", seed=0, **kwargs)
        model.learn(300, callback=Threads())
        assert seen == {"train": {1}, "callback": {2}} and th.get_num_threads() == 2
        # A convolutional policy keeps the user's setting in training too
        seen["train"].clear()
        image = algo("CnnPolicy", TimeLimit(FakeImageEnv(screen_height=36, screen_width=36), 20), seed=0, **kwargs)
        image.learn(100)
        assert seen["train"] == {2}
    finally:
        th.set_num_threads(1)  # the suite's setting (conftest)


@pytest.mark.parametrize("algo, kwargs", [(A2C, {}), (Reinforce, {"n_episodes": 2})])
def test_episode_infos_are_recorded_as_sb3_records_them(algo, kwargs):
    """Only non-empty infos are read (a speed-up with hundreds of envs): the same records as SB3's own
    ``_update_info_buffer``, successes counted only where the env is done."""
    from stable_baselines3.common.base_class import BaseAlgorithm

    model = algo("MlpPolicy", "CartPole-v1", seed=0, **kwargs)
    reference = algo("MlpPolicy", "CartPole-v1", seed=0, **kwargs)
    model._setup_learn(100)
    reference._setup_learn(100)
    rng = np.random.default_rng(0)
    for _ in range(50):
        infos, dones = [], rng.random(6) < 0.3
        for done in dones:
            info = {}
            if done and rng.random() < 0.8:
                info["episode"] = {"r": float(rng.normal()), "l": int(rng.integers(1, 9)), "t": 0.0}
            if rng.random() < 0.5:
                info["is_success"] = bool(rng.random() < 0.5)
            if rng.random() < 0.3:
                info["other"] = 1
            infos.append(info)
        model._update_info_buffer(infos, dones)
        BaseAlgorithm._update_info_buffer(reference, infos, dones)
        model._update_info_buffer(infos)
        BaseAlgorithm._update_info_buffer(reference, infos)
    assert list(model.ep_info_buffer) == list(reference.ep_info_buffer) and len(model.ep_info_buffer) > 10
    assert list(model.ep_success_buffer) == list(reference.ep_success_buffer) and len(model.ep_success_buffer) > 10


@pytest.mark.parametrize("exact_rollouts", [False, True])
def test_the_numpy_actor_runs_numpy_blas_on_one_thread_and_the_users_setting_holds_after(exact_rollouts):
    from stable_baselines3.common.callbacks import BaseCallback

    model = A2C("MlpPolicy", "CartPole-v1", seed=0, exact_rollouts=exact_rollouts)
    controllers = model._backend().blas_controllers()
    if not controllers:
        pytest.skip("NumPy has no BLAS library that threadpoolctl controls")
    seen = set()

    def counts() -> list[int]:
        return [controller.get_num_threads() for controller in controllers]

    class Threads(BaseCallback):
        def _on_step(self) -> bool:
            seen.update(counts())
            return True

    saved = counts()
    for controller in controllers:
        controller.set_num_threads(2)
    try:
        model.learn(200, callback=Threads())
        assert seen == ({2} if exact_rollouts else {1})  # the torch path needs no limit
        assert counts() == [2] * len(controllers)
    finally:
        for controller, count in zip(controllers, saved, strict=True):
            controller.set_num_threads(count)
