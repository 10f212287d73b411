"""What each name in ``sb3-pg compare --algos`` trains, and with which hyperparameters.

``--mode tuned``: each algorithm with its tuned RL Zoo entry: ours from ``zoo_configs/`` (a named
variant is its base algorithm's entry plus the variant's change), SB3's from the ``a2c.yml`` and
``ppo.yml`` bundled with RL Zoo. ``--mode equal``: the same shared hyperparameters for all
(:data:`EQUAL_HYPERPARAMETERS`, SB3's A2C defaults), every other argument at its algorithm's default,
so that ``pg_a2c`` and ``sb3_a2c`` differ only in speed.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rl_zoo3
from stable_baselines3 import A2C as SB3_A2C
from stable_baselines3 import PPO
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from sb3_pg.a2c import A2C
from sb3_pg.variants import VARIANTS
from sb3_pg.zoo import ZooExperimentManager, config_path, load_config, parse_policy_kwargs

SB3_ALGOS: dict[str, tuple[type[OnPolicyAlgorithm], str]] = {"sb3_a2c": (SB3_A2C, "a2c"), "sb3_ppo": (PPO, "ppo")}
ALGO_NAMES = sorted(VARIANTS) + sorted(SB3_ALGOS)
MODES = ("tuned", "equal")
EQUAL_HYPERPARAMETERS: dict[str, Any] = {"n_envs": 8, "learning_rate": 7e-4, "gamma": 0.99}
BASELINE = "sb3_a2c"  # what the probability of improvement compares against


@dataclass(frozen=True)
class RunConfig:
    """One algorithm's set-up on one env: the class, its arguments, and RL Zoo's env options."""

    algo_class: type[OnPolicyAlgorithm]
    kwargs: dict[str, Any]
    n_envs: int
    n_timesteps: int
    normalize: dict[str, Any] | None  # VecNormalize arguments, or None for no normalization
    source: str  # where the hyperparameters come from, for the report
    fingerprint: str  # changes when the set-up does: stored runs of another set-up are not reused


def _fingerprint(algo_class: type[OnPolicyAlgorithm], *parts: Any) -> str:
    text = json.dumps([algo_class.__module__, algo_class.__qualname__, *parts], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_config(algo: str, env_id: str, mode: str) -> RunConfig:
    """
    :param algo: one of :data:`ALGO_NAMES`
    :param env_id: the Gymnasium env id
    :param mode: ``"tuned"`` or ``"equal"``
    :return: the configuration
    """
    if algo in SB3_ALGOS:
        algo_class, zoo_name = SB3_ALGOS[algo]
        base_kwargs: dict[str, Any] = {}
        path = Path(rl_zoo3.__file__).parent / "hyperparams" / f"{zoo_name}.yml"
    else:
        variant = VARIANTS[algo]
        algo_class, base_kwargs = variant.algo, dict(variant.kwargs)
        path = config_path("pg_a2c" if variant.algo is A2C else "reinforce")
    if mode == "equal":
        shared = dict(EQUAL_HYPERPARAMETERS)
        n_envs = shared.pop("n_envs")
        kwargs = {**shared, **base_kwargs}
        fingerprint = _fingerprint(algo_class, kwargs, n_envs)
        return RunConfig(algo_class, kwargs, n_envs, 100_000, None, "shared (equal mode)", fingerprint)
    config = load_config(path)
    entry = dict(config.get(env_id, config.get("default", {})))
    fingerprint = _fingerprint(algo_class, entry, base_kwargs)
    source = f"{path.parent.name}/{path.name}" + ("" if env_id in config else " (default entry)")
    n_envs = int(entry.pop("n_envs", 1))
    n_timesteps = int(float(entry.pop("n_timesteps", 100_000)))
    entry.pop("policy", None)
    normalize = _normalize_kwargs(entry.pop("normalize", False))
    if isinstance(entry.get("policy_kwargs"), str):
        entry["policy_kwargs"] = parse_policy_kwargs(entry["policy_kwargs"])
    kwargs = ZooExperimentManager._preprocess_schedules({**entry, **base_kwargs})
    return RunConfig(algo_class, kwargs, n_envs, n_timesteps, normalize, source, fingerprint)


def _normalize_kwargs(normalize: bool | str | dict) -> dict[str, Any] | None:
    if isinstance(normalize, str):
        return parse_policy_kwargs(normalize)
    if isinstance(normalize, dict):
        return dict(normalize)
    return {} if normalize else None
