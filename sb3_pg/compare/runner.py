"""One comparison run: train with periodic deterministic evaluation on a separate env, timing
training apart from evaluation."""

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, sync_envs_normalization

from sb3_pg.compare.algos import RunConfig
from sb3_pg.evaluation import evaluate_policy
from sb3_pg.vec_envs import make_vec_env_of

EVAL_SEED_OFFSET = 10_000


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
        if isinstance(self.eval_env, VecNormalize):
            sync_envs_normalization(self.training_env, self.eval_env)
        mean_return, _ = evaluate_policy(self.model, self.eval_env, n_eval_episodes=self.eval_episodes, deterministic=True)
        self.result.steps.append(int(self.num_timesteps))
        self.result.returns.append(float(np.mean(mean_return)))
        self.result.eval_seconds += time.perf_counter() - start

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_evaluation:
            self.evaluate()
            self.next_evaluation += self.eval_freq * max(1, (self.num_timesteps - self.next_evaluation) // self.eval_freq + 1)
        return True


def make_envs(
    config: RunConfig, env_id: str, seed: int, n_envs: int | None = None, vec_env: str = "dummy"
) -> tuple[VecEnv, VecEnv]:
    """
    The training env (``config.n_envs`` copies, or ``n_envs``, seeded with ``seed``, in the ``VecEnv``
    of kind ``vec_env`` (:func:`sb3_pg.vec_envs.make_vec_env_of`), wrapped in ``VecNormalize`` when the
    config normalizes) and a separate evaluation env (one copy in a ``DummyVecEnv``, seeded ``seed`` +
    :data:`EVAL_SEED_OFFSET`, its statistics frozen and rewards left raw).
    """
    env = make_vec_env_of(vec_env, env_id, n_envs or config.n_envs, seed)
    eval_env = make_vec_env(env_id, n_envs=1, seed=seed + EVAL_SEED_OFFSET)
    if config.normalize is not None:
        gamma = config.kwargs.get("gamma", 0.99)
        env = VecNormalize(env, gamma=gamma, **config.normalize)
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False, gamma=gamma)
    return env, eval_env


def train_and_evaluate(
    config: RunConfig, env_id: str, seed: int, timesteps: int, eval_freq: int, eval_episodes: int, vec_env: str = "dummy"
) -> RunResult:
    """
    Train an algorithm set up by ``config`` on ``env_id`` with ``seed`` and record its deterministic
    evaluation curve.

    :param config: the algorithm's set-up on this env (:func:`sb3_pg.compare.algos.run_config`)
    :param timesteps: the budget in env steps (:func:`sb3_pg.compare.algos.budget`)
    :param vec_env: the training envs' ``VecEnv`` (:func:`sb3_pg.vec_envs.make_vec_env_of`)
    :return: the curve and the training time (evaluation excluded)
    """
    if config.library == "tianshou":
        from sb3_pg.compare.tianshou_runner import train_and_evaluate_tianshou

        curve = train_and_evaluate_tianshou(config.kwargs["algo"], env_id, seed, timesteps, eval_freq, eval_episodes)
        result = RunResult(curve.steps, curve.returns, curve.train_seconds, curve.eval_seconds, curve.timesteps)
        if not np.all(np.isfinite(result.returns)):
            raise FloatingPointError("non-finite evaluation return")
        return result
    assert config.algo_class is not None
    env, eval_env = make_envs(config, env_id, seed, vec_env=vec_env)
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
