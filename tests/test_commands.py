"""What a new user meets on the command line: help that works, one-line errors that name the key and
the option, Ctrl-C that keeps what was trained, paths printed as written, one spelling per option,
figures and plots that show what they say."""

import shutil

import pytest
from envs import InterruptedEnv  # noqa: F401  (registers InterruptedEnv-v0)

from sb3_pg.cli import main
from sb3_pg.cli.train import statistics_path


def exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as error:
        return int(error.code or 0)


def test_zoo_help_works(capsys):
    assert exit_code(["zoo", "--help"]) == 0
    assert "train" in capsys.readouterr().out


def test_zoo_train_help_is_rl_zoos_own_with_our_algorithms(capsys):
    assert exit_code(["zoo", "train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: sb3-pg zoo train" in out and "pg_a2c" in out and "reinforce" in out


@pytest.mark.parametrize("command", ["train", "zoo"])
def test_a_conf_file_without_the_env_and_without_default_is_refused(command, tmp_path, capsys):
    conf = tmp_path / "other_env.yml"
    conf.write_text("Acrobot-v1:\n  n_timesteps: 1000\n")
    argv = ["--algo", "pg_a2c", "--env", "CartPole-v1", "--conf-file", str(conf)]
    full = ["train", *argv] if command == "train" else ["zoo", "train", *argv, "-f", str(tmp_path / "logs")]
    assert exit_code(full) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{conf} has no entry for CartPole-v1 and no default entry" in last
    assert not (tmp_path / "logs").exists()


def test_ctrl_c_in_train_keeps_the_model_and_exits_130_without_a_traceback(tmp_path, capsys):
    save = tmp_path / "model.zip"
    argv = ["train", "--algo", "reinforce", "--env", "InterruptedEnv-v0", "--hyperparams", "normalize=true"]
    assert main([*argv, "--eval-freq", "0", "--save", str(save)]) == 130
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    last = captured.out.strip().splitlines()[-1]
    assert last.startswith("interrupted after") and str(save) in last
    assert save.exists() and statistics_path(save).exists()


@pytest.mark.parametrize("command", ["tune", "compare"])
def test_ctrl_c_in_tune_and_compare_says_what_is_stored_and_exits_130(command, tmp_path, capsys):
    out = tmp_path / "out"
    if command == "tune":
        argv = ["tune", "--algo", "reinforce", "--env", "InterruptedEnv-v0", "--n-trials", "2", "--timesteps", "3000"]
    else:
        argv = ["compare", "--envs", "InterruptedEnv-v0", "--algos", "reinforce", "--seeds", "1", "--timesteps", "3000"]
    assert main([*argv, "--out", str(out), "--no-progress-bar"]) == 130
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    last = captured.out.strip().splitlines()[-1]
    assert last.startswith("interrupted: the finished") and str(out) in last


def test_a_value_that_does_not_parse_names_its_key(capsys):
    assert exit_code(["train", "--algo", "pg_a2c", "--hyperparams", "normalize=ture"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "key 'normalize'" in last and "'ture'" in last and "ast." not in last


def test_save_without_zip_says_the_path_sb3_writes(tmp_path, capsys):
    argv = ["train", "--algo", "pg_a2c", "--timesteps", "200", "--eval-freq", "0", "--eval-episodes", "1"]
    assert main([*argv, "--save", str(tmp_path / "model")]) == 0
    assert f"saved to {tmp_path / 'model.zip'}" in capsys.readouterr().out
    assert (tmp_path / "model.zip").exists()


@pytest.mark.parametrize("command", ["train", "tune", "compare"])
def test_one_spelling_everywhere_with_the_old_ones_as_aliases(command):
    from sb3_pg.cli import build_parser

    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    flags = {flag for action in sub._actions for flag in action.option_strings}
    assert {"--timesteps", "--n-timesteps", "--progress-bar", "--no-progress-bar", "--vec-env"} <= flags
    assert "--n-timesteps" not in sub.format_help()  # the alias works, the help shows one spelling


def test_an_unknown_env_id_gets_a_did_you_mean(capsys):
    assert exit_code(["train", "--env", "CartPole-v2"]) == 2
    assert "did you mean CartPole-v1" in capsys.readouterr().err


def test_rl_zoos_failures_are_one_line(tmp_path, capsys):
    argv = ["zoo", "train", "--algo", "pg_a2c", "--env", "CartPole-v1", "-n", "100", "-f", str(tmp_path)]
    assert exit_code([*argv, "-i", str(tmp_path / "missing.zip")]) != 0  # RL Zoo's own check of a trained agent
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err


def test_a_run_of_one_evaluation_is_drawn(tmp_path):
    """A budget of one --eval-freq gives each run one point: every algorithm is on the figure."""
    from sb3_pg.compare import report

    runs = [report.Run("pg_a2c", "CartPole-v1", seed, "complete", [1000], [20.0 + seed], 1.0) for seed in range(3)]
    runs += [report.Run("reinforce", "CartPole-v1", 0, "complete", [500, 1000], [10.0, 30.0], 1.0)]
    import matplotlib

    matplotlib.use("Agg")
    figure_path = tmp_path / "curves.png"
    drawn = []
    import matplotlib.axes

    plot = matplotlib.axes.Axes.plot

    def spy(self, *args, **kwargs):
        drawn.append(kwargs.get("label", ""))
        return plot(self, *args, **kwargs)

    matplotlib.axes.Axes.plot = spy  # type: ignore[method-assign]
    try:
        report.curve_figure("CartPole-v1", ["pg_a2c", "reinforce"], runs, figure_path)
    finally:
        matplotlib.axes.Axes.plot = plot  # type: ignore[method-assign]
    assert any(label.startswith("pg_a2c") for label in drawn) and any(label.startswith("reinforce") for label in drawn)
    assert figure_path.exists()


def test_tune_says_when_its_trials_are_only_known_configurations(tmp_path, capsys):
    argv = ["tune", "--algo", "reinforce", "--env", "CartPole-v1", "--n-trials", "1", "--timesteps", "300"]
    assert main([*argv, "--n-evaluations", "1", "--eval-episodes", "1", "--out", str(tmp_path), "--no-progress-bar"]) == 0
    assert "all 1 trials are known configurations" in capsys.readouterr().out


def test_tune_plots_name_hyperparameters_as_the_user_does(tmp_path):
    from sb3_pg.tuning.report import user_named_study

    argv = ["tune", "--algo", "pg_a2c", "--env", "CartPole-v1", "--n-trials", "4", "--timesteps", "300"]
    assert main([*argv, "--n-evaluations", "1", "--eval-episodes", "1", "--out", str(tmp_path), "--no-progress-bar"]) == 0
    import optuna

    from sb3_pg.storage import open_storage

    study = optuna.load_study(study_name="pg_a2c-CartPole-v1", storage=open_storage(str(tmp_path / "study.log")))
    names = {name for trial in user_named_study(study).trials for name in trial.params}
    assert "gamma" in names and "one_minus_gamma" not in names
    assert not any(name.endswith("_exp") for name in names)
    assert (tmp_path / "plots" / "parallel_coordinate.png").exists()
    shutil.rmtree(tmp_path)
