"""tuning/: search spaces, the objective, the trial budget, outputs and the ``sb3-pg tune`` command
(embedded journal storage; PostgreSQL is in test_tuning_postgres.py)."""

import copy
import csv
import itertools
import socket
import subprocess
import sys
import warnings

import optuna
import pandas as pd
import pytest
import yaml
from envs import NaNRewardEnv
from optuna.trial import TrialState

from sb3_pg.cli import main
from sb3_pg.configs import schedules_as_text
from sb3_pg.search_space import CONTINUOUS_ONLY
from sb3_pg.storage import SURPLUS, fail_orphaned_trials, open_storage
from sb3_pg.tuning import SEARCH_SPACES, TuneSettings
from sb3_pg.tuning.budget import places, run_worker
from sb3_pg.tuning.objective import TuningObjective
from sb3_pg.tuning.report import PLOTS, write_plots

ALGOS = list(SEARCH_SPACES)
# The CartPole studies below: the base algorithms (test_maskable and test_recurrent run studies of the others)
BASE = ["reinforce", "pg_a2c"]
TINY = ["--n-timesteps", "256", "--n-evaluations", "2", "--eval-episodes", "1", "--no-progress-bar"]


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("extra", [False, True])
@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_sampled_kwargs_build_a_model_and_replay_from_params(algo, extra, env_id):
    if algo.startswith("maskable") and env_id == "Pendulum-v1":
        pytest.skip("masked actions are discrete")
    space = SEARCH_SPACES[algo]
    # use_sde and log_std_init are for continuous actions (tune refuses them on discrete ones)
    names = [n for n in space.optional if env_id == "Pendulum-v1" or n not in CONTINUOUS_ONLY] if extra else []
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(5):
        trial = study.ask()
        kwargs = space.sample(trial, names)
        # SB3's A2C edits policy_kwargs: a copy
        space.algo(space.algo.default_policy(), env_id, device="cpu", **copy.deepcopy(kwargs))
        # The converter replays the same samplers on the stored params: the same arguments (a linear
        # schedule is a new object each time: compared as RL Zoo writes it)
        assert schedules_as_text(space.kwargs_from_params(trial.params)) == schedules_as_text(kwargs)
        assert 0.9 <= kwargs["gamma"] < 1.0
        assert trial.user_attrs["gamma"] == kwargs["gamma"]
        study.tell(trial, 0.0)


def test_fixed_arguments_are_not_searched():
    space = SEARCH_SPACES["pg_a2c"]
    trial = optuna.create_study().ask()
    kwargs = space.sample(trial, ["n_steps"], fixed={"gamma": 0.95, "n_steps": 16})
    assert kwargs["gamma"] == 0.95 and kwargs["n_steps"] == 16
    assert "one_minus_gamma" not in trial.params and "n_steps_exp" not in trial.params


def test_reinforce_without_critic_samples_no_critic_parameters():
    # (a trial stored before lr_schedule existed: a constant rate)
    trial = optuna.trial.FixedTrial({"baseline": "mean", "learning_rate": 1e-3, "one_minus_gamma": 0.01})
    kwargs = SEARCH_SPACES["reinforce"].sample(trial, ["baseline"])
    assert kwargs == {"baseline": "mean", "learning_rate": 1e-3, "gamma": 0.99}


def _cli(tmp_path, algo, n_trials, *extra):
    return main(
        ["tune", "--algo", algo, "--env", "CartPole-v1", "--n-trials", str(n_trials), "--out", str(tmp_path), *TINY, *extra]
    )


@pytest.mark.parametrize("algo", BASE)
def test_study_end_to_end_and_resume(tmp_path, algo, capsys):
    assert _cli(tmp_path, algo, 2) == 0
    storage = open_storage(str(tmp_path / "study.log"))
    study = optuna.load_study(study_name=f"{algo}-CartPole-v1", storage=storage)
    first = [(t.number, t.params, t.value) for t in study.trials]
    assert len(first) == 2 and all(t.state == TrialState.COMPLETE for t in study.trials)

    # Outputs: an RL Zoo entry that builds the model, a CSV row per trial, every plot as HTML and PNG
    entry = yaml.safe_load((tmp_path / "best.yml").read_text())["CartPole-v1"]
    assert entry["n_timesteps"] == 256 and entry["policy"] == "MlpPolicy"
    assert entry["n_envs"] == SEARCH_SPACES[algo].n_envs
    hyperparameters = {k: v for k, v in entry.items() if k not in ("n_timesteps", "policy", "n_envs")}
    SEARCH_SPACES[algo].algo("MlpPolicy", "CartPole-v1", **hyperparameters)
    assert len(pd.read_csv(tmp_path / "trials.csv")) == 2
    for name in PLOTS:
        short = name.removeprefix("plot_")
        assert (tmp_path / "plots" / f"{short}.html").stat().st_size > 0
        assert (tmp_path / "plots" / f"{short}.png").stat().st_size > 0
    assert "2 complete" in capsys.readouterr().out

    # Running it again resumes the study: the first trials are kept, one more is added
    assert _cli(tmp_path, algo, 3) == 0
    study = optuna.load_study(study_name=f"{algo}-CartPole-v1", storage=open_storage(str(tmp_path / "study.log")))
    assert [(t.number, t.params, t.value) for t in study.trials[:2]] == first
    assert len(study.trials) == 3
    # A rerun with the total reached trains nothing more
    assert _cli(tmp_path, algo, 3) == 0
    study = optuna.load_study(study_name=f"{algo}-CartPole-v1", storage=open_storage(str(tmp_path / "study.log")))
    assert len(study.trials) == 3


def test_normalized_study_writes_normalize_and_fixed_arguments_in_its_entry(tmp_path):
    # Models mutate the policy_kwargs they get (SB3 adds its optimizer class): the study's stored
    # settings must not see that
    fixed = ["use_sde=true", "policy_kwargs={log_std_init: -2, ortho_init: false}"]
    assert _cli(tmp_path, "pg_a2c", 1, "--normalize", "--env", "Pendulum-v1", "--fixed", *fixed) == 0
    entry = yaml.safe_load((tmp_path / "best.yml").read_text())["Pendulum-v1"]
    assert entry["normalize"] is True and entry["use_sde"] is True
    assert entry["policy_kwargs"]["log_std_init"] == -2 and "vf" in entry["policy_kwargs"]["net_arch"]


def test_resume_with_other_settings_is_refused(tmp_path, capsys):
    assert _cli(tmp_path, "pg_a2c", 1) == 0
    with pytest.raises(SystemExit) as error:
        main(
            [
                "tune",
                "--algo",
                "pg_a2c",
                "--env",
                "CartPole-v1",
                "--n-trials",
                "2",
                "--out",
                str(tmp_path),
                *TINY[2:],
                "--n-timesteps",
                "512",
            ]
        )
    assert error.value.code == 2
    assert "n_timesteps" in capsys.readouterr().err


def test_divergence_prunes_the_trial_with_its_reason_and_closes_envs(tmp_path):
    settings = TuneSettings(
        "pg_a2c", "NaNReward-v0", n_timesteps=64, n_seeds=2, n_evaluations=2, eval_episodes=1, n_envs=2, seed=0
    )
    study = optuna.create_study(direction="maximize", storage=open_storage(str(tmp_path / "s.journal")))
    open_before = NaNRewardEnv.n_open
    run_worker(study, TuningObjective(**vars(settings)), n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert all("non-finite" in t.user_attrs["pruned_reason"] or "Error" in t.user_attrs["pruned_reason"] for t in study.trials)
    assert NaNRewardEnv.n_open == open_before


def test_objective_reports_each_evaluation_and_a_pruner_stops_it(tmp_path):
    settings = TuneSettings(
        "pg_a2c", "CartPole-v1", n_timesteps=400, n_seeds=2, n_evaluations=4, eval_episodes=1, n_envs=2, seed=0
    )
    objective = TuningObjective(**vars(settings))
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.NopPruner())
    run_worker(study, objective, n_trials=1)
    complete = study.trials[0]
    assert sorted(complete.intermediate_values) == [1, 2, 3, 4]
    evaluations = complete.user_attrs["evaluations"]  # seeds x evaluations
    assert len(evaluations) == 2 and len(evaluations[0]) == 4
    assert complete.value == pytest.approx(sum(map(sum, evaluations)) / 8, abs=1e-2)
    assert complete.intermediate_values[4] == pytest.approx(complete.value)
    assert complete.user_attrs["timesteps"] == 2 * 400

    # A pruner that stops every trial at its first report: one chunk trained per seed, the reason stored
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=1e9))
    run_worker(study, objective, n_trials=1)
    pruned = study.trials[0]
    assert pruned.state == TrialState.PRUNED
    assert pruned.user_attrs["timesteps"] == 2 * 100
    assert "pruner" in pruned.user_attrs["pruned_reason"]


def _trial(number, state=TrialState.COMPLETE, **system_attrs):
    return optuna.trial.create_trial(
        state=state, value=0.0 if state == TrialState.COMPLETE else None, system_attrs=system_attrs
    )


def test_places_skip_surplus_and_retried_trials():
    trials = [_trial(0), _trial(1, TrialState.FAIL), _trial(2, TrialState.RUNNING), _trial(3)]
    for number, trial in enumerate(trials):
        trial.number = number
    trials[3].system_attrs.update(failed_trial=1, retry_history=[1])  # trial 3 retried trial 1
    surplus = _trial(4, TrialState.FAIL)
    surplus.number = 4
    surplus.user_attrs[SURPLUS] = True
    held = places([*trials, surplus])
    assert [t.number for t in held.finished] == [0, 3]
    assert [t.number for t in held.active] == [2]


def test_trial_of_a_dead_process_is_retried_with_its_parameters(tmp_path):
    study = optuna.create_study(direction="maximize", storage=open_storage(str(tmp_path / "s.journal")))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    orphan = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    orphan.set_user_attr("worker", f"{socket.gethostname()}:{int(dead.stdout)}")
    orphan.set_user_attr("worker_trial", orphan.number)
    params = orphan.params
    fail_orphaned_trials(study)
    assert study.trials[0].state == TrialState.FAIL
    run_worker(study, lambda trial: trial.suggest_float("x", 0, 1), n_trials=1)
    retry = study.trials[1]
    assert retry.state == TrialState.COMPLETE and retry.params == params
    assert retry.system_attrs["failed_trial"] == 0
    assert len(study.trials) == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--algo", "ppo", "--env", "CartPole-v1"], "--algo"),
        (["--algo", "pg_a2c", "--env", "NoSuchEnv-v0"], "--env"),
        (["--algo", "pg_a2c", "--env", "CartPole-v1", "--n-trials", "0"], "--n-trials"),
        (["--algo", "pg_a2c", "--env", "CartPole-v1", "--extra-params", "baseline"], "--extra-params"),
        (["--algo", "pg_a2c", "--env", "CartPole-v1", "--fixed", "no_such_arg=1"], "--fixed"),
        (["--algo", "pg_a2c", "--env", "CartPole-v1", "--fixed", "gamma=2"], "--fixed"),
        (["--algo", "pg_a2c", "--env", "CartPole-v1", "--enqueue", "use_rms_prop=false"], "--enqueue: use_rms_prop is not"),
        (["--algo", "pg_a2c", "--env", "CartPole-v1", "--enqueue", "n_steps=32"], "--extra-params: n_steps"),
        (["--algo", "pg_a2c", "--env", "CartPole-v1", "--enqueue", "gamma=0.5"], "--enqueue: gamma=0.5 is not a point"),
        (["--algo", "pg_a2c", "--env", "CartPole-v1", "--fixed", "gamma=0.9", "--enqueue", "gamma=0.99"], "set by --fixed"),
        (["--algo", "pg_a2c", "--env", "CartPole-v1", "--storage", "postgresql://user@:notaport/db"], "--storage"),
        (["--algo", "pg_a2c", "--env", "CartPole-v1", "--storage", "ftp://host/db"], "--storage"),
        (
            ["--algo", "pg_a2c", "--env", "CartPole-v1", "--storage", "postgresql://u@127.0.0.1:9/db"],
            "cannot connect",
        ),
    ],
)
def test_bad_input_exits_2_and_leaves_nothing(tmp_path, argv, message, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as error:
        main(["tune", *argv, "--out", str(out)])
    assert error.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1]
    assert not out.exists()


@pytest.mark.parametrize("algo", ALGOS)
def test_params_for_inverts_the_sampler(algo):
    """Every sampled configuration maps back to the trial parameters that made it (warm starts rely on it)."""
    space = SEARCH_SPACES[algo]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=2))
    for _ in range(20):
        trial = study.ask()
        kwargs = space.sample(trial, space.optional)
        params = space.params_for(kwargs, space.optional)
        assert params == pytest.approx(trial.params)
        study.tell(trial, 0.0)
    # A2C's one joint optimizer (SB3's) is a point of the search; a schedule is left to the sampler
    assert SEARCH_SPACES["pg_a2c"].params_for({})["critic_optimizer"] == "joint"
    assert "critic_learning_rate" not in SEARCH_SPACES["pg_a2c"].params_for({})
    assert "learning_rate" not in space.params_for({"learning_rate": lambda progress: 1e-3 * progress})


def test_rl_zoo_linear_schedules_are_a_point_of_the_search(tmp_path):
    """RL Zoo's LunarLander-v3 A2C entry has ``learning_rate: lin_0.00083``: its warm start replays as
    that schedule, not a sampled constant, and a best trial with it is written back as ``lin_0.00083``."""
    from sb3_pg.configs import LinearSchedule, model_kwargs, validate_entry
    from sb3_pg.tuning import report
    from sb3_pg.tuning.warm_start import warm_start_configs

    space = SEARCH_SPACES["pg_a2c"]
    zoo = warm_start_configs("pg_a2c", "LunarLander-v3")["rl_zoo_a2c.yml"]
    params = space.params_for(zoo)
    assert params["lr_schedule"] == "linear" and params["learning_rate"] == pytest.approx(0.00083)
    replayed = space.kwargs_from_params(params)["learning_rate"]
    assert isinstance(replayed, LinearSchedule) and replayed(0.5) == pytest.approx(0.000415)
    assert space.params_for({"learning_rate": 3e-4})["lr_schedule"] == "constant"
    # A trial stored before the choice existed had a constant rate
    assert space.kwargs_from_params({"learning_rate": 1e-3, "one_minus_gamma": 0.01})["learning_rate"] == 1e-3
    # Fixing the learning rate fixes its schedule too
    assert "lr_schedule" not in space.params_for(zoo, fixed={"learning_rate": 1e-3})

    study = optuna.create_study(direction="maximize")
    study.set_user_attr(
        "settings",
        {"algo": "pg_a2c", "env_id": "LunarLander-v3", "fixed": {}, "extra_params": [], "n_envs": 8, "n_timesteps": 100}
        | {"n_seeds": 1, "n_evaluations": 1, "eval_episodes": 1},
    )
    trial = study.ask()
    space.sample(optuna.trial.FixedTrial(params), [])  # the parameters are a valid point
    for name, value in params.items():
        trial.suggest_categorical(name, [value]) if isinstance(value, str) else trial.suggest_float(name, value, value)
    study.tell(trial, 1.0)
    assert report.hyperparameters(study, study.best_trial)["learning_rate"] == "lin_0.00083"
    report.write_zoo_yaml(study, tmp_path / "best.yml")
    entry = yaml.safe_load((tmp_path / "best.yml").read_text())["LunarLander-v3"]
    assert entry["learning_rate"] == "lin_0.00083"
    validate_entry("pg_a2c", tmp_path / "best.yml", "LunarLander-v3", entry)
    assert model_kwargs(entry)["learning_rate"](0.5) == pytest.approx(0.000415)
    # The summary rounds a schedule's initial value as it rounds constants (3 significant digits)
    assert report._short("lin_0.006019149831954504") == "lin_0.00602" and report._short(0.006019149831954504) == "0.00602"


def test_pg_a2c_searches_the_joint_optimizer_and_reads_older_trials():
    space = SEARCH_SPACES["pg_a2c"]
    joint = space.kwargs_from_params({"critic_optimizer": "joint", "learning_rate": 1e-3, "one_minus_gamma": 0.01})
    assert "critic_learning_rate" not in joint and joint["learning_rate"] == 1e-3
    separate = space.kwargs_from_params({"critic_optimizer": "separate", "critic_learning_rate": 2e-3})
    assert separate["critic_learning_rate"] == 2e-3
    # A trial stored before the choice existed had separate optimizers
    assert space.kwargs_from_params({"critic_learning_rate": 2e-3, "learning_rate": 1e-3})["critic_learning_rate"] == 2e-3
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(20):
        trial = study.ask()
        seen.add("critic_learning_rate" in space.sample(trial))
        study.tell(trial, 0.0)
    assert seen == {True, False}


def test_warm_starts_are_the_first_trials(tmp_path):
    assert _cli(tmp_path, "reinforce", 3) == 0
    study = optuna.load_study(study_name="reinforce-CartPole-v1", storage=open_storage(str(tmp_path / "study.log")))
    first, second = study.trials[:2]
    assert first.user_attrs["warm_start"] == "defaults" and second.user_attrs["warm_start"] == "zoo_configs"
    # The defaults, exactly
    kwargs = SEARCH_SPACES["reinforce"].kwargs_from_params(first.params)
    assert kwargs["learning_rate"] == 3e-3 and kwargs["gamma"] == pytest.approx(0.99)
    assert kwargs["policy_kwargs"]["net_arch"] == {"pi": [64, 64], "vf": [64, 64]}
    # The zoo_configs entry's values
    entry = yaml.safe_load(open("zoo_configs/reinforce.yml"))["CartPole-v1"]
    kwargs = SEARCH_SPACES["reinforce"].kwargs_from_params(second.params)
    assert kwargs["learning_rate"] == pytest.approx(entry["learning_rate"])
    assert kwargs["gamma"] == pytest.approx(entry["gamma"])
    assert "warm_start" not in study.trials[2].user_attrs


def test_pg_a2c_warm_starts_include_its_own_entry():
    """Re-tuning pg_a2c at another budget starts from its current entry too, beside RL Zoo's and SB3's."""
    from sb3_pg.tuning.warm_start import warm_start_configs

    configs = warm_start_configs("pg_a2c", "LunarLander-v3")
    assert list(configs) == ["sb3_defaults", "rl_zoo_a2c.yml", "zoo_configs"]
    entry = yaml.safe_load(open("zoo_configs/pg_a2c.yml"))["LunarLander-v3"]
    space = SEARCH_SPACES["pg_a2c"]
    extra = ["n_steps", "ent_coef", "gae_lambda"]
    kwargs = space.kwargs_from_params(space.params_for(configs["zoo_configs"], extra))
    for name in ("learning_rate", "critic_learning_rate", "gamma", "n_steps", "ent_coef", "gae_lambda"):
        assert kwargs[name] == pytest.approx(entry[name], rel=1e-3), name
    assert kwargs["policy_kwargs"]["net_arch"] == entry["policy_kwargs"]["net_arch"]


@pytest.mark.parametrize("algo", BASE)
def test_gaussian_exploration_settings_are_points_of_the_search(algo):
    """gSDE with its resampling frequency, log_std_init and ortho_init: RL Zoo's entries for Pendulum-v1
    and MountainCarContinuous-v0 replay exactly, SB3's defaults too, and sampled ones build models."""
    space = SEARCH_SPACES[algo]
    extra = ["use_sde", "log_std_init", "ortho_init"]
    # REINFORCE takes gSDE with a fresh noise draw at every step only (Reinforce refuses the others)
    frequencies = (1, 1) if algo == "reinforce" else (-1, 16)
    for zoo in (
        {"use_sde": True, "sde_sample_freq": frequencies[0], "policy_kwargs": {"log_std_init": -2, "ortho_init": False}},
        {"use_sde": True, "sde_sample_freq": frequencies[1], "policy_kwargs": {"log_std_init": 0.0, "ortho_init": False}},
        {},
    ):
        kwargs = space.kwargs_from_params(space.params_for(zoo, extra))
        policy_kwargs = zoo.get("policy_kwargs", {})
        assert kwargs["use_sde"] == zoo.get("use_sde", False)
        assert kwargs.get("sde_sample_freq", -1) == zoo.get("sde_sample_freq", -1)
        assert kwargs["policy_kwargs"]["log_std_init"] == policy_kwargs.get("log_std_init", 0.0)
        assert kwargs["policy_kwargs"]["ortho_init"] == policy_kwargs.get("ortho_init", True)
        assert kwargs["policy_kwargs"]["net_arch"]["pi"] == [64, 64]  # merged with the critic's size
    # Fixing policy_kwargs takes log_std_init and ortho_init out of the search, not use_sde
    fixed = {"policy_kwargs": {"log_std_init": -2, "ortho_init": False}}
    assert [h.name for h in space.active(extra, fixed) if h.name in extra] == ["use_sde"]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        kwargs = space.sample(trial, extra)
        seen.add(kwargs["use_sde"])
        space.algo("MlpPolicy", "Pendulum-v1", **kwargs)
        study.tell(trial, 0.0)
    assert seen == {True, False}


def test_rl_zoo_pendulum_entry_is_a_point_of_the_search():
    """vf_coef 0.4, n_steps 8, gae_lambda 0.9, lin_7e-4, gamma 0.9 with gSDE fixed: RL Zoo's Pendulum-v1
    A2C entry replays exactly, beside pg_a2c's own (SB3's vf_coef 0.5)."""
    from sb3_pg.search_space import algorithm_defaults
    from sb3_pg.tuning.warm_start import warm_start_configs

    space = SEARCH_SPACES["pg_a2c"]
    extra = ["n_steps", "gae_lambda", "max_grad_norm", "normalize_advantage", "vf_coef"]
    fixed = {"use_sde": True, "policy_kwargs": {"log_std_init": -2, "ortho_init": False}}
    configs = warm_start_configs("pg_a2c", "Pendulum-v1")
    for name in ("rl_zoo_a2c.yml", "zoo_configs"):
        kwargs = space.kwargs_from_params(space.params_for(configs[name], extra, fixed), fixed)
        kwargs = {**algorithm_defaults(space.algo), **kwargs}  # what the model takes for the rest
        for key, value in configs[name].items():
            if callable(value):  # a schedule (RL Zoo's lin_7e-4), or a constant as RL Zoo loads it
                for progress in (1.0, 0.5):
                    ours = kwargs[key](progress) if callable(kwargs[key]) else kwargs[key]
                    assert ours == pytest.approx(value(progress)), (name, key)
            elif key == "policy_kwargs":
                assert {**kwargs[key], **value} == kwargs[key], name
            else:
                assert kwargs[key] == pytest.approx(value), (name, key)
    assert configs["rl_zoo_a2c.yml"]["vf_coef"] == 0.4


def test_pg_a2c_warm_starts_on_mujoco_include_tianshous_a2c_settings():
    """Tianshou's published MuJoCo A2C settings (lin_7e-4, GAE 0.95, entropy 0.01, log std -0.5) replay
    exactly with the MuJoCo studies' extras, and are offered on MuJoCo envs only."""
    from sb3_pg.envs import in_env_family
    from sb3_pg.search_space import algorithm_defaults
    from sb3_pg.tuning.warm_start import warm_start_configs

    assert "tianshou_a2c" not in warm_start_configs("pg_a2c", "Pendulum-v1")
    assert [
        in_env_family(env, "mujoco") for env in ("Ant-v5", "HumanoidStandup-v5", "InvertedDoublePendulum-v5", "Acrobot-v1")
    ] == [
        True,
        True,
        True,
        False,
    ]
    config = warm_start_configs("pg_a2c", "Ant-v5")["tianshou_a2c"]
    space = SEARCH_SPACES["pg_a2c"]
    extra = ["n_steps", "max_grad_norm", "log_std_init", "gae_lambda", "normalize_advantage", "ent_coef"]
    kwargs = {**algorithm_defaults(space.algo), **space.kwargs_from_params(space.params_for(config, extra))}
    assert [kwargs["learning_rate"](progress) for progress in (1.0, 0.5)] == pytest.approx([7e-4, 3.5e-4])
    for key in ("n_steps", "gae_lambda", "ent_coef", "max_grad_norm"):
        assert kwargs[key] == pytest.approx(config[key]), key
    assert kwargs["policy_kwargs"]["log_std_init"] == -0.5
    assert kwargs["policy_kwargs"]["net_arch"] == {"pi": [64, 64], "vf": [64, 64]}
    assert kwargs["critic_learning_rate"] is None  # one RMSprop optimizer for both, as Tianshou's


def test_reinforce_warm_starts_include_what_rl_zoo_knows_about_the_env():
    """RL Zoo's A2C entry's discount, noise, clipping and advantage settings, not its optimiser's or A2C's own."""
    from sb3_pg import Reinforce
    from sb3_pg.tuning.warm_start import warm_start_configs

    configs = warm_start_configs("reinforce", "Pendulum-v1")
    assert list(configs) == ["defaults", "zoo_configs", "rl_zoo_a2c.yml_shared"]
    shared = configs["rl_zoo_a2c.yml_shared"]
    assert shared["gamma"] == 0.9 and shared["use_sde"] is True and shared["max_grad_norm"] == 0.5
    assert shared["sde_sample_freq"] == 1  # RL Zoo's -1 (one draw a rollout) would bias REINFORCE
    assert shared["policy_kwargs"] == {"log_std_init": -2, "ortho_init": False}
    assert not {"learning_rate", "n_steps", "gae_lambda", "vf_coef", "use_rms_prop"} & set(shared)
    Reinforce("MlpPolicy", "Pendulum-v1", **shared)
    fixed = {"use_sde": True, "sde_sample_freq": 1, "policy_kwargs": shared["policy_kwargs"]}
    space = SEARCH_SPACES["reinforce"]
    extra = ["max_grad_norm", "normalize_advantage"]
    kwargs = space.kwargs_from_params(space.params_for(shared, extra, fixed), fixed)
    assert kwargs["gamma"] == pytest.approx(0.9) and kwargs["max_grad_norm"] == 0.5 and kwargs["learning_rate"] == 3e-3
    assert kwargs["use_sde"] is True and kwargs["policy_kwargs"]["log_std_init"] == -2


@pytest.mark.parametrize("algo", BASE)
def test_no_entropy_bonus_is_a_point_of_the_search(algo):
    """SB3's default ent_coef (0.0, most of RL Zoo's A2C entries) is exact, not the log scale's 1e-8; a
    trial stored before the choice existed had a bonus."""
    space = SEARCH_SPACES[algo]
    params = space.params_for({}, ["ent_coef"])
    assert params["entropy_bonus"] == "off" and "ent_coef" not in params
    assert space.kwargs_from_params(params)["ent_coef"] == 0.0
    params = space.params_for({"ent_coef": 0.01}, ["ent_coef"])
    assert params["entropy_bonus"] == "on" and space.kwargs_from_params(params)["ent_coef"] == 0.01
    older = {k: v for k, v in params.items() if k != "entropy_bonus"}
    assert space.sample(optuna.trial.FixedTrial(older), ["ent_coef"])["ent_coef"] == 0.01
    seen = set()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        seen.add(space.sample(trial, ["ent_coef"])["ent_coef"] == 0.0)
        study.tell(trial, 0.0)
    assert seen == {True, False}


def test_rl_zoo_entries_with_sb3_defaults_are_points_of_the_search():
    """RL Zoo's MountainCar-v0 A2C entry keeps SB3's n_steps 5 and ent_coef 0.0: with both searched,
    its warm start replays it exactly; a trial stored before the n_steps choice existed had a power of two."""
    from sb3_pg.tuning.warm_start import warm_start_configs

    space = SEARCH_SPACES["pg_a2c"]
    extra = ["n_steps", "ent_coef", "gae_lambda"]
    zoo = warm_start_configs("pg_a2c", "MountainCar-v0")["rl_zoo_a2c.yml"]
    params = space.params_for(zoo, extra)
    assert params["n_steps_kind"] == "sb3_default" and params["entropy_bonus"] == "off"
    kwargs = space.kwargs_from_params(params)
    assert kwargs["n_steps"] == 5 and kwargs["ent_coef"] == 0.0 and kwargs["learning_rate"] == 7e-4
    assert space.params_for({"n_steps": 64}, extra)["n_steps_exp"] == 6
    assert space.params_for({"n_steps": 6}, extra).get("n_steps_exp") is None  # neither: left to the sampler
    older = {k: v for k, v in space.params_for({"n_steps": 8}, ["n_steps"]).items() if k != "n_steps_kind"}
    assert older["n_steps_exp"] == 3 and space.sample(optuna.trial.FixedTrial(older), ["n_steps"])["n_steps"] == 8


def test_no_warm_start(tmp_path):
    assert _cli(tmp_path, "reinforce", 1, "--no-warm-start") == 0
    study = optuna.load_study(study_name="reinforce-CartPole-v1", storage=open_storage(str(tmp_path / "study.log")))
    assert "warm_start" not in study.trials[0].user_attrs


def test_fixed_policy_kwargs_in_rl_zoo_spelling(tmp_path):
    assert _cli(tmp_path, "pg_a2c", 1, "--fixed", "policy_kwargs=dict(net_arch=[64])", "--no-warm-start") == 0
    study = optuna.load_study(study_name="pg_a2c-CartPole-v1", storage=open_storage(str(tmp_path / "study.log")))
    assert study.user_attrs["settings"]["fixed"] == {"policy_kwargs": {"net_arch": [64]}}
    from sb3_pg.tuning import report

    # The summary and trials.csv show what was searched, not the fixed policy_kwargs
    shown = report.hyperparameters(study, study.trials[0])
    assert "learning_rate" in shown and not any(name.startswith("net_arch") for name in shown)


def test_confirmation_reruns_the_best_and_the_warm_starts_on_held_out_seeds(tmp_path, capsys):
    assert _cli(tmp_path, "reinforce", 3, "--confirm", "1", "--confirm-seeds", "2") == 0
    rows = list(csv.DictReader((tmp_path / "confirmation.csv").open()))
    labels = [row["candidate"] for row in rows]
    assert "defaults" in labels and "zoo_configs" in labels and len(rows) <= 3
    assert all(len(row["held_out_finals"].split()) == 2 for row in rows)
    winner = max(rows, key=lambda row: float(row["held_out_final_iqm"]))
    best = (tmp_path / "best.yml").read_text()
    assert f"winner {winner['candidate']}" in best and "seeds 1000..1001" in best
    assert f"trial {winner['trial']} of 3" in best


def test_enqueued_configurations_run_after_the_warm_starts_and_are_confirmed(tmp_path):
    """--enqueue: the user's configuration is a trial of the study, exactly, and a candidate of the confirmation."""
    mine = ["gamma=0.995", "learning_rate=lin_2e-3", "n_episodes=4"]
    argv = ["--extra-params", "n_episodes", "--enqueue", *mine, "--confirm", "1", "--confirm-seeds", "2"]
    assert _cli(tmp_path, "reinforce", 4, *argv) == 0
    study = optuna.load_study(study_name="reinforce-CartPole-v1", storage=open_storage(str(tmp_path / "study.log")))
    names = [t.user_attrs.get("warm_start") for t in study.trials]
    mine_at = names.index("enqueued-1")  # after the warm starts (a duplicate of another is skipped), before the sampler's
    assert names[:2] == ["defaults", "zoo_configs"] and None not in names[:mine_at] and not any(names[mine_at + 1 :])
    kwargs = SEARCH_SPACES["reinforce"].kwargs_from_params(study.trials[mine_at].params)
    assert kwargs["gamma"] == pytest.approx(0.995) and kwargs["n_episodes"] == 4
    assert kwargs["learning_rate"](1.0) == pytest.approx(2e-3) and kwargs["learning_rate"](0.5) == pytest.approx(1e-3)
    assert kwargs["policy_kwargs"]["net_arch"] == {"pi": [64, 64], "vf": [64, 64]}  # what it does not name: the defaults
    labels = [row["candidate"] for row in csv.DictReader((tmp_path / "confirmation.csv").open())]
    assert "enqueued-1" in labels
    # Resuming with the same command enqueues nothing twice
    assert _cli(tmp_path, "reinforce", 4, *argv) == 0
    study = optuna.load_study(study_name="reinforce-CartPole-v1", storage=open_storage(str(tmp_path / "study.log")))
    assert [t.user_attrs.get("warm_start") for t in study.trials].count("enqueued-1") == 1


@pytest.mark.parametrize("algo", ["reinforce", "pg_a2c"])
@pytest.mark.parametrize("rate", ["8.157e-4", "lin_8.157e-4"])
def test_enqueue_takes_constant_and_linear_learning_rates(algo, rate):
    """--enqueue learning_rate=<x>: RL Zoo makes a constant rate a ConstantSchedule, the search a float;
    both are the same point (it was refused as "not a point of the search")."""
    from sb3_pg.cli import build_parser
    from sb3_pg.tuning.warm_start import enqueued_params

    args = build_parser().parse_args(["tune", "--algo", algo, "--env", "CartPole-v1", "--enqueue", f"learning_rate={rate}"])
    (params,) = enqueued_params(algo, [dict(config) for config in args.enqueue], [], {})
    assert params["learning_rate"] == pytest.approx(8.157e-4)
    assert params["lr_schedule"] == ("linear" if rate.startswith("lin_") else "constant")
    made = SEARCH_SPACES[algo].kwargs_from_params(params)["learning_rate"]
    assert (made(1.0) if callable(made) else made) == pytest.approx(8.157e-4)


def test_summary_and_trials_csv_show_real_hyperparameters():
    from sb3_pg.tuning import report

    study = optuna.create_study(direction="maximize")
    study.set_user_attr("settings", {"algo": "pg_a2c", "fixed": {}, "extra_params": [], "n_timesteps": 100, "n_seeds": 1})
    joint = {"learning_rate": 1e-3, "critic_optimizer": "joint", "one_minus_gamma": 0.01, "vf_depth": 2, "vf_width_exp": 5}
    separate = {**joint, "critic_optimizer": "separate", "critic_learning_rate": 2e-3}
    distributions = {
        "learning_rate": optuna.distributions.FloatDistribution(1e-5, 1e-2, log=True),
        "critic_optimizer": optuna.distributions.CategoricalDistribution(["joint", "separate"]),
        "critic_learning_rate": optuna.distributions.FloatDistribution(1e-5, 1e-2, log=True),
        "one_minus_gamma": optuna.distributions.FloatDistribution(1e-4, 0.1, log=True),
        "vf_depth": optuna.distributions.IntDistribution(1, 3),
        "vf_width_exp": optuna.distributions.IntDistribution(4, 8),
    }
    for value, params in ((1.0, joint), (2.0, separate)):
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions={k: distributions[k] for k in params}, value=value)
        )
    text = report.summary(study)
    header = text.splitlines()[1].split(" | ")
    assert header == ["trial", "objective", "critic_learning_rate", "gamma", "learning_rate", "net_arch.pi", "net_arch.vf"]
    assert "one_minus_gamma" not in text and "vf_width_exp" not in text
    rows = {line.split(" | ")[0]: line.split(" | ") for line in text.splitlines()[2:4]}
    assert rows["0"][2] == "None" and rows["1"][2] == "0.002" and rows["0"][3] == "0.99" and rows["0"][6] == "[32, 32]"
    table = report.trials_table(study)
    real = {"learning_rate", "critic_learning_rate", "gamma", "net_arch.pi", "net_arch.vf"}
    assert list(table.columns[:2]) == ["number", "value"] and set(table.columns[2:7]) == real
    assert "params_one_minus_gamma" in table.columns  # Optuna's own parameters stay, prefixed


def test_vec_env_option_gives_dummy_vec_envs_trials(tmp_path):
    """Gymnasium's sync vector env steps as DummyVecEnv does: the same trials, to the bit."""
    values = {}
    for kind in ("dummy", "gymnasium"):
        out = tmp_path / kind
        assert _cli(out, "pg_a2c", 2, "--vec-env", kind, "--no-warm-start") == 0
        study = optuna.load_study(study_name="pg_a2c-CartPole-v1", storage=open_storage(str(out / "study.log")))
        values[kind] = [(t.params, t.value) for t in study.trials]
        assert study.user_attrs["settings"]["vec_env"] == kind
    assert values["gymnasium"] == values["dummy"]


def test_only_the_worker_that_creates_a_study_enqueues_its_warm_starts(tmp_path):
    """Creation is atomic (a unique study name): of workers starting together, one alone creates the
    study and enqueues the warm starts; the others, even seeing it still empty, enqueue nothing."""
    from sb3_pg.tuning.study import load_or_create

    settings = TuneSettings(
        "reinforce", "CartPole-v1", n_timesteps=64, n_seeds=1, n_evaluations=1, eval_episodes=1, n_envs=1, seed=0
    )
    storage = str(tmp_path / "s.journal")
    first, created = load_or_create(settings, storage, "shared", "tpe", "none")
    second, created_again = load_or_create(settings, storage, "shared", "tpe", "none")
    assert (created, created_again) == (True, False) and not second.trials  # the second sees an empty study
    assert first._study_id == second._study_id


def _studies(path):
    storage = open_storage(str(path / "study.log"))
    study = optuna.load_study(study_name="reinforce-CartPole-v1", storage=storage)
    return study, optuna.load_study(study_name="reinforce-CartPole-v1:confirmation", storage=storage)


def test_n_workers_share_the_study_then_the_confirmation_runs(tmp_path, capsys):
    assert _cli(tmp_path, "reinforce", 3, "--n-workers", "2", "--confirm", "1", "--confirm-seeds", "2") == 0
    assert "helper worker exited" not in capsys.readouterr().err
    study, confirmation = _studies(tmp_path)
    assert len(places(study.trials).finished) == 3 and not places(study.trials).active
    # Each (candidate, held-out seed) pair ran exactly once, to the end
    runs = [t for t in confirmation.trials if not t.user_attrs.get(SURPLUS)]
    pairs = [(t.user_attrs["candidate_trial"], t.user_attrs["seed"]) for t in runs]
    rows = list(csv.DictReader((tmp_path / "confirmation.csv").open()))
    assert sorted(pairs) == sorted((int(row["trial"]), seed) for row in rows for seed in (1000, 1001))
    assert all(t.state == TrialState.COMPLETE for t in runs)
    assert all(row["not_complete"] == "" and len(row["held_out_finals"].split()) == 2 for row in rows)


def test_confirmation_resumes_and_reuses_finished_runs(tmp_path):
    assert _cli(tmp_path, "reinforce", 2, "--confirm", "1", "--confirm-seeds", "2") == 0
    _, confirmation = _studies(tmp_path)
    first = {(t.user_attrs["candidate_trial"], t.user_attrs["seed"]): t.value for t in confirmation.trials}
    # The same command again trains nothing; one more held-out seed trains only that seed's runs
    assert _cli(tmp_path, "reinforce", 2, "--confirm", "1", "--confirm-seeds", "2") == 0
    assert len(_studies(tmp_path)[1].trials) == len(first)
    assert _cli(tmp_path, "reinforce", 2, "--confirm", "1", "--confirm-seeds", "3") == 0
    _, confirmation = _studies(tmp_path)
    runs = {(t.user_attrs["candidate_trial"], t.user_attrs["seed"]): t.value for t in confirmation.trials}
    assert len(runs) == len(confirmation.trials) == len(first) * 3 // 2
    assert {pair: runs[pair] for pair in first} == first
    rows = list(csv.DictReader((tmp_path / "confirmation.csv").open()))
    assert all(len(row["held_out_finals"].split()) == 3 for row in rows)


def test_a_candidate_that_diverges_on_a_held_out_seed_cannot_win(tmp_path, capsys):
    from sb3_pg.tuning.confirm import CANDIDATE, MEAN, SEED, conclude, open_confirmation

    study = optuna.create_study(storage=open_storage(str(tmp_path / "s.log")), study_name="s", direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=1.0, user_attrs={"warm_start": "defaults"}))
    study.add_trial(optuna.trial.create_trial(value=2.0))
    confirmation = open_confirmation(study)
    for number, seed, state, value in ((0, 1000, "COMPLETE", 10.0), (0, 1001, "COMPLETE", 12.0), (1, 1000, "COMPLETE", 99.0)):
        attrs = {CANDIDATE: number, SEED: seed, MEAN: value}
        confirmation.add_trial(optuna.trial.create_trial(state=TrialState[state], value=value, user_attrs=attrs))
    confirmation.add_trial(optuna.trial.create_trial(state=TrialState.PRUNED, user_attrs={CANDIDATE: 1, SEED: 1001}))
    objective = TuningObjective("reinforce", "CartPole-v1", n_timesteps=1)
    winner = conclude(study, objective, top=1, n_seeds=2, out=tmp_path)
    assert winner is not None and winner.label == "defaults" and winner.final_iqm == 11.0
    rows = {row["candidate"]: row for row in csv.DictReader((tmp_path / "confirmation.csv").open())}
    assert rows["trial 1"]["not_complete"] == "1001 diverged" and rows["trial 1"]["held_out_final_iqm"] == "-inf"
    assert "trial 1: not complete (diverged on seeds [1001]" in capsys.readouterr().out
    # With a seed still to run, no candidate is complete: no winner yet
    assert conclude(study, objective, top=1, n_seeds=3, out=tmp_path) is None


def test_a_helper_process_runs_the_confirmation_runs(tmp_path):
    """What each ``--n-workers`` helper runs, here in-process: it takes enqueued runs and finishes them."""
    from sb3_pg.tuning import confirm as held_out
    from sb3_pg.tuning.study import _helper, _Job

    assert _cli(tmp_path, "reinforce", 1) == 0
    storage = str(tmp_path / "study.log")
    settings = TuneSettings("reinforce", "CartPole-v1", 256, 1, 2, 1, 1, 0)
    study = optuna.load_study(study_name="reinforce-CartPole-v1", storage=open_storage(storage))
    objective = TuningObjective(**settings.__dict__)
    total = held_out.enqueue(study, objective, top=1, n_seeds=2)
    _helper(_Job(settings, storage, "reinforce-CartPole-v1", "tpe", "median", 10), 1, 1, total)
    confirmation = optuna.load_study(study_name="reinforce-CartPole-v1:confirmation", storage=open_storage(storage))
    assert len(confirmation.trials) == total == 2 and all(t.state == TrialState.COMPLETE for t in confirmation.trials)
    assert {t.user_attrs["seed"] for t in confirmation.trials} == {1000, 1001}


def test_plots_of_a_small_study_are_small_pages_and_print_no_warnings(tmp_path):
    study = optuna.create_study()
    for value, (x, y) in enumerate([(0.1, 1), (0.2, 1), (0.3, 2)]):
        study.add_trial(
            optuna.trial.create_trial(
                params={"x": x, "y": y, "z": 5},
                distributions={
                    "x": optuna.distributions.FloatDistribution(0, 1),
                    "y": optuna.distributions.IntDistribution(1, 2),
                    "z": optuna.distributions.IntDistribution(5, 5),
                },
                value=float(value),
                intermediate_values={1: float(value)},
            )
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert write_plots(study, tmp_path) == []
    assert (tmp_path / "param_importances.png").exists()
    page = (tmp_path / "param_importances.html").read_text()
    assert "cdn.plot.ly" in page and len(page) < 100_000  # not plotly.js's 4.8 MB in every page


def test_journal_reads_retry_a_line_another_worker_is_still_writing(tmp_path, monkeypatch):
    """optuna/optuna#5138: a reader meets a half-written line; it reads on from where it was, once the
    line is whole, and each log reaches the storage exactly once. A line that never parses still fails."""
    import json

    from optuna.storages.journal import JournalFileBackend

    import sb3_pg.storage

    path = tmp_path / "study.log"
    study = optuna.create_study(storage=open_storage(str(path)), study_name="s")
    for value in (1.0, 2.0, 3.0):
        study.add_trial(optuna.trial.create_trial(value=value))
    whole = JournalFileBackend.read_logs
    failures = iter([True])

    def half_written_once(self, log_number_from):
        for number, log in enumerate(whole(self, log_number_from), start=log_number_from):
            if number == 2 and next(failures, False):
                raise json.JSONDecodeError("Expecting value", "", 0)
            yield log

    monkeypatch.setattr(JournalFileBackend, "read_logs", half_written_once)
    monkeypatch.setattr(sb3_pg.storage.time, "sleep", lambda seconds: None)
    reread = optuna.load_study(storage=open_storage(str(path)), study_name="s")
    assert [trial.value for trial in reread.trials] == [1.0, 2.0, 3.0]

    def never_whole(self, log_number_from):
        raise json.JSONDecodeError("Expecting value", "", 0)
        yield {}

    monkeypatch.setattr(JournalFileBackend, "read_logs", never_whole)
    with pytest.raises(json.JSONDecodeError):
        optuna.load_study(storage=open_storage(str(path)), study_name="s")


@pytest.mark.parametrize("algo", BASE)
def test_schedules_follow_the_whole_budget_across_evaluations(algo):
    """The objective trains in chunks (one per evaluation); a schedule must see what one learn(total) shows
    it, not restart at every chunk (SB3 measures progress within each learn call)."""
    from stable_baselines3.common.env_util import make_vec_env

    def recorded(seen: list[float]):
        def schedule(progress: float) -> float:
            seen.append(progress)
            return 1e-3 * progress

        return schedule

    kwargs = {"pg_a2c": {"n_steps": 8}, "reinforce": {"n_episodes": 2}}[algo]
    algo_class = SEARCH_SPACES[algo].algo
    chunked: list[float] = []
    objective = TuningObjective(algo, "CartPole-v1", 400, 1, 4, 1, 2, 0)
    model = algo_class("MlpPolicy", make_vec_env("CartPole-v1", 2, seed=0), seed=0, learning_rate=recorded(chunked), **kwargs)
    objective._train_and_evaluate(optuna.trial.FixedTrial({}), [model], [make_vec_env("CartPole-v1", 1, seed=5)])
    single: list[float] = []
    model = algo_class("MlpPolicy", make_vec_env("CartPole-v1", 2, seed=0), seed=0, learning_rate=recorded(single), **kwargs)
    model.learn(400)
    # The same values, update for update; each chunk ends at a whole rollout, so the chunks may train a
    # few rollouts past the budget, at progress 0 (where a linear schedule is 0)
    assert len(single) > 8 and chunked[: len(single)] == single and set(chunked[len(single) :]) <= {0.0}
    assert all(a >= b for a, b in itertools.pairwise(chunked[3:]))  # never restarts (the first 3: a check at construction)


def test_a_tie_of_held_out_iqm_goes_to_the_candidate_that_learns_sooner():
    from sb3_pg.tuning.confirm import Confirmation, winner

    trial = optuna.trial.create_trial(value=1.0)
    slow = Confirmation(trial, "defaults", [500.0] * 4, [280.0] * 4, [], [])
    fast = Confirmation(trial, "enqueued-1", [500.0] * 4, [370.0] * 4, [], [])
    lower = Confirmation(trial, "trial 3", [490.0] * 4, [450.0] * 4, [], [])
    unfinished = Confirmation(trial, "trial 4", [500.0] * 3, [499.0] * 3, [], [1003])
    assert winner([slow, fast, lower, unfinished]) is fast and winner([slow, lower]) is slow
    assert winner([unfinished]) is None
