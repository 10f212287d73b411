"""The tuning objective: the mean of periodic deterministic evaluations, averaged over seeds.

Each trial trains ``n_seeds`` models side by side, one chunk of ``n_timesteps / n_evaluations``
steps at a time, and evaluates each on its own evaluation env after every chunk. After chunk ``k``
it reports the seed-average of the mean of evaluations ``1..k``, so a pruner compares trials on
the same (less noisy than the last evaluation alone) quantity the trial finally returns.

Schedules (``lin_<x>`` learning rates) follow the whole budget, as in one ``learn(n_timesteps)`` call:
SB3 measures progress within each ``learn`` call, which over chunks would restart the schedule at
every evaluation (:func:`follow_whole_budget`).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv

from sb3_pg.experiment import evaluate, make_envs
from sb3_pg.search_space import SEARCH_SPACES

# Exceptions that bad hyperparameters raise while training (NaN logits make torch's distributions
# raise ValueError; RL Zoo prunes on the same): the trial is pruned with the reason, the study goes on.
DIVERGENCE_ERRORS = (ValueError, RuntimeError, AssertionError, FloatingPointError, ArithmeticError)


def follow_whole_budget(model: BaseAlgorithm, total_timesteps: int) -> None:
    """
    Make ``model``'s progress (what its schedules read) ``1 - num_timesteps / total_timesteps`` over
    any number of ``learn(..., reset_num_timesteps=False)`` calls, as a single ``learn(total_timesteps)``
    computes it. SB3 computes it against each call's own total, so chunks of a budget would give a
    sawtooth: a linear learning rate decaying to 0 within every chunk.
    """
    update = model._update_current_progress_remaining

    def whole_budget(num_timesteps: int, _call_total: int) -> None:
        update(num_timesteps, total_timesteps)

    setattr(model, "_update_current_progress_remaining", whole_budget)  # noqa: B010 (an instance's method, replaced)


@dataclass
class TuningObjective:
    """
    :param algo: a key of :data:`tuning.search_space.SEARCH_SPACES`
    :param env_id: the Gymnasium env id
    :param n_timesteps: training steps per seed
    :param n_seeds: models trained per trial (seeds ``seed .. seed + n_seeds - 1``, the same for every trial)
    :param n_evaluations: evaluations per model, evenly spaced; also the pruner's steps
    :param eval_episodes: deterministic episodes per evaluation
    :param n_envs: training envs per model
    :param seed: the first seed
    :param extra_params: optional hyperparameters switched on
    :param fixed: model keyword arguments that are not searched
    :param normalize: normalise observations and rewards with ``VecNormalize`` (RL Zoo's ``normalize: true``)
    :param vec_env: the training envs' ``VecEnv`` (:func:`sb3_pg.vec_envs.make_vec_env_of`)
    """

    algo: str
    env_id: str
    n_timesteps: int
    n_seeds: int = 1
    n_evaluations: int = 5
    eval_episodes: int = 5
    n_envs: int = 1
    seed: int = 0
    extra_params: list[str] = field(default_factory=list)
    fixed: dict[str, Any] = field(default_factory=dict)
    normalize: bool = False
    vec_env: str = "dummy"

    def model_kwargs(self, trial: optuna.trial.BaseTrial) -> dict[str, Any]:
        """The model's keyword arguments for this trial (sampled, then the fixed ones)."""
        return SEARCH_SPACES[self.algo].sample(trial, self.extra_params, self.fixed)

    def __call__(self, trial: optuna.Trial) -> float:
        kwargs = self.model_kwargs(trial)
        seeds = [self.seed + i for i in range(self.n_seeds)]
        envs: list[VecEnv] = []
        try:
            models, eval_envs = [], []
            for seed in seeds:
                normalize: dict[str, Any] | None = {} if self.normalize else None
                gamma = kwargs.get("gamma", 0.99)
                env, eval_env = make_envs(self.env_id, self.n_envs, seed, normalize, gamma, self.vec_env)
                envs += [env, eval_env]
                algo = SEARCH_SPACES[self.algo].algo
                models.append(algo(algo.default_policy(), env, seed=seed, device="cpu", **kwargs))
                eval_envs.append(eval_env)
            return self._train_and_evaluate(trial, models, eval_envs)
        except DIVERGENCE_ERRORS as error:
            reason = f"{type(error).__name__}: {error}".splitlines()[0][:300]
            trial.set_user_attr("pruned_reason", reason)
            raise optuna.TrialPruned(reason) from error
        finally:
            for env in envs:
                env.close()

    def _train_and_evaluate(
        self, trial: optuna.Trial, models: Sequence[OnPolicyAlgorithm], eval_envs: Sequence[VecEnv]
    ) -> float:
        evaluations = np.zeros((len(models), self.n_evaluations))
        chunk = math.ceil(self.n_timesteps / self.n_evaluations)
        for model in models:
            follow_whole_budget(model, chunk * self.n_evaluations)
        for k in range(self.n_evaluations):
            for i, (model, eval_env) in enumerate(zip(models, eval_envs, strict=True)):
                model.learn(chunk, reset_num_timesteps=k == 0)
                if not all(th.isfinite(p).all() for p in model.policy.parameters()):
                    raise FloatingPointError("training diverged: non-finite policy parameters")
                evaluations[i, k] = evaluate(model, eval_env, self.eval_episodes)[0]
            trial.set_user_attr("timesteps", int(sum(model.num_timesteps for model in models)))
            trial.set_user_attr("evaluations", evaluations[:, : k + 1].round(3).tolist())
            score = float(evaluations[:, : k + 1].mean())
            trial.report(score, step=k + 1)
            if trial.should_prune():
                trial.set_user_attr("pruned_reason", f"pruner stopped it after evaluation {k + 1}")
                raise optuna.TrialPruned()
        return float(evaluations.mean())
