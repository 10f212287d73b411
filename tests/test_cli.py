"""The ``sb3-pg`` command."""

import os
import tempfile
import time

import pytest

from sb3_pg import A2C, Reinforce
from sb3_pg.cli import main
from sb3_pg.common.process import SB3_LOG_FOLDER, configure_process


def test_train_prints_evaluation(capsys, tmp_path):
    argv = ["train", "--algo", "pg_a2c", "--timesteps", "200", "--eval-episodes", "2", "--save", str(tmp_path / "m.zip")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "deterministic evaluation over 2 episodes" in out
    assert (tmp_path / "m.zip").exists()


TUNE = ["tune", "--algo", "reinforce", "--env", "CartPole-v1"]
ZOO_TRAIN = ["zoo", "train", "--algo", "pg_a2c", "--env", "CartPole-v1", "-n", "100"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--env", "NoSuchEnv-v0"], "--env"),
        (["train", "--algo", "ppo"], "--algo"),
        (["train", "--timesteps", "0"], "--timesteps"),
        (["train", "--timesteps", "2.5"], "--timesteps"),
        (["train", "--timesteps", "many"], "--timesteps"),
        (["train", "--n-envs", "0"], "--n-envs"),
        (["train", "--eval-episodes", "-1"], "--eval-episodes"),
        (["train", "--seed", "x"], "--seed"),
        (["train", "--conf-file", "/nowhere.yml"], "--conf-file"),
        (["train", "--hyperparams", "gamma"], "--hyperparams"),
        (["train", "--hyperparams", "gae_lamda=0.9"], "'gae_lamda'"),
        (["train", "--hyperparams", "gamma=high"], "'gamma'"),
        (["train", "--hyperparams", "n_envs=0"], "'n_envs'"),
        (["train", "--hyperparams", "frame_stack=4"], "sb3-pg zoo train"),
        (["train", "--algo", "pg_a2c", "--hyperparams", "n_steps=0"], "n_steps"),
        (["train", "--device", "tpu9"], "--device"),
        (["train", "--eval-freq", "-1"], "--eval-freq"),
        (["train", "--verbose", "3"], "--verbose"),
        (["train", "--log-interval", "0"], "--log-interval"),
        (["train", "--tensorboard-log", "/proc/no"], "--tensorboard-log"),
        (["train", "--vec-env", "ray"], "--vec-env"),
        ([*TUNE, "--sampler", "grid"], "--sampler"),
        ([*TUNE, "--pruner", "hyperband"], "--pruner"),
        ([*TUNE, "--n-seeds", "0"], "--n-seeds"),
        ([*TUNE, "--n-evaluations", "0"], "--n-evaluations"),
        ([*TUNE, "--fixed", "gamma"], "--fixed"),
        ([*TUNE, "--fixed", "policy_kwargs=dict(a=open('x'))"], "--fixed"),
        ([*TUNE, "--confirm-seeds", "0"], "--confirm-seeds"),
        ([*TUNE, "--n-workers", "0"], "--n-workers"),
        ([*TUNE, "--extra-params", "gae_lambda"], "--extra-params"),
        ([*TUNE, "--extra-params", "use_sde"], "use_sde needs continuous (Box) actions; CartPole-v1 has Discrete(2)"),
        (["compare", "--mode", "best"], "--mode"),
        (["compare", "--timesteps", "0"], "--timesteps"),
        (["compare", "--eval-freq", "0"], "--eval-freq"),
        (["compare", "--n-workers", "0"], "--n-workers"),
        (["compare", "--envs", "NoSuchEnv-v0"], "--envs"),
        (["zoo"], "required: {train,enjoy}"),
        (["zoo", "list"], "invalid choice: 'list'"),
        ([*ZOO_TRAIN, "-params", "gae_lamda:0.9"], "'gae_lamda'"),
        ([*ZOO_TRAIN, "-params", "gamma:high"], "'gamma'"),
        ([*ZOO_TRAIN, "-params", "gamma"], "key:value"),
        (["zoo", "enjoy", "--algo", "pg_a2c", "--env", "CartPole-v1", "-f", "/nowhere"], "argument -f"),
    ],
)
def test_bad_input_exits_2(argv, message, capsys):
    """Every subcommand: exit status 2 and one line that names the argument."""
    try:
        code = main(argv)
    except SystemExit as error:
        code = error.code
    assert code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert message in last


def test_save_never_overwrites(tmp_path, capsys):
    saved = tmp_path / "model.zip"
    saved.write_bytes(b"a user's model")
    with pytest.raises(SystemExit):
        main(["train", "--timesteps", "10", "--save", str(saved)])
    assert saved.read_bytes() == b"a user's model"
    assert "exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, option",
    [
        (["train", "--timesteps", "100000", "--save", "/proc/no/model.zip"], "--save"),
        (["tune", "--algo", "reinforce", "--env", "CartPole-v1", "--out", "/proc/no"], "--out"),
        (["compare", "--envs", "CartPole-v1", "--algos", "reinforce", "--out", "/proc/no"], "--out"),
    ],
)
def test_an_output_path_that_cannot_be_written_is_refused_before_any_work(argv, option, capsys):
    start = time.perf_counter()
    with pytest.raises(SystemExit) as error:
        main(argv)
    assert error.value.code == 2
    assert option in capsys.readouterr().err.strip().splitlines()[-1]
    assert time.perf_counter() - start < 20  # nothing was trained


def test_tune_out_that_is_a_file_names_out_and_keeps_the_file(tmp_path, capsys):
    afile = tmp_path / "results.txt"
    afile.write_text("a user's results")
    with pytest.raises(SystemExit) as error:
        main(["tune", "--algo", "reinforce", "--env", "CartPole-v1", "--out", str(afile)])
    assert error.value.code == 2
    assert "argument --out" in capsys.readouterr().err and afile.read_text() == "a user's results"


def test_a_mysql_url_gets_a_mysql_hint(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(
            [
                "tune",
                "--algo",
                "reinforce",
                "--env",
                "CartPole-v1",
                "--storage",
                "mysql://u@127.0.0.1:9/db",
                "--out",
                str(tmp_path),
            ]
        )
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--storage" in last and "postgres" not in last


def test_errors_after_parsing_print_the_subcommands_usage(capsys):
    with pytest.raises(SystemExit) as error:
        main(["train", "--env", "NoSuchEnv-v0"])
    assert error.value.code == 2
    err = capsys.readouterr().err
    assert "usage: sb3-pg train" in err and "unknown Gymnasium env id 'NoSuchEnv-v0'" in err


def test_timesteps_in_rl_zoo_notation(tmp_path, capsys):
    assert main(["train", "--algo", "pg_a2c", "--timesteps", "2e2", "--eval-episodes", "1"]) == 0
    assert "pg_a2c on CartPole-v1: 2" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["train", "--timesteps", "2.5"])


@pytest.mark.parametrize("command", [["train", "--env"], ["tune", "--algo", "reinforce", "--env"], ["compare", "--envs"]])
def test_a_box2d_env_without_box2d_names_the_extra(command, monkeypatch, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "Box2D" else find_spec(name, *a))
    with pytest.raises(SystemExit) as error:
        main([*command, "LunarLander-v3"])
    assert error.value.code == 2
    assert 'LunarLander-v3 needs Box2D: pip install "sb3-pg[box2d]"' in capsys.readouterr().err


@pytest.mark.parametrize("command", [["train", "--env"], [*TUNE[:3], "--env"], ["compare", "--envs"]])
@pytest.mark.parametrize("missing", ["envpool", "the env"])
def test_vec_env_envpool_is_checked_before_any_work(command, missing, monkeypatch, capsys):
    import sys

    if missing == "envpool":
        monkeypatch.setitem(sys.modules, "envpool", None)  # import envpool raises ImportError
    else:
        envpool = pytest.importorskip("envpool")
        monkeypatch.setattr(envpool, "list_all_envs", lambda: [])
    with pytest.raises(SystemExit) as error:
        main([*command, "CartPole-v1", "--vec-env", "envpool"])
    assert error.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "argument --vec-env" in last and ("sb3-pg[envpool]" in last if missing == "envpool" else "has no env" in last)


@pytest.mark.parametrize("command", [["train", "--env"], [*TUNE[:3], "--env"], ["compare", "--envs"]])
def test_vec_env_native_without_a_vector_implementation_exits_2_before_any_work(command, capsys):
    with pytest.raises(SystemExit) as error:
        main([*command, "Pendulum-v1", "--vec-env", "gymnasium-native"])
    assert error.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "argument --vec-env: gymnasium-native: 'Pendulum-v1' has no vector implementation" in last


def test_command_processes_share_one_sb3_log_folder_instead_of_one_per_run(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)  # and put back as it was afterwards
    configure_process()
    for model in (A2C("MlpPolicy", "CartPole-v1", seed=0), Reinforce("MlpPolicy", "CartPole-v1", n_episodes=1, seed=0)):
        model.learn(16)
        model.learn(16)
    assert [name for name in os.listdir(tmp_path) if name.startswith("SB3-")] == [SB3_LOG_FOLDER]
    assert os.listdir(tmp_path / SB3_LOG_FOLDER) == []  # no log files unless asked for


def test_a_users_sb3_logdir_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("SB3_LOGDIR", str(tmp_path / "mine"))
    configure_process()
    assert os.environ["SB3_LOGDIR"] == str(tmp_path / "mine")
