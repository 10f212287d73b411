"""RL Zoo's ``env_wrapper`` in ``sb3-pg train``/``compare`` runs, and ``TanhSquashedActions``."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import RescaleAction
from stable_baselines3.common.vec_env import VecNormalize

from sb3_pg import Reinforce
from sb3_pg.cli import main
from sb3_pg.configs import env_wrapper
from sb3_pg.experiment import make_envs, run_config, train_and_evaluate
from sb3_pg.vec_envs import make_vec_env_of
from sb3_pg.wrappers import SATURATION, TanhSquashedActions

QUICK = ["--timesteps", "200", "--eval-freq", "0", "--eval-episodes", "1"]
TANH = "sb3_pg.wrappers.TanhSquashedActions"


def test_tanh_squashed_actions_map_the_real_line_onto_the_bounds():
    env = TanhSquashedActions(gym.make("MountainCarContinuous-v0"))  # bounds [-1, 1]
    assert env.action_space.shape == (1,) and (env.action_space.high == SATURATION).all()
    assert np.tanh(SATURATION) == 1.0 == np.tanh(np.float32(SATURATION))  # clipping there changes no env action
    np.testing.assert_allclose(env.action(np.array([0.0, 0.5, -30.0])), [0.0, np.tanh(0.5), -1.0])
    pendulum = TanhSquashedActions(gym.make("Pendulum-v1"))  # bounds [-2, 2]
    np.testing.assert_allclose(pendulum.action(np.array([0.0, 1.0, 40.0])), [0.0, 2 * np.tanh(1.0), 2.0], rtol=1e-6)
    assert pendulum.action(np.array([1.0])).dtype == np.float32


def test_tanh_squashed_actions_need_a_bounded_box():
    with pytest.raises(ValueError, match="TanhSquashedActions needs a bounded Box action space"):
        TanhSquashedActions(gym.make("CartPole-v1"))


@pytest.mark.parametrize(
    "spec, wrappers",
    [
        (TANH, [TanhSquashedActions]),
        ({TANH: {}}, [TanhSquashedActions]),
        (
            [{"gymnasium.wrappers.RescaleAction": {"min_action": -1.0, "max_action": 1.0}}, TANH],
            [RescaleAction, TanhSquashedActions],
        ),
    ],
)
def test_env_wrapper_reads_rl_zoos_forms(spec, wrappers):
    env = env_wrapper(spec)(gym.make("Pendulum-v1"))
    layers = []
    while isinstance(env, gym.Wrapper):
        layers.append(type(env))
        env = env.env
    assert layers[: len(wrappers)] == wrappers[::-1]  # the last one listed is outermost
    assert env_wrapper(None) is None


@pytest.mark.parametrize(
    "spec, message",
    [
        ("NoModule", "expected module.Class"),
        ({TANH: 3}, "expected module.Class"),
        ({TANH: None}, "expected module.Class"),  # RL Zoo needs {} for no arguments
        ({TANH: {}, "b.C": {}}, "expected module.Class"),
        ("sb3_pg.wrappers.Nothing", "cannot import sb3_pg.wrappers.Nothing"),
        ("no_such_module.Wrapper", "cannot import no_such_module.Wrapper"),
    ],
)
def test_env_wrapper_says_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message):
        env_wrapper(spec)


@pytest.mark.parametrize("kind", ["dummy", "gymnasium"])
def test_training_and_evaluation_envs_are_wrapped(kind):
    env, eval_env = make_envs("Pendulum-v1", 2, 0, normalize={}, vec_env=kind, wrapper=TANH)
    assert isinstance(env, VecNormalize) and isinstance(eval_env, VecNormalize)
    for vec_env in (env, eval_env):
        assert (vec_env.action_space.high == SATURATION).all()
        assert all(vec_env.env_is_wrapped(TanhSquashedActions))
    env.close()
    eval_env.close()


@pytest.mark.parametrize("kind", ["gymnasium-native", "envpool"])
def test_kinds_without_single_envs_refuse_a_wrapper(kind):
    with pytest.raises(ValueError, match=f"{kind} has no single envs to apply the config's env_wrapper to; use one of dummy"):
        make_vec_env_of(kind, "CartPole-v1", 2, 0, wrapper_class=env_wrapper(TANH))


def test_train_applies_the_entrys_env_wrapper(tmp_path, capsys):
    conf = tmp_path / "wrapped.yml"
    entry = "Pendulum-v1:\n  n_envs: 2\n  n_timesteps: 1000\n  n_episodes: 2\n"
    conf.write_text(f"{entry}  env_wrapper: {TANH}\n")
    saved = tmp_path / "model"
    assert (
        main(["train", "--algo", "reinforce", "--env", "Pendulum-v1", "--conf-file", str(conf), "--save", str(saved), *QUICK])
        == 0
    )
    assert (Reinforce.load(saved).action_space.high == SATURATION).all()  # it acted through the wrapper
    # A run of compare's: the wrapper is part of the set-up, and the runs act through it
    config = run_config("reinforce", "Pendulum-v1", "tuned", conf_file=conf)
    plain = tmp_path / "plain.yml"
    plain.write_text(entry)
    assert config.env_wrapper == TANH
    assert config.fingerprint != run_config("reinforce", "Pendulum-v1", "tuned", conf_file=plain).fingerprint
    spaces = []

    class Recording(Reinforce):
        def __init__(self, policy, env, **kwargs):
            spaces.append(env.action_space)
            super().__init__(policy, env, **kwargs)

    result = train_and_evaluate(dataclasses.replace(config, algo_class=Recording), "Pendulum-v1", 0, 400, 200, 1)
    assert result.steps[-1] >= 400 and np.isfinite(result.returns).all()
    assert len(spaces) == 1 and (spaces[0].high == SATURATION).all()


@pytest.mark.parametrize(
    "entry, extra, message",
    [
        ("  env_wrapper: no_such_module.Wrapper\n", [], "key 'env_wrapper': cannot import no_such_module.Wrapper"),
        (f"  env_wrapper: {TANH}\n", ["--vec-env", "gymnasium-native"], "argument --vec-env: gymnasium-native"),
        (f"  env_wrapper: {TANH}\n", [], "key 'env_wrapper': TanhSquashedActions needs a bounded Box action space"),
        (
            f"  env_wrapper:\n  - {TANH}: {{scale: 2}}\n",
            [],
            "key 'env_wrapper': TanhSquashedActions.__init__() got an unexpected",
        ),
    ],
)
def test_train_refuses_a_wrapper_it_cannot_apply(tmp_path, capsys, entry, extra, message):
    conf = tmp_path / "wrapped.yml"
    conf.write_text(f"CartPole-v1:\n  n_timesteps: 1000\n{entry}")
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--algo", "pg_a2c", "--env", "CartPole-v1", "--conf-file", str(conf), *extra, *QUICK])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_an_entry_may_say_no_wrapper(tmp_path, capsys):
    conf = tmp_path / "plain.yml"
    conf.write_text("CartPole-v1:\n  n_timesteps: 1000\n  env_wrapper: null\n")
    assert main(["train", "--algo", "pg_a2c", "--env", "CartPole-v1", "--conf-file", str(conf), *QUICK]) == 0
    assert run_config("pg_a2c", "CartPole-v1", "tuned", conf_file=conf).env_wrapper is None


def test_compare_checks_the_wrapper_before_any_run(tmp_path, capsys, monkeypatch):
    conf = tmp_path / "wrapped.yml"
    conf.write_text(f"CartPole-v1:\n  n_timesteps: 1000\n  env_wrapper: {TANH}\n")
    import sb3_pg.cli.compare as compare_cli

    monkeypatch.setattr(compare_cli, "run_config", lambda algo, env_id, mode: run_config(algo, env_id, mode, conf_file=conf))
    argv = ["compare", "--envs", "CartPole-v1", "--algos", "pg_a2c", "--seeds", "1", "--timesteps", "300"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(tmp_path / "out"), "--no-progress-bar"])
    assert exit_info.value.code == 2
    assert "key 'env_wrapper': TanhSquashedActions needs a bounded Box action space" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
