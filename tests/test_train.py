"""``sb3-pg train`` as an SB3 / RL Zoo user expects it, TensorBoard, ``--version``, ``--help``, and no import cycles."""

import sys
from pathlib import Path

import pytest
import yaml
from stable_baselines3.common import logger as sb3_logger
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import VecNormalize

from sb3_pg import A2C, Reinforce
from sb3_pg.cli import build_parser, main
from sb3_pg.cli.train import TrainSettings, resolve_config
from sb3_pg.configs import config_path, load_config

ROOT = Path(__file__).parent.parent
QUICK = ["--timesteps", "200", "--eval-freq", "0", "--eval-episodes", "1"]


def run(argv, capsys) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("algo, env_id", [("pg_a2c", "CartPole-v1"), ("reinforce", "Acrobot-v1"), ("pg_a2c", "Pendulum-v1")])
def test_the_tuned_entry_is_the_default_and_is_printed(algo, env_id, capsys):
    entry = load_config(config_path(algo))[env_id]
    args = build_parser().parse_args(["train", "--algo", algo, "--env", env_id])
    config, _ = resolve_config(TrainSettings.from_args(args))
    assert config.n_envs == entry["n_envs"] and config.n_timesteps == int(float(entry["n_timesteps"]))
    assert (config.normalize is not None) == bool(entry.get("normalize", False))
    for key in ("gamma", "n_steps", "n_episodes", "critic_learning_rate", "max_grad_norm"):
        if key in entry:
            assert config.kwargs[key] == entry[key]
    out = run(["train", "--algo", algo, "--env", env_id, *QUICK], capsys)
    assert f"hyperparameters from zoo_configs/{algo}.yml:" in out
    printed = yaml.safe_load("\n".join(line for line in out.splitlines() if line.startswith("  ")))
    assert printed == {**entry, "n_timesteps": 200}


def test_an_env_without_an_entry_takes_the_default_entry(capsys):
    out = run(["train", "--algo", "pg_a2c", "--env", "CartPole-v0", *QUICK], capsys)
    assert "zoo_configs/pg_a2c.yml (default entry)" in out


def test_a_named_variant_is_its_entry_plus_its_change(capsys):
    args = build_parser().parse_args(["train", "--algo", "pg_a2c-td0", "--env", "CartPole-v1"])
    config, _ = resolve_config(TrainSettings.from_args(args))
    assert config.kwargs["gae_lambda"] == 0.0
    assert config.kwargs["n_steps"] == load_config(config_path("pg_a2c"))["CartPole-v1"]["n_steps"]
    assert "gae_lambda: 0.0" in run(["train", "--algo", "pg_a2c-td0", *QUICK], capsys)


def test_conf_file_and_hyperparams_override_the_entry(tmp_path, capsys):
    conf = tmp_path / "mine.yml"
    conf.write_text("CartPole-v1:\n  n_envs: 2\n  n_timesteps: !!float 1e6\n  gamma: 0.9\n  n_steps: 4\n")
    argv = ["train", "--algo", "pg_a2c", "--conf-file", str(conf), "--hyperparams", "gamma=0.95", "ent_coef=0.01"]
    config, _ = resolve_config(TrainSettings.from_args(build_parser().parse_args(argv)))
    assert (config.n_envs, config.n_timesteps) == (2, 1_000_000)
    assert config.kwargs["gamma"] == 0.95 and config.kwargs["ent_coef"] == 0.01 and config.kwargs["n_steps"] == 4
    out = run([*argv, *QUICK, "--n-envs", "3"], capsys)
    assert f"hyperparameters from {tmp_path.name}/mine.yml, with --hyperparams gamma=0.95 ent_coef=0.01:" in out
    assert "n_envs: 3" in out and "gamma: 0.95" in out


def test_numbers_typed_as_on_a_command_line_are_numbers():
    """PyYAML reads ``1e-3`` (exponent, no dot) as a string; the help's own example must work."""
    argv = ["train", "--algo", "reinforce", "--hyperparams", "learning_rate=1e-3", "ent_coef=3E-4", "gamma=0.99"]
    config, _ = resolve_config(TrainSettings.from_args(build_parser().parse_args(argv)))
    learning_rate = config.kwargs["learning_rate"]
    assert (learning_rate if isinstance(learning_rate, float) else learning_rate(1.0)) == 1e-3
    assert (config.kwargs["ent_coef"], config.kwargs["gamma"]) == (3e-4, 0.99)
    argv = ["train", "--algo", "reinforce", "--hyperparams", "learning_rate=lin_1e-3", "policy=MlpPolicy", "x=nan"]
    values = dict(build_parser().parse_args(argv).hyperparams)
    assert values == {"learning_rate": "lin_1e-3", "policy": "MlpPolicy", "x": "nan"}


def test_policy_kwargs_in_rl_zoo_spelling(capsys):
    argv = ["train", "--algo", "reinforce", "--hyperparams", "policy_kwargs=dict(net_arch=[16], activation_fn=nn.ReLU)"]
    config, _ = resolve_config(TrainSettings.from_args(build_parser().parse_args(argv)))
    assert config.kwargs["policy_kwargs"]["net_arch"] == [16]
    assert "activation_fn: nn.ReLU" in run([*argv, *QUICK], capsys)


@pytest.mark.parametrize("algo", ["pg_a2c", "reinforce"])
def test_evaluations_save_the_best_model_and_normalization_statistics(algo, tmp_path, capsys):
    save = tmp_path / "agent.zip"
    argv = ["train", "--algo", algo, "--timesteps", "600", "--eval-freq", "200", "--eval-episodes", "2"]
    out = run([*argv, "--save", str(save), "--hyperparams", "normalize=true", "n_envs=2"], capsys)
    assert "best evaluation during training:" in out
    for name in ("agent.zip", "agent_best.zip", "agent_vecnormalize.pkl", "agent_best_vecnormalize.pkl"):
        assert (tmp_path / name).is_file(), name
    model = (A2C if algo == "pg_a2c" else Reinforce).load(tmp_path / "agent_best.zip")
    assert model.num_timesteps > 0
    assert VecNormalize.load(str(tmp_path / "agent_vecnormalize.pkl"), venv=model.get_env() or _venv()).obs_rms.count > 1


def _venv():
    from stable_baselines3.common.env_util import make_vec_env

    return make_vec_env("CartPole-v1", n_envs=1)


def test_outputs_of_a_run_are_checked_before_training(tmp_path, capsys):
    (tmp_path / "agent_best.zip").write_bytes(b"a user's best model")
    with pytest.raises(SystemExit) as error:
        main(["train", "--algo", "pg_a2c", "--eval-freq", "100", "--save", str(tmp_path / "agent.zip")])
    assert error.value.code == 2
    assert "agent_best.zip" in capsys.readouterr().err
    assert (tmp_path / "agent_best.zip").read_bytes() == b"a user's best model"


def _scalar_tags(folder: Path) -> set[str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (event_file,) = folder.rglob("events.out.tfevents.*")
    accumulator = EventAccumulator(str(event_file))
    accumulator.Reload()
    return set(accumulator.Tags()["scalars"])


@pytest.mark.parametrize(
    "algo_class, kwargs, keys",
    [
        (A2C, {"n_steps": 8}, {"train/policy_loss", "train/value_loss", "train/entropy_loss", "train/learning_rate"}),
        (Reinforce, {"n_episodes": 2}, {"train/policy_loss", "train/value_loss", "rollout/trained_fraction"}),
    ],
)
def test_tensorboard_log_writes_the_train_keys(algo_class, kwargs, keys, tmp_path):
    model = algo_class("MlpPolicy", "CartPole-v1", tensorboard_log=str(tmp_path), seed=0, **kwargs)
    model.learn(400, log_interval=1)
    assert keys <= _scalar_tags(tmp_path)


def test_train_tensorboard_log(tmp_path, capsys):
    run(["train", "--algo", "pg_a2c", *QUICK, "--log-interval", "1", "--tensorboard-log", str(tmp_path / "tb")], capsys)
    assert (tmp_path / "tb" / "pg_a2c_1").is_dir()
    assert "train/policy_loss" in _scalar_tags(tmp_path / "tb")


@pytest.mark.parametrize("algo_class", [A2C, Reinforce])
def test_tensorboard_missing_is_said_at_construction(algo_class, monkeypatch):
    monkeypatch.setattr(sb3_logger, "SummaryWriter", None)
    with pytest.raises(ImportError, match=r'`tensorboard_log` .* pip install "sb3-pg\[tensorboard\]"'):
        algo_class("MlpPolicy", "CartPole-v1", tensorboard_log="tb")


def test_train_without_tensorboard_names_the_option(monkeypatch, tmp_path, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else find_spec(name, *a))
    with pytest.raises(SystemExit) as error:
        main(["train", "--tensorboard-log", str(tmp_path)])
    assert error.value.code == 2
    assert "--tensorboard-log" in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("tty, flag, expected", [(True, [], True), (False, [], False), (True, ["--no-progress-bar"], False)])
def test_progress_bar_is_on_in_a_terminal(tty, flag, expected, monkeypatch, capsys):
    seen = {}
    learn = OnPolicyAlgorithm.learn

    def spy(self, *args, **kwargs):
        seen["progress_bar"] = kwargs.get("progress_bar")
        return learn(self, *args, **{**kwargs, "progress_bar": False})

    monkeypatch.setattr(OnPolicyAlgorithm, "learn", spy)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    run(["train", "--algo", "pg_a2c", *QUICK, *flag], capsys)
    assert seen["progress_bar"] is expected


def test_progress_bar_and_verbose_and_device(capsys):
    argv = ["train", "--algo", "pg_a2c", *QUICK, "--progress-bar", "--verbose", "1", "--log-interval", "1", "--device", "cpu"]
    out = run(argv, capsys)
    assert "| rollout/" in out or "| time/" in out  # SB3's table
    assert "on cpu" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as error:
        main(["--version"])
    assert error.value.code == 0
    from sb3_pg import __version__

    assert capsys.readouterr().out.startswith(f"sb3-pg {__version__} (stable-baselines3 ")


def _subparsers():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return {name: sub for name, sub in commands.choices.items() if name != "zoo"}  # zoo hands its arguments to RL Zoo


@pytest.mark.parametrize("command", ["train", "tune", "compare"])
def test_every_option_has_help_and_its_default(command):
    sub = _subparsers()[command]
    for action in sub._actions:
        assert action.help, f"{command} {action.option_strings} has no help"
    text = sub.format_help().split("\noptions:", 1)[1]
    for action in sub._actions:
        has_default = action.default is not None and action.default is not False and action.default != []
        if action.option_strings and has_default and action.default != "==SUPPRESS==":
            entry = text.split(f"  {action.option_strings[-1]}", 1)[1].split("\n  -", 1)[0]
            assert "default" in entry, f"{command} {action.option_strings[-1]}: no default in --help"


def test_readme_train_commands_run(tmp_path, monkeypatch, capsys):
    """README's ``sb3-pg train`` lines as written, with a short budget appended (the last value wins)."""
    import shlex

    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("sb3-pg train ")]
    assert len(lines) >= 3
    monkeypatch.chdir(tmp_path)
    for line in lines:
        argv = shlex.split(line)[1:]
        resolve_config(TrainSettings.from_args(build_parser().parse_args(argv)))  # the exact form parses and resolves
        run([*argv, "--timesteps", "300", "--eval-freq", "150", "--eval-episodes", "1"], capsys)
    assert {"pg_a2c.zip", "reinforce.zip", "reinforce_best.zip"} <= {path.name for path in tmp_path.iterdir()}


def test_vec_env_kinds_train_the_same(capsys):
    """Gymnasium's sync vector env and SB3's subprocesses give DummyVecEnv's transitions: the same run."""
    argv = ["train", "--algo", "pg_a2c", "--timesteps", "2000", "--eval-freq", "0", "--eval-episodes", "2"]
    printed = {}
    for kind in ("dummy", "gymnasium", "subproc"):
        out = run([*argv, "--vec-env", kind], capsys)
        printed[kind] = [line for line in out.splitlines() if line.startswith("deterministic evaluation")]
    assert printed["gymnasium"] == printed["dummy"] == printed["subproc"]
    pytest.importorskip("envpool")
    assert "deterministic evaluation" in run([*argv, "--vec-env", "envpool"], capsys)
