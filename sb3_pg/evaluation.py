"""Evaluation that applies action masks for the maskable algorithms: SB3's ``evaluate_policy`` and
``EvalCallback``, or sb3-contrib's maskable ones for a model that samples under masks. Our tools
(``train``, ``compare``, ``tune``) evaluate through here."""

from typing import Any

from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback
from sb3_contrib.common.maskable.evaluation import evaluate_policy as maskable_evaluate_policy
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.evaluation import evaluate_policy as sb3_evaluate_policy

from sb3_pg.maskable.algorithms import MaskableMixin


def evaluate_policy(model: BaseAlgorithm, env: Any, **kwargs: Any) -> Any:
    """SB3's ``evaluate_policy`` (same arguments and result), with the env's action masks for a maskable model."""
    if isinstance(model, MaskableMixin):
        return maskable_evaluate_policy(model, env, **kwargs)  # type: ignore[arg-type]
    return sb3_evaluate_policy(model, env, **kwargs)


def eval_callback_class(algo: type[BaseAlgorithm]) -> type[EvalCallback]:
    """The ``EvalCallback`` to evaluate ``algo``'s models with: sb3-contrib's maskable one for ours that mask."""
    return MaskableEvalCallback if issubclass(algo, MaskableMixin) else EvalCallback
