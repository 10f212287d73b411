"""The grid of comparison runs as an Optuna study: each run (algorithm, env, seed) is an enqueued
trial, so runs persist as they finish, any number of workers (processes, or machines through a
PostgreSQL storage) share the grid, and a rerun skips finished runs. The storage, heartbeats and
retries are those of ``tuning/``: no second job queue or storage layer."""

import logging
import traceback
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import optuna
from optuna.storages._heartbeat import get_heartbeat_thread  # what study.optimize runs a trial with
from optuna.trial import FrozenTrial, TrialState

from sb3_pg.compare.algos import run_config
from sb3_pg.compare.runner import train_and_evaluate
from sb3_pg.experiment import budget
from sb3_pg.storage import SURPLUS, open_storage, record_worker, release_dead_workers_trials

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompareSettings:
    """What makes runs comparable; stored with the study, so that a rerun with other settings is refused."""

    mode: str
    timesteps: int | str | None  # env steps, "rl-zoo" (RL Zoo's A2C budget per env) or None (each config's own)
    eval_freq: int
    eval_episodes: int
    vec_env: str = "dummy"  # the training envs' VecEnv (sb3_pg.vec_envs.make_vec_env_of)


Run = tuple[str, str, int]  # algorithm, env id, seed


def run_of(trial: FrozenTrial | optuna.Trial) -> Run:
    return trial.user_attrs["algo"], trial.user_attrs["env"], int(trial.user_attrs["seed"])


def grid_study_name(settings: CompareSettings) -> str:
    """One study per set of settings: runs in it are comparable."""
    budget = settings.timesteps or "config"
    vec_env = "" if settings.vec_env == "dummy" else f"-{settings.vec_env}"  # dummy: the name studies always had
    return f"compare-{settings.mode}-{budget}-every{settings.eval_freq}-x{settings.eval_episodes}{vec_env}"


def open_grid(storage: str, settings: CompareSettings) -> optuna.Study:
    """Open (or create) the study of the grid."""
    study = optuna.create_study(
        storage=open_storage(storage), study_name=grid_study_name(settings), direction="maximize", load_if_exists=True
    )
    if "settings" not in study.user_attrs:
        study.set_user_attr("settings", asdict(settings))
    return study


class Fingerprints:
    """The fingerprint of each (algorithm, env) set-up under the study's settings, computed once."""

    def __init__(self, settings: CompareSettings):
        self.mode = settings.mode
        self._cache: dict[tuple[str, str], str] = {}

    def __call__(self, algo: str, env_id: str) -> str:
        if (algo, env_id) not in self._cache:
            self._cache[algo, env_id] = run_config(algo, env_id, self.mode).fingerprint
        return self._cache[algo, env_id]

    def current(self, trial: FrozenTrial) -> bool:
        """Whether the trial ran (or will run) the current set-up of its algorithm and env."""
        algo, env_id, _ = run_of(trial)
        return trial.user_attrs.get("config") == self(algo, env_id)


def enqueue_missing(study: optuna.Study, runs: Iterable[Run], fingerprints: Fingerprints) -> int:
    """
    Enqueue the runs that are neither finished nor queued or running with their current set-up
    (failed ones, and those of a changed config, run again); return how many.
    """
    present = {
        run_of(t)
        for t in study.get_trials(deepcopy=False)
        if "algo" in t.user_attrs
        and t.state in (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
        and fingerprints.current(t)
    }
    missing = [run for run in runs if run not in present]
    for algo, env_id, seed in missing:
        config = fingerprints(algo, env_id)
        study.enqueue_trial({}, user_attrs={"algo": algo, "env": env_id, "seed": seed, "config": config})
    return len(missing)


def make_objective(settings: CompareSettings) -> Callable[[optuna.Trial], float]:
    def objective(trial: optuna.Trial) -> float:
        record_worker(trial)
        algo, env_id, seed = run_of(trial)
        try:
            config = run_config(algo, env_id, settings.mode)
            # What this run trains, should the config have changed since the run was queued
            trial.set_user_attr("config", config.fingerprint)
            timesteps = budget(settings.timesteps, env_id, config)
            result = train_and_evaluate(
                config, env_id, seed, timesteps, settings.eval_freq, settings.eval_episodes, settings.vec_env
            )
        except Exception as error:
            # Reported as failed in the report, with the reason; the other runs go on
            trial.set_user_attr("error", "".join(traceback.format_exception_only(error)).strip()[:500])
            raise
        trial.set_user_attr("result", result.to_dict())
        trial.set_user_attr("steps_per_second", result.steps_per_second)
        return result.returns[-1]

    return objective


def claim_run(study: optuna.Study, runs: Collection[Run]) -> int | None:
    """
    Set the oldest queued trial of ``runs`` running, and return its id (None when none is left).
    Optuna's ``ask`` would take the oldest queued trial of the whole study, another grid's with the
    same settings included. This is what ``ask`` does, with that filter: the state change is atomic in
    every Optuna storage, so two workers never claim the same trial.
    """
    for trial in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        if "algo" in trial.user_attrs and run_of(trial) in runs:
            try:
                if study._storage.set_trial_state_values(trial._trial_id, state=TrialState.RUNNING):
                    return trial._trial_id
            except optuna.exceptions.UpdateFinishedTrialError:
                pass  # another worker claimed and finished it meanwhile
    return None


def run_claimed(study: optuna.Study, trial_id: int, objective: Callable[[optuna.Trial], float]) -> None:
    """
    Run a claimed trial as ``study.optimize`` runs one (optuna's ``_run_trial``): with heartbeats (RDB
    storages), told its result, failed and logged with its traceback if the objective raises; an
    interrupt fails it and goes on up. A trial failed meanwhile by another worker (a missed heartbeat)
    is left as it is: its retry runs the run again.
    """
    trial = optuna.Trial(study, trial_id)
    failed, value = False, None
    with get_heartbeat_thread(trial_id, study._storage):
        try:
            value = objective(trial)
        except Exception:  # the objective stored the reason; the other runs go on
            failed = True
            _logger.warning(f"Run {run_of(trial)} failed", exc_info=True)
        except KeyboardInterrupt:
            study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            raise
    # As optimize tells it: with no state, a value that is not a finite number fails the trial
    told = study.tell(trial, value, state=TrialState.FAIL if failed else None, skip_if_finished=True)
    if not failed and told.state != TrialState.COMPLETE:
        _logger.warning(f"Run {run_of(trial)} ended {told.state.name} (returned {value!r})")


def run_worker(
    study: optuna.Study, settings: CompareSettings, runs: Collection[Run], on_run_end: Callable[[], Any] = lambda: None
) -> None:
    """Take this grid's queued runs until none is left (other grids' runs in the same store are left
    to their own workers)."""
    objective = make_objective(settings)
    while True:
        release_dead_workers_trials(study)
        trial_id = claim_run(study, runs)
        if trial_id is None:
            return
        run_claimed(study, trial_id, objective)
        on_run_end()


def grid_trials(study: optuna.Study, fingerprints: Fingerprints) -> list[FrozenTrial]:
    """The latest trial of each run with its current set-up (a failed run that ran again counts once)."""
    latest: dict[Run, FrozenTrial] = {}
    for trial in study.get_trials(deepcopy=False):
        if "algo" in trial.user_attrs and not trial.user_attrs.get(SURPLUS) and fingerprints.current(trial):
            latest[run_of(trial)] = trial
    return list(latest.values())
