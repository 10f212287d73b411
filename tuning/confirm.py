"""Held-out confirmation: the study's best few trials and its warm starts, re-run on seeds it never
used, at its full budget; the entry is the one with the best held-out IQM of final returns.

A study's objective is measured on its own seeds, so its best trial is partly the luckiest one on
them; the warm starts (configurations known to be good elsewhere) may generalise better. Each
candidate trains ``n_seeds`` models from seed ``settings.seed + SEED_OFFSET`` on (never the study's
seeds), with the study's settings and evaluation schedule; its score is the interquartile mean of
the last evaluation of each seed (the mean of the evaluations is kept beside it).
"""

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import FixedTrial, FrozenTrial, TrialState
from scipy.stats import trim_mean

from tuning.objective import TuningObjective
from tuning.warm_start import WARM_START_ATTR

SEED_OFFSET = 1_000  # held-out seeds start here, past the study's (and sb3-pg compare's 0 .. N-1)


@dataclass
class Confirmation:
    """One candidate's held-out result."""

    trial: FrozenTrial
    label: str  # "trial N", or the warm start's name
    final_iqm: float  # IQM over seeds of the last evaluation
    mean_of_evaluations: float
    finals: list[float]


def candidates(study: optuna.Study, top: int) -> list[tuple[FrozenTrial, str]]:
    """The ``top`` best complete trials, and every complete warm start, each once."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    warm = [(t, str(t.user_attrs[WARM_START_ATTR])) for t in complete if WARM_START_ATTR in t.user_attrs]
    best = sorted(complete, key=lambda t: t.value or -np.inf, reverse=True)[:top]
    seen = {t.number for t, _ in warm}
    return [(t, f"trial {t.number}") for t in best if t.number not in seen] + warm


def confirm(study: optuna.Study, objective: TuningObjective, top: int, n_seeds: int, out: Path) -> Confirmation:
    """
    Re-run the candidates on held-out seeds; write ``out/confirmation.csv``.

    :param study: a study with complete trials
    :param objective: the study's objective (its settings)
    :param top: how many of the best trials to confirm, beside the warm starts
    :param n_seeds: held-out seeds per candidate
    :param out: the output folder
    :return: the winner
    """
    held_out = TuningObjective(**{**asdict(objective), "seed": objective.seed + SEED_OFFSET, "n_seeds": n_seeds})
    results = []
    for trial, label in candidates(study, top):
        fixed = FixedTrial(dict(trial.params))
        mean = held_out(fixed)  # type: ignore[arg-type]
        finals = [float(row[-1]) for row in fixed.user_attrs["evaluations"]]
        results.append(Confirmation(trial, label, float(trim_mean(finals, 0.25)), mean, finals))
        print(f"held-out {label}: final IQM {results[-1].final_iqm:.2f}, mean of evaluations {mean:.2f}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "confirmation.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["candidate", "trial", "study_objective", "held_out_final_iqm", "held_out_mean", "held_out_finals"])
        for r in results:
            scores = " ".join(f"{f:.2f}" for f in r.finals)
            writer.writerow([r.label, r.trial.number, r.trial.value, r.final_iqm, r.mean_of_evaluations, scores])
    return max(results, key=lambda r: r.final_iqm)


def note(results_path: Path, winner: Confirmation, n_seeds: int, seed: int) -> str:
    """The comment that says how the entry was chosen."""
    kept = "a warm start" if not winner.label.startswith("trial") else "the study's"
    return (
        f"Held-out confirmation ({results_path.name}): seeds {seed + SEED_OFFSET}..{seed + SEED_OFFSET + n_seeds - 1};"
        f" winner {winner.label} ({kept}), final IQM {winner.final_iqm:.2f}"
    )
