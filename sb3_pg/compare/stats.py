"""Score statistics for the comparison, with rliable (Agarwal et al. 2021, "Deep RL at the Edge of
the Statistical Precipice"): IQM with 95% stratified-bootstrap confidence intervals and the
probability of improvement; plus the steps a run needs to reach an env's threshold."""

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import scipy.stats
from rliable import library as rly
from rliable import metrics

BOOTSTRAP_REPS = 2000
CURVE_BOOTSTRAP_REPS = 500  # per curve, not per point: enough for a band in a figure
# Scores normalised as (score - low) / (high - low): low is the mean return of a uniformly random
# policy (measured: 100 episodes per env, `benchmarks/random_scores.py`), high the env's reward
# threshold (Pendulum-v1 has none: -150, about what tuned agents reach).
NORMALIZATION: dict[str, tuple[float, float]] = {
    "CartPole-v1": (23.7, 475.0),
    "Acrobot-v1": (-497.1, -100.0),
    "MountainCar-v0": (-200.0, -110.0),
    "Pendulum-v1": (-1207.6, -150.0),
    "LunarLander-v3": (-192.0, 200.0),
    "MountainCarContinuous-v0": (-33.3, 90.0),
}
# RL Zoo's partially observed CartPole (velocities hidden): CartPole-v1's task and threshold; a
# uniformly random policy ignores its observations, so it scores as on CartPole-v1
SAME_TASK_AS = {"CartPoleNoVel-v1": "CartPole-v1"}
NORMALIZATION.update({env_id: NORMALIZATION[base] for env_id, base in SAME_TASK_AS.items()})


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[np.random.RandomState]:
    """
    A seeded RandomState for rliable, with numpy's global generator seeded too and restored after:
    rliable 1.2's StratifiedBootstrap draws its indices with ``np.random.choice``, not from the
    ``random_state`` it is given, so without this the intervals change with earlier global draws.
    """
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        yield np.random.RandomState(seed)
    finally:
        np.random.set_state(saved)


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95% confidence interval."""

    value: float
    low: float
    high: float


def iqm(scores: np.ndarray) -> float:
    """The interquartile mean: the mean of the middle 50% of the scores (rliable's definition)."""
    return float(metrics.aggregate_iqm(np.asarray(scores, dtype=float).reshape(-1, 1)))


def aggregate_interval(
    scores: np.ndarray, aggregate: Callable[[np.ndarray], float] = metrics.aggregate_iqm, seed: int = 0
) -> Interval:
    """
    ``aggregate`` of runs x tasks ``scores`` with its 95% stratified-bootstrap interval (runs are
    resampled within each task).

    :param aggregate: rliable's ``metrics.aggregate_iqm`` (the default) or ``metrics.aggregate_mean``, ...
    """
    matrix = np.asarray(scores, dtype=float)
    matrix = matrix.reshape(-1, 1) if matrix.ndim == 1 else matrix
    with _seeded(seed) as random_state:
        point, interval = rly.get_interval_estimates(
            {"x": matrix}, lambda x: np.array([aggregate(x)]), reps=BOOTSTRAP_REPS, random_state=random_state
        )
    return Interval(float(point["x"][0]), float(interval["x"][0, 0]), float(interval["x"][1, 0]))


def iqm_interval(scores: np.ndarray, seed: int = 0) -> Interval:
    """IQM of runs x tasks ``scores`` with a 95% stratified-bootstrap interval."""
    return aggregate_interval(scores, metrics.aggregate_iqm, seed)


def iqm_curve(curves: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    IQM over runs at each point of runs x points ``curves``, with 95% stratified-bootstrap bands: one
    bootstrap over the whole matrix (rliable's way for sample-efficiency curves).

    :return: the IQM, the lower and the upper band, one value per point
    """
    matrix = np.asarray(curves, dtype=float)

    def per_point(x: np.ndarray) -> np.ndarray:
        # rliable's aggregate_iqm (scipy's 25% trimmed mean) of each column, in one call
        return np.asarray(scipy.stats.trim_mean(x, proportiontocut=0.25, axis=0))

    with _seeded(seed) as random_state:
        point, interval = rly.get_interval_estimates(
            {"x": matrix}, per_point, reps=CURVE_BOOTSTRAP_REPS, random_state=random_state
        )
    return point["x"], interval["x"][0], interval["x"][1]


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) (ties count half), averaged over tasks: runs x tasks arrays (rliable's definition)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x, y = (x.reshape(-1, 1), y.reshape(-1, 1)) if x.ndim == 1 else (x, y)
    return float(metrics.probability_of_improvement(x, y))


def threshold(env_id: str) -> float | None:
    """The env's reward threshold (Gymnasium's spec, or that of the env whose task it is), or None."""
    value = gym.spec(SAME_TASK_AS.get(env_id, env_id)).reward_threshold
    return None if value is None else float(value)


def steps_to_threshold(steps: list[int], returns: list[float], target: float | None) -> float:
    """
    Env steps at the first evaluation from which every later evaluation stays at or above
    ``target`` (the run reached the threshold and held it to the end of training); inf if the last
    evaluation is below it, or there is no target. Stricter than the first evaluation at or above
    it, which one lucky evaluation can reach.
    """
    if target is None:
        return float("inf")
    reached = float("inf")
    for step, value in zip(reversed(steps), reversed(returns), strict=True):
        if value < target:
            break
        reached = float(step)
    return reached


def area_under_curve(env_id: str, steps: list[int], returns: list[float]) -> float:
    """
    The normalised area under a run's learning curve: the mean normalised evaluation return over
    training, trapezoidal between evaluations from the first to the last (the curve's height
    averaged over env steps; a run that learns sooner has a larger area). Raw returns for an env
    without a normalisation; the return itself for a one-point curve.
    """
    scores = normalized(env_id, np.array(returns)) if env_id in NORMALIZATION else np.asarray(returns, dtype=float)
    if len(steps) < 2 or steps[-1] == steps[0]:
        return float(scores[-1])
    widths = np.diff(np.asarray(steps, dtype=float))
    return float(np.sum(widths * (scores[1:] + scores[:-1]) / 2) / (steps[-1] - steps[0]))


def normalized(env_id: str, scores: np.ndarray) -> np.ndarray:
    """Scores on the scale 0 = random policy, 1 = the env's threshold (:data:`NORMALIZATION`)."""
    low, high = NORMALIZATION[env_id]
    return (np.asarray(scores, dtype=float) - low) / (high - low)
