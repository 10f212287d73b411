"""``sb3-pg compare``: runs, persistence, report, statistics and bad input."""

import csv
import math
import re

import envs  # noqa: F401  (registers CrashingEnv-v0)
import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from sb3_pg.a2c import A2C
from sb3_pg.cli import main
from sb3_pg.compare import stats
from sb3_pg.compare.algos import run_config
from sb3_pg.compare.queue import CompareSettings, grid_study_name, run_of
from sb3_pg.compare.report import Run, best_seed_mean, env_table
from sb3_pg.experiment import EQUAL_HYPERPARAMETERS
from sb3_pg.storage import open_storage

ARGS = ["--algos", "pg_a2c", "sb3_a2c", "--seeds", "2", "--timesteps", "400", "--eval-freq", "200", "--eval-episodes", "1"]


def _study(out):
    settings = CompareSettings("tuned", 400, 200, 1)
    return optuna.load_study(study_name=grid_study_name(settings), storage=open_storage(str(out / "runs.log")))


def _one_run(out):
    """The argv of a grid of one run: pg_a2c on CartPole-v1, seed 0, stored in ``out``."""
    argv = ["compare", "--envs", "CartPole-v1", *ARGS, "--out", str(out), "--no-progress-bar"]
    argv[argv.index("--algos") + 1 : argv.index("--seeds")] = ["pg_a2c"]
    argv[argv.index("--seeds") + 1] = "1"
    return argv


def test_comparison_end_to_end_resumes_and_reports_failures(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    argv = ["compare", "--envs", "CartPole-v1", "CrashingEnv-v0", *ARGS, "--out", str(out), "--no-progress-bar"]
    assert main([*argv, "--n-workers", "2"]) == 1  # some runs failed: a script can tell
    assert "4 of 8 runs failed" in capsys.readouterr().err
    report = (out / "report.md").read_text()
    assert (out / "curves_CartPole-v1.png").stat().st_size > 0 and "(curves_CartPole-v1.png)" in report
    # No figure of nothing: the env whose every run crashed links none
    assert not (out / "curves_CrashingEnv-v0.png").exists() and "curves_CrashingEnv-v0" not in report
    for env_id in ("CartPole-v1", "CrashingEnv-v0"):
        assert f"### {env_id}" in report
        for algo in ("pg_a2c", "sb3_a2c"):
            assert f"| {env_id} | {algo} |" in report  # hyperparameter table
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 8
    assert {row["state"] for row in rows if row["env"] == "CartPole-v1"} == {"complete"}
    crashed = [row for row in rows if row["env"] == "CrashingEnv-v0"]
    assert {row["state"] for row in crashed} == {"failed"} and all(row["error"] for row in crashed)
    assert "## Failed runs" in report and "| CrashingEnv-v0 | pg_a2c | 0 |" in report
    assert "RL Zoo's published A2C score: 500.0 ± 0.0" in report and "| trained steps |" in report
    assert "AUC IQM [95% CI]" in report and "every later one stays at or above the threshold" in report
    for row in rows:
        if row["state"] == "complete":
            # SB3 trains whole rollouts (pg_a2c's CartPole entry: 16 steps x 8 envs), so a run may pass 400
            assert 400 <= int(row["steps"]) < 400 + 16 * 8 and float(row["steps_per_second"]) > 0
            curve = [int(step) for step in row["curve_steps"].split()]
            # every 200 steps, and once more at the end when the last rollout passed 400
            assert curve[:2] == [200, 400] if row["algo"] == "pg_a2c" else curve == [200, 400]
            assert curve[-1] == int(row["steps"])
    first = {t.number: t.datetime_complete for t in _study(out).trials if t.state == TrialState.COMPLETE}
    assert len(first) == 4

    # Rerun: the finished runs are skipped (the failed ones run again)
    capsys.readouterr()
    assert main(argv) == 1
    assert "8 runs: 4 done, 0 queued before or running, 4 queued now" in capsys.readouterr().out
    study = _study(out)
    assert {t.number: t.datetime_complete for t in study.trials if t.state == TrialState.COMPLETE} == first
    assert sum(t.state == TrialState.FAIL for t in study.trials) == 8

    # A changed config entry: its stored runs are stale and run again; the others are still reused
    from sb3_pg import experiment

    load_config = experiment.load_config

    def changed(path):
        config = load_config(path)
        if path.name == "pg_a2c.yml":
            config["CartPole-v1"] = {**config["CartPole-v1"], "gamma": 0.98}
        return config

    monkeypatch.setattr(experiment, "load_config", changed)
    capsys.readouterr()
    assert main(argv) == 1  # CrashingEnv-v0 still fails
    assert "8 runs: 2 done, 0 queued before or running, 6 queued now" in capsys.readouterr().out
    rerun = [t for t in _study(out).trials if t.state == TrialState.COMPLETE and t.number not in first]
    assert sorted(run_of(t)[:2] for t in rerun) == [("pg_a2c", "CartPole-v1")] * 2
    assert len(list(csv.DictReader((out / "results.csv").open()))) == 8


def test_two_envs_give_an_aggregate(tmp_path):
    out = tmp_path / "out"
    argv = ["compare", "--envs", "CartPole-v1", "Acrobot-v1", *ARGS, "--out", str(out), "--no-progress-bar"]
    argv[argv.index("--seeds") + 1] = "1"
    assert main(argv) == 0
    report = (out / "report.md").read_text()
    assert "## Aggregate over envs" in report and (out / "aggregate.png").stat().st_size > 0
    assert report.count("| pg_a2c | 1 |") == 3  # two envs and the aggregate
    assert "normalised AUC IQM [95% CI]" in report
    # Normalised scores of solved envs differ in the third decimal: the aggregate prints three
    assert re.search(r"\| pg_a2c \| 1 \| -?\d+\.\d{3} \[-?\d+\.\d{3}, -?\d+\.\d{3}\] \|", report)


def test_iqm_and_intervals_by_hand():
    assert stats.iqm(np.arange(1, 9)) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    assert stats.iqm(np.array([0.0, 10.0, 10.0, 1000.0])) == pytest.approx(10.0)
    constant = stats.iqm_interval(np.full(5, 7.0))
    assert (constant.value, constant.low, constant.high) == (7.0, 7.0, 7.0)
    spread = stats.iqm_interval(np.arange(20.0))
    np.random.uniform(size=7)  # rliable draws from numpy's global generator: the interval must not depend on it
    assert stats.iqm_interval(np.arange(20.0)) == spread
    assert spread.value == pytest.approx(9.5) and spread.low < 9.5 < spread.high


def test_iqm_curve_by_hand():
    curves = np.array([[0.0, 10.0], [1.0, 10.0], [2.0, 10.0], [3.0, 10.0]])
    value, low, high = stats.iqm_curve(curves)
    assert value == pytest.approx([1.5, 10.0])  # IQM of 0..3 is the mean of 1 and 2
    assert low[1] == high[1] == 10.0 and low[0] <= 1.5 <= high[0]


def test_probability_of_improvement_by_hand():
    # P(X > Y) + P(X = Y) / 2 over all pairs
    assert stats.probability_of_improvement(np.array([1.0, 3, 4]), np.array([2.0, 2, 2])) == pytest.approx(6 / 9)
    assert stats.probability_of_improvement(np.array([1.0, 2, 3]), np.array([2.0, 2, 2])) == pytest.approx(0.5)
    assert stats.probability_of_improvement(np.array([5.0, 6]), np.array([1.0, 2])) == 1.0


def test_best_seed_mean_by_hand():
    # Tianshou's measure: the seed-average curve's best point, over the evaluations every run has
    runs = [
        Run("pg_a2c", "CartPole-v1", 0, "complete", [10, 20, 30], [1.0, 5.0, 2.0], 1.0),
        Run("pg_a2c", "CartPole-v1", 1, "complete", [10, 20], [3.0, 1.0], 1.0),
    ]
    assert best_seed_mean(runs) == pytest.approx(3.0)  # means 2.0, 3.0; the third point is one run's
    assert best_seed_mean(runs[:1]) == pytest.approx(5.0)


def test_mujoco_tables_name_both_published_benchmarks():
    runs = [
        Run("pg_a2c", "Hopper-v5", seed, "complete", [500_000, 1_000_000], [900.0, 1000.0 + seed], 1.0) for seed in range(3)
    ]
    table = "\n".join(env_table("Hopper-v5", ["pg_a2c"], runs))
    assert "| pg_a2c | 3 | 1,000,000 | 1001.0 [" in table and "| 1001.0 |" in table  # final IQM, best seed mean
    assert "733.5 ± 376.6 (one agent" in table and "(Hopper-v3, 1M steps)" in table
    assert "A2C 1253.2 at 1M steps, REINFORCE 395.8 at 3M" in table
    # No normalisation for MuJoCo: the AUC is the mean raw return (950 + seed / 2; IQM of 3: their mean), as its heading says
    assert "| AUC (mean return over training, not normalised) IQM [95% CI] |" in table and "| 950.50 [" in table


def test_steps_to_threshold_and_normalisation():
    assert stats.steps_to_threshold([100, 200, 300], [10.0, 50.0, 60.0], 50.0) == 200
    # Reached at 100 but lost at 200: it counts from 300, where it is held to the end
    assert stats.steps_to_threshold([100, 200, 300, 400], [50.0, 10.0, 55.0, 60.0], 50.0) == 300
    assert math.isinf(stats.steps_to_threshold([100, 200, 300], [50.0, 60.0, 10.0], 50.0))
    assert math.isinf(stats.steps_to_threshold([100, 200], [10.0, 20.0], 50.0))
    assert math.isinf(stats.steps_to_threshold([100], [10.0], None))
    low, high = stats.NORMALIZATION["CartPole-v1"]
    assert stats.normalized("CartPole-v1", np.array([low, high])) == pytest.approx([0.0, 1.0])


def test_area_under_the_curve_by_hand():
    # CartPole-v1 normalises (x - 23.7) / (475 - 23.7): 23.7 -> 0, 475 -> 1; a line from 0 to 1 has area 0.5
    assert stats.area_under_curve("CartPole-v1", [0, 100], [23.7, 475.0]) == pytest.approx(0.5)
    # Unequal spacing: 0 over [0, 100], then 0 -> 1 over [100, 300]: (0 + 100) / 300
    assert stats.area_under_curve("CartPole-v1", [0, 100, 300], [23.7, 23.7, 475.0]) == pytest.approx(1 / 3)
    assert stats.area_under_curve("NoNormalisation-v0", [10, 20], [1.0, 3.0]) == pytest.approx(2.0)
    assert stats.area_under_curve("CartPole-v1", [10], [475.0]) == pytest.approx(1.0)


def test_rl_zoo_budgets(tmp_path, capsys):
    from sb3_pg.configs import rl_zoo_a2c_budget
    from sb3_pg.experiment import budget

    assert [rl_zoo_a2c_budget(e) for e in ("CartPole-v1", "MountainCar-v0", "LunarLander-v3")] == [500_000, 1_000_000, 200_000]
    config = run_config("pg_a2c", "Pendulum-v1", "tuned")
    assert budget("rl-zoo", "Pendulum-v1", config) == 1_000_000  # the same for every algorithm
    assert budget(None, "Pendulum-v1", config) == config.n_timesteps and budget(123, "Pendulum-v1", config) == 123
    with pytest.raises(SystemExit):
        main(["compare", "--envs", "CartPole-v0", "--timesteps", "rl-zoo", "--out", str(tmp_path)])
    assert "RL Zoo's a2c.yml has no budget for CartPole-v0" in capsys.readouterr().err


def test_rl_zoo_entries_of_an_older_env_version_serve_a_newer_one():
    """RL Zoo's a2c.yml has MuJoCo v4 entries only: SB3's A2C on v5 runs them (and their budget), as
    the MuJoCo issue asks; our own files and explicit --conf-file stay exact."""
    from sb3_pg.configs import entry_key, rl_zoo_a2c_budget

    swimmer = run_config("sb3_a2c", "Swimmer-v5", "tuned")
    assert swimmer.kwargs == {"gamma": 0.9999} and swimmer.normalize == {} and swimmer.n_timesteps == 1_000_000
    assert swimmer.source.endswith("a2c.yml (Swimmer-v4 entry)") and rl_zoo_a2c_budget("HalfCheetah-v5") == 1_000_000
    config = {"Env-v2": {}, "Env-v4": {}, "Env-v7": {}}
    assert entry_key(config, "Env-v5", other_versions=True) == "Env-v4"
    assert entry_key(config, "Env-v1", other_versions=True) == "Env-v1"  # only newer ones: none
    assert entry_key(config, "Env-v5") == "Env-v5" and entry_key(config, "Other-v5", other_versions=True) == "Other-v5"


def test_configs_by_mode():
    tuned = run_config("sb3_a2c", "LunarLander-v3", "tuned")
    assert tuned.n_envs == 8 and tuned.kwargs["gamma"] == 0.995
    assert tuned.kwargs["learning_rate"](1.0) == pytest.approx(0.00083)  # lin_0.00083
    variant = run_config("pg_a2c-td0", "CartPole-v1", "tuned")
    assert variant.algo_class is A2C and variant.kwargs["gae_lambda"] == 0.0
    for algo in ("reinforce", "pg_a2c", "sb3_a2c", "sb3_ppo"):
        equal = run_config(algo, "Pendulum-v1", "equal")
        assert equal.n_envs == EQUAL_HYPERPARAMETERS["n_envs"] and equal.normalize is None
        assert {k: equal.kwargs[k] for k in ("learning_rate", "gamma")} == {"learning_rate": 7e-4, "gamma": 0.99}


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--algos", "dqn"], "--algos"),
        (["--envs", "NoSuchEnv-v0"], "--envs"),
        (["--seeds", "0"], "--seeds"),
    ],
)
def test_bad_input(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as error:
        main(["compare", *extra, "--out", str(tmp_path / "out")])
    assert error.value.code == 2 and message in capsys.readouterr().err


def test_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as error:
        main(["compare", "--out", str(blocker / "out")])
    assert error.value.code == 2 and "--out" in capsys.readouterr().err


def test_vec_env_option_is_its_own_grid_and_trains_the_same(tmp_path):
    out = tmp_path / "out"
    argv = _one_run(out)
    assert main(argv) == 0 and main([*argv, "--vec-env", "gymnasium"]) == 0
    storage = open_storage(str(out / "runs.log"))
    names = sorted(s.study_name for s in optuna.get_all_study_summaries(storage))
    assert names == ["compare-tuned-400-every200-x1", "compare-tuned-400-every200-x1-gymnasium"]
    curves = [optuna.load_study(study_name=name, storage=storage).trials[0].user_attrs["result"]["returns"] for name in names]
    assert curves[0] == curves[1]  # the same transitions, so the same run


def test_report_only_reports_the_finished_runs_and_queues_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    argv = _one_run(out)
    assert main(argv) == 0
    trials = len(_study(out).trials)
    # A bigger grid than ran (a second algorithm, a second seed), reported elsewhere from the same store
    report_out = tmp_path / "report"
    wider = [*argv, "--algos", "pg_a2c", "sb3_a2c", "--seeds", "2", "--storage", str(out / "runs.log")]
    capsys.readouterr()
    assert main([*wider, "--out", str(report_out), "--report-only"]) == 0  # the last --algos, --seeds, --out count
    printed = capsys.readouterr().out
    assert "4 runs: 1 finished, 0 queued or running, 3 not queued with the current set-ups" in printed
    assert len(_study(out).trials) == trials  # nothing queued
    rows = list(csv.DictReader((report_out / "results.csv").open()))
    assert [(row["algo"], row["seed"], row["state"]) for row in rows] == [("pg_a2c", "0", "complete")]
    report = (report_out / "report.md").read_text()
    assert not (report_out / "runs.log").exists() and "| pg_a2c | 1 |" in report and "| sb3_a2c | 0 |" in report


@pytest.mark.parametrize("settings_differ", [False, True])
def test_report_only_without_runs_exits_2(tmp_path, capsys, settings_differ):
    out = tmp_path / "out"
    argv = _one_run(out)
    if settings_differ:
        assert main(argv) == 0
        argv[argv.index("--eval-freq") + 1] = "100"  # another grid: none of its runs are in the store
    with pytest.raises(SystemExit) as error:
        main([*argv, "--report-only"])
    assert error.value.code == 2 and "--report-only" in capsys.readouterr().err
    assert not (out / "report.md").exists() or settings_differ


def test_a_grid_runs_its_own_queued_runs_and_leaves_another_grids(tmp_path, capsys):
    """Two invocations with the same settings share one study; each runs only the runs it asked for."""
    from sb3_pg.compare.queue import Fingerprints, enqueue_missing, open_grid

    out = tmp_path / "out"
    settings = CompareSettings("tuned", 400, 200, 1)
    study = open_grid(str(out / "runs.log"), settings)
    # Another grid's runs, queued first (as by an invocation whose workers are busy or stopped)
    other = [("sb3_a2c", "CartPole-v1", 5), ("sb3_a2c", "CartPole-v1", 6)]
    assert enqueue_missing(study, other, Fingerprints(settings)) == 2
    assert main([*_one_run(out), "--n-workers", "2"]) == 0
    assert "1 runs: 0 done, 0 queued before or running, 1 queued now" in capsys.readouterr().out
    states = {run_of(t): t.state for t in _study(out).trials}
    assert states == {("pg_a2c", "CartPole-v1", 0): TrialState.COMPLETE, **dict.fromkeys(other, TrialState.WAITING)}


def test_a_run_that_raises_is_failed_and_logged_and_the_worker_goes_on(tmp_path, caplog):
    from sb3_pg.compare.queue import Fingerprints, enqueue_missing, open_grid, run_worker

    settings = CompareSettings("tuned", 400, 200, 1)
    study = open_grid(str(tmp_path / "runs.log"), settings)
    runs = [("pg_a2c", "CrashingEnv-v0", 0), ("pg_a2c", "CartPole-v1", 0)]
    enqueue_missing(study, runs, Fingerprints(settings))
    run_worker(study, settings, set(runs))
    states = {run_of(t): t.state for t in study.trials}
    assert states == {runs[0]: TrialState.FAIL, runs[1]: TrialState.COMPLETE}
    assert "error" in study.trials[0].user_attrs
    (record,) = [r for r in caplog.records if "failed" in r.getMessage()]
    assert "('pg_a2c', 'CrashingEnv-v0', 0)" in record.getMessage() and record.exc_info is not None


def test_the_oldest_queued_run_of_the_grid_is_claimed_once(tmp_path):
    from sb3_pg.compare.queue import Fingerprints, claim_run, enqueue_missing, open_grid

    settings = CompareSettings("tuned", 400, 200, 1)
    study = open_grid(str(tmp_path / "runs.log"), settings)
    runs = [("sb3_a2c", "CartPole-v1", 0), ("pg_a2c", "CartPole-v1", 1), ("pg_a2c", "CartPole-v1", 0)]
    enqueue_missing(study, runs, Fingerprints(settings))
    ids = [t._trial_id for t in study.trials]
    mine = set(runs[1:])
    assert [claim_run(study, mine), claim_run(study, mine), claim_run(study, mine)] == [ids[1], ids[2], None]
    assert [t.state for t in study.trials] == [TrialState.WAITING, TrialState.RUNNING, TrialState.RUNNING]
