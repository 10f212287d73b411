"""An exact total of trials across every worker of a study.

``study.optimize(n_trials=N)`` counts per process, and ``MaxTrialsCallback`` stops a worker only
after its trial ends, so workers that start a trial while others are finishing overshoot the
total. Here a worker starts a trial only while the finished and running trials are fewer than the
total, and a trial that still finds itself beyond the total when it starts (two workers started at
the same moment) is failed at once, marked ``surplus``, before any training. A trial whose worker
died does not hold a place: heartbeats (RDB) or a dead process id (same host) fail it and
Optuna's ``RetryHeartbeatStaleTrialCallback`` enqueues the retry that takes its place.
"""

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback, fail_stale_trials
from optuna.trial import FrozenTrial, TrialState

from tuning.storage import MAX_RETRY

SURPLUS = "surplus"  # user attribute of a trial that was beyond the total when it started
WORKER, WORKER_TRIAL = "worker", "worker_trial"  # user attributes: which process runs a trial


class SurplusTrial(Exception):
    """Raised by a trial that started after the study had all its trials."""


@dataclass(frozen=True)
class Places:
    """The trials that count towards the total: finished ones and active (running or waiting) ones."""

    finished: list[FrozenTrial]
    active: list[FrozenTrial]


def places(trials: list[FrozenTrial]) -> Places:
    """Sort a study's trials into places; surplus trials and failed trials that were retried hold none."""
    retried = set()
    for trial in trials:
        retried.update(RetryHeartbeatStaleTrialCallback.retry_history(trial))
    holders = [t for t in trials if not t.user_attrs.get(SURPLUS) and t.number not in retried]
    return Places(
        finished=[t for t in holders if t.state.is_finished()],
        active=[t for t in holders if t.state in (TrialState.RUNNING, TrialState.WAITING)],
    )


def is_surplus(study: optuna.Study, number: int, n_trials: int) -> bool:
    """Whether trial ``number`` is beyond the first ``n_trials`` places (trial numbers are unique and ordered)."""
    held = places(study.get_trials(deepcopy=False))
    return sum(t.number < number for t in held.finished + held.active) >= n_trials


def record_worker(trial: optuna.Trial) -> None:
    """
    Record this process as the trial's worker (``host:pid``), so that a later worker on this host can
    retry the trial if the process dies. The trial number tells this record from the one a retried
    trial inherits from the trial it copies.
    """
    trial.set_user_attr(WORKER, f"{socket.gethostname()}:{os.getpid()}")
    trial.set_user_attr(WORKER_TRIAL, trial.number)


def release_dead_workers_trials(study: optuna.Study) -> None:
    """Fail, and queue again, the running trials whose worker died: RDB heartbeats, then dead process ids."""
    fail_stale_trials(study)  # a no-op without heartbeats (the journal file)
    fail_orphaned_trials(study)


def fail_orphaned_trials(study: optuna.Study) -> None:
    """
    Fail and retry the running trials of dead processes on this host.

    Heartbeats cover RDB storages; this covers the journal file, which has none. A trial records
    its worker with :func:`record_worker` when it starts.
    """
    host = socket.gethostname()
    retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker_host, _, pid = str(trial.user_attrs.get(WORKER, "")).rpartition(":")
        if trial.user_attrs.get(WORKER_TRIAL) != trial.number:
            continue  # not yet started by its worker: a retry still carries the record of the trial it copies
        if worker_host != host or not pid.isdigit() or _is_alive(int(pid)):
            continue
        try:
            if study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                retry(study, study._storage.get_trial(trial._trial_id))
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # another worker got there first


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_worker(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    n_trials: int,
    on_trial_end: Callable[[Places], None] = lambda places: None,
    poll_seconds: float = 1.0,
) -> None:
    """
    Run trials until the study has ``n_trials`` finished ones, with any number of other workers.

    :param study: the study (shared through its storage)
    :param objective: the objective
    :param n_trials: the total of finished (complete, pruned or failed) trials the study should reach
    :param on_trial_end: called with the places after each of this worker's trials (progress)
    :param poll_seconds: how often to look again while the last trials run elsewhere
    """

    def guarded(trial: optuna.Trial) -> float:
        if is_surplus(study, trial.number, n_trials):
            trial.set_user_attr(SURPLUS, True)
            raise SurplusTrial(f"the study already has {n_trials} trials")
        record_worker(trial)
        return objective(trial)

    while True:
        release_dead_workers_trials(study)
        held = places(study.get_trials(deepcopy=False))
        if len(held.finished) >= n_trials:
            return
        if len(held.finished) + len(held.active) >= n_trials and not any(t.state == TrialState.WAITING for t in held.active):
            time.sleep(poll_seconds)  # the last trials run elsewhere; wait in case their worker dies
            continue
        study.optimize(guarded, n_trials=1, catch=(SurplusTrial,))
        on_trial_end(places(study.get_trials(deepcopy=False)))
