"""Held-out confirmation: the study's best few trials and its warm starts (``--enqueue`` ones included),
re-run on seeds it never used, at its full budget; the entry is the one with the best held-out IQM of final returns.

A study's objective is measured on its own seeds, so its best trial is partly the luckiest one on
them; the warm starts (configurations known to be good elsewhere) may generalise better. Each
candidate trains ``n_seeds`` models, seeds ``settings.seed + SEED_OFFSET`` on (never the study's
seeds), with the study's settings and evaluation schedule; its score is the interquartile mean of
the last evaluation of each seed (the mean of the evaluations is kept beside it).

At RL Zoo's budgets this is hours of training, so each (candidate, seed) pair is one run: a trial
of a second study in the same storage (``<study name>:confirmation``), enqueued once and run by
:func:`tuning.budget.run_worker`. Every worker of the study (``--n-workers``, other machines on the
same PostgreSQL) shares the runs, a run whose worker died is retried, and a rerun of the command
trains only the runs that have no result yet. A candidate that diverges on a held-out seed cannot
win.
"""

import csv
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
from optuna.pruners import NopPruner
from optuna.samplers import RandomSampler
from optuna.trial import FixedTrial, FrozenTrial, TrialState
from scipy.stats import trim_mean

from sb3_pg.storage import SURPLUS, SurplusTrial

from .budget import places, run_worker
from .objective import TuningObjective
from .warm_start import ENQUEUED_PREFIX, WARM_START_ATTR

SEED_OFFSET = 1_000  # held-out seeds start here, past the study's (and sb3-pg compare's 0 .. N-1)
SUFFIX = ":confirmation"  # the confirmation study's name is the study's name and this
CANDIDATE, SEED = "candidate_trial", "seed"  # a confirmation run's user attributes: which trial, which seed
MEAN = "mean_of_evaluations"  # ... and its mean of evaluations (its value is the final evaluation)


@dataclass
class Confirmation:
    """One candidate's held-out result."""

    trial: FrozenTrial
    label: str  # "trial N", or the warm start's name
    finals: list[float]  # the last evaluation of each seed that completed
    means: list[float]  # the mean of evaluations of each seed that completed
    diverged: list[int]  # seeds whose run was pruned for diverging (or failed)
    missing: list[int]  # seeds with no finished run yet

    @property
    def complete(self) -> bool:
        return not self.diverged and not self.missing

    @property
    def final_iqm(self) -> float:
        """IQM over seeds of the last evaluation; ``-inf`` unless every seed completed."""
        return float(trim_mean(self.finals, 0.25)) if self.complete else -np.inf

    @property
    def mean_of_evaluations(self) -> float:
        return float(np.mean(self.means)) if self.complete else -np.inf


def candidates(study: optuna.Study, top: int) -> list[tuple[FrozenTrial, str]]:
    """The ``top`` best complete trials, and every complete warm start, each once."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    warm = [(t, str(t.user_attrs[WARM_START_ATTR])) for t in complete if WARM_START_ATTR in t.user_attrs]
    best = sorted(complete, key=lambda t: t.value or -np.inf, reverse=True)[:top]
    seen = {t.number for t, _ in warm}
    return [(t, f"trial {t.number}") for t in best if t.number not in seen] + warm


def held_out_seeds(objective: TuningObjective, n_seeds: int) -> list[int]:
    return [objective.seed + SEED_OFFSET + i for i in range(n_seeds)]


def open_confirmation(study: optuna.Study) -> optuna.Study:
    """The study of the confirmation runs, beside ``study`` in its storage (created if absent)."""
    return optuna.create_study(
        storage=study._storage,
        study_name=study.study_name + SUFFIX,
        direction="maximize",
        sampler=RandomSampler(),  # never samples: every run is enqueued
        pruner=NopPruner(),  # held-out runs train to the end
        load_if_exists=True,
    )


def _runs_of(confirmation: optuna.Study) -> dict[tuple[int, int], list[FrozenTrial]]:
    runs: dict[tuple[int, int], list[FrozenTrial]] = {}
    for trial in confirmation.get_trials(deepcopy=False):
        if CANDIDATE in trial.user_attrs and not trial.user_attrs.get(SURPLUS):
            runs.setdefault((int(trial.user_attrs[CANDIDATE]), int(trial.user_attrs[SEED])), []).append(trial)
    return runs


def enqueue(study: optuna.Study, objective: TuningObjective, top: int, n_seeds: int) -> int:
    """
    Enqueue the confirmation runs that have no trial yet (or only failed ones: an error, or a worker
    that died and was retried too often).

    :return: the total of trials :func:`run_worker` must see finished in the confirmation study
    """
    confirmation = open_confirmation(study)
    runs = _runs_of(confirmation)
    for trial, _ in candidates(study, top):
        for seed in held_out_seeds(objective, n_seeds):
            if any(t.state != TrialState.FAIL for t in runs.get((trial.number, seed), [])):
                continue
            confirmation.enqueue_trial({}, user_attrs={CANDIDATE: trial.number, SEED: seed})
    held = places(confirmation.get_trials(deepcopy=False))
    return len(held.finished) + len(held.active)


class HeldOutRun:
    """The confirmation study's objective: train the candidate trial's configuration on one held-out seed."""

    def __init__(self, study: optuna.Study, objective: TuningObjective):
        self.params = {t.number: t.params for t in study.get_trials(deepcopy=False)}
        self.objective = objective

    def __call__(self, trial: optuna.Trial) -> float:
        if CANDIDATE not in trial.user_attrs:  # started after every enqueued run was taken
            trial.set_user_attr(SURPLUS, True)
            raise SurplusTrial("every confirmation run is taken")
        run = dataclasses.replace(self.objective, seed=int(trial.user_attrs[SEED]), n_seeds=1)
        fixed = FixedTrial(dict(self.params[int(trial.user_attrs[CANDIDATE])]))
        try:
            run(fixed)  # type: ignore[arg-type]
        finally:  # a diverged run keeps its evaluations so far and its reason
            for key, value in fixed.user_attrs.items():
                trial.set_user_attr(key, value)
        evaluations = fixed.user_attrs["evaluations"][0]
        trial.set_user_attr(MEAN, float(np.mean(evaluations)))
        return float(evaluations[-1])


def run_runs(study: optuna.Study, objective: TuningObjective, total: int) -> None:
    """Work on the confirmation runs until the confirmation study has ``total`` finished trials (any worker)."""
    run_worker(open_confirmation(study), HeldOutRun(study, objective), total)


def results(study: optuna.Study, objective: TuningObjective, top: int, n_seeds: int) -> list[Confirmation]:
    """Each candidate's held-out result, from the confirmation study (the first finished run of each seed)."""
    runs = _runs_of(open_confirmation(study))
    found = []
    for trial, label in candidates(study, top):
        result = Confirmation(trial, label, [], [], [], [])
        for seed in held_out_seeds(objective, n_seeds):
            finished = [t for t in runs.get((trial.number, seed), []) if t.state.is_finished()]
            complete = [t for t in finished if t.state == TrialState.COMPLETE]
            if complete:
                result.finals.append(float(complete[0].value))  # type: ignore[arg-type]
                result.means.append(float(complete[0].user_attrs[MEAN]))
            elif finished:
                result.diverged.append(seed)
            else:
                result.missing.append(seed)
        found.append(result)
    return found


def write_csv(found: list[Confirmation], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["candidate", "trial", "study_objective", "held_out_final_iqm", "held_out_mean", "held_out_finals", "not_complete"]
        )
        for r in found:
            scores = " ".join(f"{f:.2f}" for f in r.finals)
            problems = [f"{seed} diverged" for seed in r.diverged] + [f"{seed} missing" for seed in r.missing]
            row = [r.label, r.trial.number, r.trial.value, r.final_iqm, r.mean_of_evaluations, scores, " ".join(problems)]
            writer.writerow(row)


def conclude(study: optuna.Study, objective: TuningObjective, top: int, n_seeds: int, out: Path) -> Confirmation | None:
    """
    Write ``out/confirmation.csv``, print each candidate's result and return the winner.

    :param study: a study with complete trials
    :param objective: the study's objective (its settings)
    :param top: how many of the best trials were confirmed, beside the warm starts
    :param n_seeds: held-out seeds per candidate
    :param out: the output folder
    :return: the candidate with the best held-out IQM, or None if none completed every seed
    """
    found = results(study, objective, top, n_seeds)
    write_csv(found, out / "confirmation.csv")
    for r in found:
        shown = f"final IQM {r.final_iqm:.2f}, mean of evaluations {r.mean_of_evaluations:.2f}"
        if not r.complete:
            shown = f"not complete (diverged on seeds {r.diverged}, missing {r.missing})"
        print(f"held-out {r.label}: {shown}", flush=True)
    return winner(found)


def winner(found: list[Confirmation]) -> Confirmation | None:
    """The complete candidate with the best held-out IQM of final returns; a tie (at a ceiling, such as
    CartPole's 500) goes to the better held-out mean of evaluations (the one that learns sooner)."""
    complete = [r for r in found if r.complete]
    return max(complete, key=lambda r: (r.final_iqm, r.mean_of_evaluations)) if complete else None


def note(results_path: Path, winner: Confirmation, n_seeds: int, seed: int) -> str:
    """The comment that says how the entry was chosen."""
    if winner.label.startswith("trial"):
        kept = "the study's"
    else:
        kept = "an --enqueue configuration" if winner.label.startswith(ENQUEUED_PREFIX) else "a warm start"
    return (
        f"Held-out confirmation ({results_path.name}): seeds {seed + SEED_OFFSET}..{seed + SEED_OFFSET + n_seeds - 1};"
        f" winner {winner.label} ({kept}), final IQM {winner.final_iqm:.2f}"
    )
