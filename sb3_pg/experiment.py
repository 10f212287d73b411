"""One experiment, the way every tool runs it: an algorithm's set-up from its RL Zoo entry, the
training envs and a separate evaluation env, training, and deterministic evaluation.

``sb3-pg train``, ``compare`` and ``tune`` and the benchmark scripts all build their envs with
:func:`make_envs` and evaluate the same way, so a figure from one is comparable with the others.
The evaluation env is one copy of the env seeded ``seed +`` :data:`EVAL_SEED_OFFSET` (never a
training seed), with ``VecNormalize`` statistics frozen (synced from training) and raw rewards.
"""

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, sync_envs_normalization

from sb3_pg.configs import (
    RL_ZOO_SCHEDULE_KEYS,
    SCHEDULE_KEYS,
    config_path,
    entry_key,
    env_wrapper,
    load_config,
    parse_policy_kwargs,
    rl_zoo_a2c_budget,
    rl_zoo_config_path,
    with_schedules,
)
from sb3_pg.envs import ensure_registered
from sb3_pg.evaluation import evaluate_policy
from sb3_pg.registry import PEERS, VARIANTS
from sb3_pg.vec_envs import make_vec_env_of

EVAL_SEED_OFFSET = 10_000  # the evaluation env's seed is the run's seed plus this: never a training seed


@dataclass(frozen=True)
class RunConfig:
    """One algorithm's set-up on one env: the class, its arguments, and RL Zoo's env options."""

    algo_class: type[OnPolicyAlgorithm] | None  # None for a peer library's algorithm (``library``)
    kwargs: dict[str, Any]
    n_envs: int
    n_timesteps: int
    normalize: dict[str, Any] | None  # VecNormalize arguments, or None for no normalization
    source: str  # where the hyperparameters come from, for the report
    fingerprint: str  # changes when the set-up does: stored runs of another set-up are not reused
    policy: str = "MlpPolicy"
    library: str = "sb3"  # "sb3": an SB3 algorithm class; "tianshou": sb3_pg.compare.tianshou_runner trains it
    env_wrapper: Any = None  # RL Zoo's env_wrapper as the entry writes it (sb3_pg.configs.env_wrapper), or None

    @property
    def gamma(self) -> float:
        """The discount ``VecNormalize`` scales rewards with: the algorithm's."""
        return float(self.kwargs.get("gamma", 0.99))


def fingerprint(algo_class: type, *parts: Any) -> str:
    """
    A short hash of an algorithm's class and set-up: stable across releases for an unchanged set-up,
    new when the class's ``results_revision`` moves (an estimator whose default behaviour changed: stored
    runs of the older one are not reused).
    """
    revision = getattr(algo_class, "results_revision", 0)
    if revision:
        parts = (*parts, {"results_revision": revision})
    text = json.dumps([algo_class.__module__, algo_class.__qualname__, *parts], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def normalize_kwargs(normalize: bool | str | dict) -> dict[str, Any] | None:
    """RL Zoo's ``normalize`` (True, False, or ``VecNormalize`` arguments as a dict or its string) as arguments, or None."""
    if isinstance(normalize, str):
        return parse_policy_kwargs(normalize)
    if isinstance(normalize, dict):
        return dict(normalize)
    return {} if normalize else None


def entry_config(
    algo_class: type[OnPolicyAlgorithm],
    entry: dict[str, Any],
    source: str,
    base_kwargs: dict[str, Any] | None = None,
    schedule_keys: tuple[str, ...] = SCHEDULE_KEYS,
) -> RunConfig:
    """
    The set-up an RL Zoo entry gives an algorithm.

    :param entry: the entry, overrides applied (its ``n_envs``, ``n_timesteps``, ``policy``, ``normalize``
        and the algorithm's arguments)
    :param source: where it comes from, for the reports
    :param base_kwargs: arguments over the entry's (a named variant's change)
    :param schedule_keys: the arguments whose ``lin_<x>`` is a linear schedule
    """
    base_kwargs = base_kwargs or {}
    entry = dict(entry)
    code = fingerprint(algo_class, entry, base_kwargs)
    n_envs = int(entry.pop("n_envs", 1))
    n_timesteps = int(float(entry.pop("n_timesteps", 100_000)))
    policy = str(entry.pop("policy", "MlpPolicy"))
    normalize = normalize_kwargs(entry.pop("normalize", False))
    wrapper = entry.pop("env_wrapper", None)
    if isinstance(entry.get("policy_kwargs"), str):
        entry["policy_kwargs"] = parse_policy_kwargs(entry["policy_kwargs"])
    kwargs = with_schedules({**entry, **base_kwargs}, schedule_keys)
    return RunConfig(algo_class, kwargs, n_envs, n_timesteps, normalize, source, code, policy, env_wrapper=wrapper)


def tuned_config(
    algo: str, env_id: str, conf_file: Path | str | None = None, hyperparams: dict[str, Any] | None = None
) -> RunConfig:
    """
    One of our algorithms or named variants with its RL Zoo entry for ``env_id``: from
    ``zoo_configs/<algo>.yml`` or ``conf_file``, the file's ``default`` entry for an env without one;
    a named variant is its base algorithm's entry plus the variant's change.

    :param algo: a key of :data:`sb3_pg.registry.VARIANTS`
    :param hyperparams: entries that override the file's (RL Zoo's ``--hyperparams``), its keys included
    """
    variant = VARIANTS[algo]
    path = Path(conf_file) if conf_file is not None else config_path(variant.base)
    config = load_config(path)
    entry = {**config.get(env_id, config.get("default", {})), **(hyperparams or {})}
    source = f"{path.parent.name}/{path.name}" + ("" if env_id in config else " (default entry)")
    return entry_config(variant.algo, entry, source, dict(variant.kwargs))


MODES = ("tuned", "equal")
# --mode equal: the same shared hyperparameters for every algorithm (SB3's A2C defaults), every other
# argument at its algorithm's default, so that pg_a2c and sb3_a2c differ only in speed
EQUAL_HYPERPARAMETERS: dict[str, Any] = {"n_envs": 8, "learning_rate": 7e-4, "gamma": 0.99}


def run_config(
    algo: str,
    env_id: str,
    mode: str = "tuned",
    conf_file: Path | str | None = None,
    hyperparams: dict[str, Any] | None = None,
) -> RunConfig:
    """
    An SB3 algorithm's set-up on ``env_id``: one of ours (:func:`tuned_config`) or an SB3 peer with RL
    Zoo's own entry (the newest entry of the env in an older version where RL Zoo has none for it:
    MuJoCo's v4 for v5), or in ``mode="equal"`` the shared :data:`EQUAL_HYPERPARAMETERS`.

    :param algo: a key of :data:`sb3_pg.registry.VARIANTS` or an SB3 peer of :data:`sb3_pg.registry.PEERS`
    :param conf_file: an RL Zoo config file to read the entry from (tuned mode)
    :param hyperparams: entries that override the file's
    """
    algo_class: type[OnPolicyAlgorithm]
    if algo in VARIANTS:
        algo_class, base_kwargs = VARIANTS[algo].algo, dict(VARIANTS[algo].kwargs)
    else:
        peer = PEERS[algo]
        assert peer.algo is not None and peer.rl_zoo_name is not None, f"{algo} is not an SB3 algorithm"
        algo_class, base_kwargs = peer.algo, {}
    if mode == "equal":
        shared = dict(EQUAL_HYPERPARAMETERS)
        n_envs = shared.pop("n_envs")
        kwargs = {**shared, **base_kwargs}
        return RunConfig(
            algo_class, kwargs, n_envs, 100_000, None, "shared (equal mode)", fingerprint(algo_class, kwargs, n_envs)
        )
    if algo in VARIANTS:
        return tuned_config(algo, env_id, conf_file, hyperparams)
    path = Path(conf_file) if conf_file is not None else rl_zoo_config_path(str(PEERS[algo].rl_zoo_name))
    config = load_config(path)
    key = entry_key(config, env_id, other_versions=conf_file is None)
    entry = {**config.get(key, config.get("default", {})), **(hyperparams or {})}
    source = f"{path.parent.name}/{path.name}"
    if key not in config:
        source += " (default entry)"
    elif key != env_id:
        source += f" ({key} entry)"
    return entry_config(algo_class, entry, source, schedule_keys=RL_ZOO_SCHEDULE_KEYS)


def budget(timesteps: int | str | None, env_id: str, config: RunConfig) -> int:
    """
    The training budget of a run.

    :param timesteps: a number of env steps, ``"rl-zoo"`` for RL Zoo's A2C budget of the env (the
        same for every algorithm), or None for the config's own ``n_timesteps``
    """
    if timesteps == RL_ZOO_BUDGET:
        return rl_zoo_a2c_budget(env_id)
    if timesteps is None:
        return config.n_timesteps
    return int(timesteps)


RL_ZOO_BUDGET = "rl-zoo"  # --timesteps rl-zoo: each env at RL Zoo's A2C budget (its a2c.yml n_timesteps)


def make_envs(
    env_id: str,
    n_envs: int,
    seed: int,
    normalize: dict[str, Any] | None = None,
    gamma: float = 0.99,
    vec_env: str = "dummy",
    wrapper: Any = None,
) -> tuple[VecEnv, VecEnv]:
    """
    The training envs and a separate evaluation env.

    :param n_envs: training envs, seeded ``seed``, ``seed + 1``, ... in the ``VecEnv`` of kind ``vec_env``
        (:data:`sb3_pg.vec_envs.VEC_ENV_KINDS`)
    :param normalize: ``VecNormalize`` arguments for the training envs (with ``gamma``), or None; the
        evaluation env then gets frozen statistics and raw rewards
    :param wrapper: RL Zoo's ``env_wrapper`` (:func:`sb3_pg.configs.env_wrapper`), applied to every
        training env and to the evaluation env (as RL Zoo applies it), or None
    :return: (training envs, evaluation env: one copy seeded ``seed + EVAL_SEED_OFFSET``)
    """
    ensure_registered(env_id)
    wrap = env_wrapper(wrapper)
    env = make_vec_env_of(vec_env, env_id, n_envs, seed, wrapper_class=wrap)
    eval_env = make_vec_env(env_id, n_envs=1, seed=seed + EVAL_SEED_OFFSET, wrapper_class=wrap)
    if normalize is not None:
        env = VecNormalize(env, gamma=gamma, **normalize)
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False, gamma=gamma)
    return env, eval_env


def evaluate(model: OnPolicyAlgorithm, eval_env: VecEnv, n_episodes: int) -> tuple[float, float]:
    """The mean and standard deviation of ``n_episodes`` deterministic episodes, observations normalised
    as the model's training envs normalise them (their statistics, frozen)."""
    training_env = model.get_env()
    if isinstance(eval_env, VecNormalize) and training_env is not None:
        sync_envs_normalization(training_env, eval_env)
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=n_episodes, deterministic=True)
    return float(np.mean(mean)), float(np.mean(std))


@dataclass
class RunResult:
    """A run's evaluation curve (env steps, mean return) and its speed."""

    steps: list[int] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    timesteps: int = 0

    @property
    def steps_per_second(self) -> float:
        return self.timesteps / self.train_seconds if self.train_seconds > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class EvaluationCurve(BaseCallback):
    """Evaluate every ``eval_freq`` env steps (counted in transitions over all envs) and at the end."""

    def __init__(self, eval_env: VecEnv, eval_freq: int, eval_episodes: int, result: RunResult):
        super().__init__()
        self.eval_env, self.eval_freq, self.eval_episodes, self.result = eval_env, eval_freq, eval_episodes, result
        self.next_evaluation = eval_freq

    def evaluate(self) -> None:
        start = time.perf_counter()
        mean_return, _ = evaluate(self.model, self.eval_env, self.eval_episodes)  # type: ignore[arg-type]
        self.result.steps.append(int(self.num_timesteps))
        self.result.returns.append(mean_return)
        self.result.eval_seconds += time.perf_counter() - start

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_evaluation:
            self.evaluate()
            self.next_evaluation += self.eval_freq * max(1, (self.num_timesteps - self.next_evaluation) // self.eval_freq + 1)
        return True


def train_and_evaluate(
    config: RunConfig, env_id: str, seed: int, timesteps: int, eval_freq: int, eval_episodes: int, vec_env: str = "dummy"
) -> RunResult:
    """
    Train an SB3 algorithm set up by ``config`` on ``env_id`` with ``seed`` and record its
    deterministic evaluation curve.

    :param config: the algorithm's set-up on this env
    :param timesteps: the budget in env steps
    :param vec_env: the training envs' ``VecEnv`` (:func:`sb3_pg.vec_envs.make_vec_env_of`)
    :return: the curve and the training time (evaluation excluded)
    :raises FloatingPointError: if an evaluation return is not finite
    """
    assert config.algo_class is not None, "train_and_evaluate trains SB3 algorithms"
    env, eval_env = make_envs(env_id, config.n_envs, seed, config.normalize, config.gamma, vec_env, config.env_wrapper)
    result = RunResult()
    try:
        model = config.algo_class(config.policy, env, seed=seed, device="cpu", **config.kwargs)
        callback = EvaluationCurve(eval_env, eval_freq, eval_episodes, result)
        start = time.perf_counter()
        model.learn(timesteps, callback=callback)
        if not result.steps or result.steps[-1] != model.num_timesteps:
            callback.evaluate()  # the final return is always at the end of training
        result.timesteps = int(model.num_timesteps)
        result.train_seconds = time.perf_counter() - start - result.eval_seconds
    finally:
        env.close()
        eval_env.close()
    if not np.all(np.isfinite(result.returns)):
        raise FloatingPointError("non-finite evaluation return")
    return result
