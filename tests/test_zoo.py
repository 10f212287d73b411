"""RL Zoo integration (``sb3-pg zoo``) and ``zoo_configs/``."""

import optuna
import pytest
import yaml
from rl_zoo3 import hyperparams_opt
from torch import nn

from sb3_pg.cli import main
from sb3_pg.configs import (
    ZooConfigError,
    config_path,
    load_config,
    parse_policy_kwargs,
    schedules_as_text,
    validate_entry,
)
from sb3_pg.registry import ALGORITHMS
from sb3_pg.tuning import SEARCH_SPACES
from sb3_pg.zoo import ZooExperimentManager, register, validate_params

OUR_ALGOS = {name: spec.algo for name, spec in ALGORITHMS.items()}

ENTRIES = [(algo, env_id) for algo in OUR_ALGOS for env_id in load_config(config_path(algo))]
REQUIRED_ENVS = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", "LunarLander-v3", "MountainCarContinuous-v0"]


MASKABLE = {"maskable_reinforce", "maskable_a2c"}  # their envs need action masks: not the six classic ones
# The envs each file must have an entry for: the six classic control ones for the base algorithms
ENVS_OF = {
    "reinforce": REQUIRED_ENVS,
    "pg_a2c": REQUIRED_ENVS,
    "maskable_reinforce": ["InvalidActionIdentity-v0"],
    "maskable_a2c": ["InvalidActionIdentity-v0"],
    "recurrent_reinforce": ["CartPoleNoVel-v1"],
    "recurrent_a2c": ["CartPoleNoVel-v1"],
}


@pytest.mark.parametrize("algo", OUR_ALGOS)
def test_config_has_every_env(algo):
    assert set(load_config(config_path(algo))) >= {*ENVS_OF[algo], "default"}


@pytest.mark.parametrize("algo, env_id", ENTRIES)
def test_every_entry_validates_and_builds(algo, env_id):
    entry = load_config(config_path(algo))[env_id]
    validate_entry(algo, config_path(algo), env_id, entry, build=True)


def _zoo(*argv):
    return main(["zoo", *argv])


@pytest.mark.parametrize("algo", OUR_ALGOS)
def test_train_then_enjoy_in_process(algo, tmp_path, capsys):
    folder = str(tmp_path / "logs")
    env_id = "InvalidActionIdentity-v0" if algo in MASKABLE else "CartPole-v1"
    assert _zoo("train", "--algo", algo, "--env", env_id, "-n", "600", "-f", folder, "--eval-freq", "-1", "--seed", "1") == 0
    assert (tmp_path / "logs" / algo / f"{env_id}_1" / f"{env_id}.zip").exists()
    assert _zoo("enjoy", "--algo", algo, "--env", env_id, "-f", folder, "-n", "300", "--no-render") == 0
    assert "Mean reward" in capsys.readouterr().out


def test_sb3_algorithms_through_the_same_command(tmp_path):
    assert _zoo("train", "--algo", "a2c", "--env", "CartPole-v1", "-n", "200", "-f", str(tmp_path), "--eval-freq", "-1") == 0
    assert (tmp_path / "a2c" / "CartPole-v1_1" / "CartPole-v1.zip").exists()


@pytest.mark.parametrize("algo", ["pg_a2c", "a2c"])  # ours and SB3's (every algorithm: test_vec_envs.py)
def test_train_on_a_native_vector_env(algo, tmp_path, monkeypatch):
    """``--vec-env gymnasium-native``: RL Zoo's run, its training envs our adapter (RL Zoo's parser knows
    dummy and subproc only), VecMonitor writing the monitor file, evaluation on RL Zoo's DummyVecEnv."""
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    from sb3_pg.vec_envs import GymnasiumVecEnv

    made = []
    create_envs = ZooExperimentManager.create_envs

    def spy(self, n_envs, eval_env=False, no_log=False):
        env = create_envs(self, n_envs, eval_env, no_log)
        made.append((eval_env, env))
        return env

    monkeypatch.setattr(ZooExperimentManager, "create_envs", spy)
    argv = ["--algo", algo, "--env", "CartPole-v1", "-n", "2000", "-f", str(tmp_path), "--eval-freq", "1000"]
    assert _zoo("train", *argv, "--eval-episodes", "2", "--vec-env", "gymnasium-native", "--seed", "0") == 0
    training = [env for is_eval, env in made if not is_eval]
    evaluation = [env for is_eval, env in made if is_eval]
    assert training and all(isinstance(env, VecMonitor) and isinstance(env.venv, GymnasiumVecEnv) for env in training)
    assert evaluation and all(isinstance(env, DummyVecEnv) for env in evaluation)
    run = tmp_path / algo / "CartPole-v1_1"
    assert (run / "CartPole-v1.zip").exists() and (run / "evaluations.npz").exists()
    assert len((run / "vec.monitor.csv").read_text().splitlines()) > 10  # the episodes' rows
    assert ZooExperimentManager.native_vec_env is None  # put back after the run


def test_native_vector_env_that_cannot_be_made_exits_2(tmp_path, capsys):
    argv = ["--algo", "pg_a2c", "--env", "Pendulum-v1", "-n", "100", "-f", str(tmp_path), "--vec-env", "gymnasium-native"]
    assert _zoo("train", *argv) == 2
    assert "argument --vec-env: gymnasium-native: 'Pendulum-v1' has no vector implementation" in capsys.readouterr().err
    assert not (tmp_path / "pg_a2c").exists()


def test_optimize_then_reload_a_trial(tmp_path):
    storage = str(tmp_path / "study.log")  # RL Zoo opens .log paths as a journal file
    common = ["--algo", "pg_a2c", "--env", "CartPole-v1", "-f", str(tmp_path / "logs"), "--storage", storage]
    common += ["--study-name", "zoo"]
    optimize = ["-optimize", "--n-trials", "2", "--n-jobs", "1", "-n", "400", "--n-evaluations", "1", "--eval-episodes", "1"]
    assert _zoo("train", *common, *optimize, "--no-optim-plots", "--seed", "0") == 0
    study = optuna.load_study(
        study_name="zoo", storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))
    )
    assert len(study.trials) == 2
    # The trial's parameters are converted by the search space (no second copy of the conversion)
    expected = SEARCH_SPACES["pg_a2c"].kwargs_from_params(study.trials[1].params)
    assert _zoo("train", *common, "--trial-id", "1", "-n", "100", "--eval-freq", "-1") == 0
    run = sorted((tmp_path / "logs" / "pg_a2c").glob("CartPole-v1_*"))[-1]
    model = OUR_ALGOS["pg_a2c"].load(run / "CartPole-v1.zip")
    rate = expected["learning_rate"]  # a number, or RL Zoo's linear schedule
    for progress in (1.0, 0.5):
        assert model.lr_schedule(progress) == pytest.approx(rate(progress) if callable(rate) else rate)
    assert model.critic_lr_schedule(1.0) == pytest.approx(expected["critic_learning_rate"])
    assert model.gamma == pytest.approx(expected["gamma"])


def test_register_fills_rl_zoo_registries():
    register()
    import rl_zoo3

    assert rl_zoo3.ALGOS["reinforce"] is OUR_ALGOS["reinforce"] and rl_zoo3.ALGOS["pg_a2c"] is OUR_ALGOS["pg_a2c"]
    study, schedules = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)), set()
    for _ in range(8):
        trial = study.ask()
        sampled = hyperparams_opt.HYPERPARAMS_SAMPLER["pg_a2c"](trial, 2, 8, {})
        # The converter gives what a config entry holds: a linear schedule as RL Zoo's lin_<x>
        assert hyperparams_opt.HYPERPARAMS_CONVERTER["pg_a2c"](trial.params) == schedules_as_text(sampled)
        schedules.add(trial.params["lr_schedule"])
        study.tell(trial, 0.0)
    assert schedules == {"constant", "linear"}


def test_critic_learning_rate_schedule():
    hyperparams = ZooExperimentManager._preprocess_schedules({"learning_rate": "lin_1e-3", "critic_learning_rate": "lin_7e-4"})
    schedule = hyperparams["critic_learning_rate"]
    assert schedule(1.0) == pytest.approx(7e-4) and schedule(0.5) == pytest.approx(3.5e-4)


def test_policy_kwargs_are_parsed_without_executing_them():
    parsed = parse_policy_kwargs("dict(net_arch=dict(pi=[64], vf=[32, 32]), activation_fn=nn.ReLU, ortho_init=False)")
    assert parsed == {"net_arch": {"pi": [64], "vf": [32, 32]}, "activation_fn": nn.ReLU, "ortho_init": False}
    assert parse_policy_kwargs("{'log_std_init': -2}") == {"log_std_init": -2}
    for text in ["__import__('os').system('true')", "dict(a=open('x'))", "dict(activation_fn=nn.NoSuchModule)", "[1, 2]"]:
        with pytest.raises(ValueError):
            parse_policy_kwargs(text)


def _write(tmp_path, entries):
    path = tmp_path / "conf.yml"
    path.write_text(yaml.safe_dump(entries))
    return path


@pytest.mark.parametrize(
    "entry, key",
    [
        ({"n_timesteps": 1000, "no_such_hyperparameter": 1}, "no_such_hyperparameter"),
        ({"n_timesteps": 1000, "gamma": "high"}, "gamma"),
        ({"n_timesteps": 1000, "n_steps": 2.5}, "n_steps"),
        ({"n_timesteps": 1000, "normalize_advantage": 1}, "normalize_advantage"),
        ({"n_timesteps": 1000, "n_envs": "8"}, "n_envs"),
        ({"n_timesteps": 1000, "n_envs": True}, "n_envs"),
        ({"n_timesteps": 1000, "n_envs": 0}, "n_envs"),
        ({"n_envs": 8}, "n_timesteps"),
    ],
)
def test_bad_entry_names_file_entry_and_key(tmp_path, capsys, entry, key):
    path = _write(tmp_path, {"CartPole-v1": entry})
    with pytest.raises(ZooConfigError, match=key):
        validate_entry("pg_a2c", path, "CartPole-v1", entry)
    assert _zoo("train", "--algo", "pg_a2c", "--env", "CartPole-v1", "--conf-file", str(path), "-f", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "'CartPole-v1'" in err and key in err


@pytest.mark.parametrize("normalize", [True, False, "dict(norm_obs=True, norm_reward=False)", {"norm_reward": False}])
def test_every_form_of_rl_zoos_normalize_is_accepted(normalize):
    validate_entry("pg_a2c", "conf.yml", "CartPole-v1", {"n_timesteps": 1000, "normalize": normalize}, build=False)


def test_bad_value_found_by_building(tmp_path):
    entry = {"n_timesteps": 1000, "critic_target": "bogus"}
    with pytest.raises(ZooConfigError, match="critic_target"):
        validate_entry("pg_a2c", tmp_path / "c.yml", "CartPole-v1", entry, build=True)


def test_missing_config_file(tmp_path, capsys):
    missing = tmp_path / "missing.yml"
    assert _zoo("train", "--algo", "reinforce", "--env", "CartPole-v1", "--conf-file", str(missing)) == 2
    assert str(missing) in capsys.readouterr().err


def test_unknown_algorithm(capsys):
    with pytest.raises(SystemExit) as error:
        _zoo("train", "--algo", "no_such_algo", "--env", "CartPole-v1")
    assert error.value.code == 2
    assert "no_such_algo" in capsys.readouterr().err


def test_params_overrides_are_validated_as_config_entries(capsys):
    argv = ["train", "--algo", "pg_a2c", "--env", "CartPole-v1", "-n", "100", "-params", "gae_lamda:0.9"]
    assert _zoo(*argv) == 2
    assert "key 'gae_lamda': not an argument of A2C" in capsys.readouterr().err


def test_params_numbers_in_exponent_form_are_numbers():
    """RL Zoo reads ``-params learning_rate:1e-3`` as the number; its check here must too."""
    validate_params("pg_a2c", "CartPole-v1", ["learning_rate:1e-3", "ent_coef:3E-4", "gamma:0.99"])
    with pytest.raises(ZooConfigError, match="unknown schedule 'fast'"):
        validate_params("pg_a2c", "CartPole-v1", ["learning_rate:fast"])


def test_enjoy_without_trained_agents_names_the_folder(tmp_path, capsys):
    assert _zoo("enjoy", "--algo", "pg_a2c", "--env", "CartPole-v1", "-f", str(tmp_path / "nowhere")) == 2
    assert "argument -f: no trained pg_a2c agents" in capsys.readouterr().err
