"""Studies shared through PostgreSQL: several worker processes, exact totals, a worker killed mid-trial."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import optuna
import pytest
from optuna.trial import TrialState
from postgres import find_bin_dir, postgres_server

from sb3_pg.storage import SURPLUS

BIN_DIR = find_bin_dir()
pytestmark = pytest.mark.skipif(BIN_DIR is None, reason="PostgreSQL is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    assert BIN_DIR is not None
    with postgres_server(BIN_DIR) as url:
        yield url


def _worker(url: str, study_name: str, n_trials: int, out, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "sb3_pg", "tune", "--algo", "pg_a2c", "--env", "CartPole-v1"]
    command += ["--n-trials", str(n_trials), "--storage", url, "--study-name", study_name, "--out", str(out)]
    command += [
        "--n-evaluations",
        "2",
        "--eval-episodes",
        "1",
        "--n-envs",
        "2",
        "--pruner",
        "none",
        "--no-progress-bar",
        *extra,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(worker: subprocess.Popen) -> None:
    output, _ = worker.communicate(timeout=300)
    assert worker.returncode == 0, output


def _counted(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.trials if not t.user_attrs.get(SURPLUS)]


def test_three_workers_complete_exactly_the_total(postgres_url, tmp_path):
    workers = [_worker(postgres_url, "shared", 6, tmp_path / f"w{i}", "--n-timesteps", "600", "--seed", "0") for i in range(3)]
    for worker in workers:
        _finish(worker)
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 6
    assert all(t.state in (TrialState.COMPLETE, TrialState.FAIL) for t in study.trials)
    assert all(t.user_attrs.get(SURPLUS) for t in study.trials if t.state == TrialState.FAIL)  # only surplus ones failed
    # No trial ran twice: every complete trial has its own parameters, and the workers shared the work
    assert len({tuple(sorted(t.params.items())) for t in complete}) == 6
    assert len({t.user_attrs["worker"] for t in complete}) >= 2
    # Each worker wrote the study's outputs
    assert all((tmp_path / f"w{i}" / "best.yml").exists() for i in range(3))


def test_killed_worker_trial_is_retried(postgres_url, tmp_path):
    extra = ("--n-timesteps", "6000", "--heartbeat-interval", "2")
    victim = _worker(postgres_url, "killed", 3, tmp_path / "victim", *extra)
    storage = optuna.storages.RDBStorage(postgres_url)
    deadline = time.monotonic() + 120
    killed = None
    while killed is None and time.monotonic() < deadline:
        time.sleep(0.5)
        if not any(s.study_name == "killed" for s in optuna.get_all_study_summaries(storage)):
            continue
        for trial in optuna.load_study(study_name="killed", storage=storage).trials:
            # Kill it in the middle of a trial: after its first evaluation, before its last
            if (
                trial.state == TrialState.RUNNING
                and trial.intermediate_values
                and trial.user_attrs["worker"].endswith(f":{victim.pid}")
            ):
                os.kill(victim.pid, signal.SIGKILL)
                killed = trial
    victim.wait(timeout=30)
    assert killed is not None, "the victim never reached the middle of a trial"

    survivors = [_worker(postgres_url, "killed", 3, tmp_path / f"s{i}", *extra) for i in range(2)]
    for worker in survivors:
        _finish(worker)
    study = optuna.load_study(study_name="killed", storage=postgres_url)
    assert study.trials[killed.number].state == TrialState.FAIL
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retries) == 1
    assert retries[0].state == TrialState.COMPLETE and retries[0].params == killed.params
    assert sum(t.state == TrialState.COMPLETE for t in _counted(study)) == 3
