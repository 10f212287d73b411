"""save/load round trips, critic optimizer and schedules included."""

import numpy as np
import pytest
import torch as th
from algos import VARIANT_IDS, VARIANTS

from sb3_pg import A2C, Reinforce


@pytest.mark.parametrize("name, algo, kwargs", VARIANTS, ids=VARIANT_IDS)
def test_save_load_round_trip(name, algo, kwargs, tmp_path):
    model = algo("MlpPolicy", "CartPole-v1", seed=0, **kwargs).learn(300)
    observations = np.stack([model.observation_space.sample() for _ in range(20)])
    actions, _ = model.predict(observations, deterministic=True)
    model.save(tmp_path / "model.zip")

    loaded = algo.load(tmp_path / "model.zip", env=model.get_env())
    loaded_actions, _ = loaded.predict(observations, deterministic=True)
    np.testing.assert_array_equal(actions, loaded_actions)
    for p, q in zip(model.policy.parameters(), loaded.policy.parameters(), strict=True):
        assert th.equal(p, q)
    assert_same_optimizer(model.policy.optimizer, loaded.policy.optimizer)
    if model.critic_optimizer is not None:
        assert_same_optimizer(model.critic_optimizer, loaded.critic_optimizer)
        assert loaded.critic_lr_schedule(0.3) == model.critic_lr_schedule(0.3)
    assert loaded.lr_schedule(0.3) == model.lr_schedule(0.3)
    # The running statistics of the running-mean baseline and of the scaled critic
    running_statistics = {
        "weight_rms": kwargs.get("baseline") == "running_mean",
        "return_rms": kwargs.get("scale_critic_targets"),
    }
    for statistics, kept in running_statistics.items():
        if kept:
            saved, restored = getattr(model, statistics), getattr(loaded, statistics)
            assert (restored.mean, restored.var, restored.count) == (saved.mean, saved.var, saved.count) and saved.count > 0
        else:
            assert getattr(model, statistics, None) is None
    # and it trains on
    loaded.learn(100, reset_num_timesteps=False)


def assert_same_optimizer(first: th.optim.Optimizer, second: th.optim.Optimizer) -> None:
    a, b = first.state_dict(), second.state_dict()
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys() and a["state"]
    for key, state in a["state"].items():
        for name, value in state.items():
            assert th.equal(th.as_tensor(value), th.as_tensor(b["state"][key][name])), name


@pytest.mark.parametrize("algo", [Reinforce, A2C])
def test_schedules_survive_save_load(algo, tmp_path):
    def actor_schedule(progress: float) -> float:
        return 1e-3 * progress

    def critic_schedule(progress: float) -> float:
        return 2e-3 * progress

    model = algo("MlpPolicy", "CartPole-v1", learning_rate=actor_schedule, critic_learning_rate=critic_schedule, seed=0)
    model.learn(300)
    model.save(tmp_path / "model.zip")
    loaded = algo.load(tmp_path / "model.zip")
    for progress in (1.0, 0.5, 0.1):
        assert loaded.lr_schedule(progress) == pytest.approx(1e-3 * progress)
        assert loaded.critic_lr_schedule(progress) == pytest.approx(2e-3 * progress)
    assert loaded.critic_optimizer.param_groups[0]["lr"] == model.critic_optimizer.param_groups[0]["lr"]


@pytest.mark.parametrize("saver, loader", [(Reinforce, A2C), (A2C, Reinforce)])
def test_loading_another_algorithms_file_says_which_it_holds(saver, loader, tmp_path):
    saver("MlpPolicy", "CartPole-v1").save(tmp_path / "model.zip")
    with pytest.raises(ValueError, match=f"holds a {saver.__name__} model.*{saver.__name__}.load"):
        loader.load(tmp_path / "model.zip")
