"""An exact total of trials across every worker of a study.

``study.optimize(n_trials=N)`` counts per process, and ``MaxTrialsCallback`` stops a worker only
after its trial ends, so workers that start a trial while others are finishing overshoot the
total. Here a worker starts a trial only while the finished and running trials are fewer than the
total, and a trial that still finds itself beyond the total when it starts (two workers started at
the same moment) is failed at once, marked ``surplus``, before any training. A trial whose worker
died does not hold a place: heartbeats (RDB) or a dead process id (same host) fail it and
Optuna's ``RetryHeartbeatStaleTrialCallback`` enqueues the retry that takes its place.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from sb3_pg.storage import SURPLUS, SurplusTrial, record_worker, release_dead_workers_trials


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
