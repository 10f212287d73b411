"""Checking REINFORCE's update against an exact target: the updates of many batches collected by the
algorithm itself, their average projected on the target, and the targets computed by enumerating an
MDP's trajectories."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch as th
from stable_baselines3.common.utils import configure_logger

from sb3_pg import Reinforce

CHUNK = 500  # batches at a time, until the estimate is precise enough
# pytest --gradient-precision P: every gradient test reaches a standard error of P (at most 50 times
# its batch budget), so that a smaller bias fails it (conftest.py)
PRECISION_OVERRIDE: float | None = None


def precision_and_budget(precision: float, max_batches: int) -> tuple[float, int]:
    """A test's precision and batch budget, or those that ``--gradient-precision`` asks for."""
    if PRECISION_OVERRIDE is None:
        return precision, max_batches
    return PRECISION_OVERRIDE, 50 * max_batches


@dataclass
class Trajectory:
    """One trajectory of a small MDP: the observation each action was taken in, the actions, the
    rewards, and the value the return is bootstrapped with after the last step (0 if it terminated)."""

    observations: list[np.ndarray]
    actions: list[int]
    rewards: list[float]
    bootstrap: float = 0.0


def discrete_log_probs(model: Reinforce, observations: list[np.ndarray]) -> th.Tensor:
    """``log pi(.|o)`` of each observation, with gradient ``[n, n_actions]`` (a flat, non-recurrent policy)."""
    obs = th.as_tensor(np.array(observations))
    logits = model.policy.get_distribution(obs).distribution.logits
    return th.log_softmax(logits, dim=-1)


def target_gradient(
    model: Reinforce,
    trajectories: Sequence[Trajectory],
    params: list[th.nn.Parameter],
    gamma: float,
    reward_to_go: bool,
    log_probs: Callable[[Reinforce, Trajectory], th.Tensor] | None = None,
) -> np.ndarray:
    """
    ``sum_tau p(tau) sum_t grad log pi(a_t|s_t) w_t(tau)``, with ``w_t = G_t`` (discounted reward-to-go,
    bootstrapped at a truncation) or ``R(tau)``: the expectation of REINFORCE's update (its baselines
    add nothing to it). With ``gamma = 1`` it is the exact policy gradient.

    :param log_probs: ``log pi(a_t|history)`` of a trajectory's actions (default: a flat policy's)
    """
    total = th.zeros(())
    for trajectory in trajectories:
        if log_probs is None:
            table = discrete_log_probs(model, trajectory.observations)
            chosen = table[th.arange(len(trajectory.actions)), th.as_tensor(trajectory.actions)]
        else:
            chosen = log_probs(model, trajectory)
        probability = chosen.sum().exp().detach()
        returns, following = [], trajectory.bootstrap
        for reward in reversed(trajectory.rewards):
            following = reward + gamma * following
            returns.append(following)
        returns.reverse()
        weights = th.tensor(returns) if reward_to_go else th.full((len(returns),), returns[0])
        total = total + probability * (chosen * weights).sum()
    grads = th.autograd.grad(total, params)
    return th.cat([g.flatten() for g in grads]).numpy()


def estimates(
    model: Reinforce,
    n_batches: int,
    params: list[th.nn.Parameter],
    actors: list[list[th.Tensor]] | None = None,
    reset: bool = True,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """
    The update of each of ``n_batches`` consecutive batches the algorithm collects (minus the
    gradient of its policy loss with respect to ``params``); with ``actors``, ``params`` set to
    ``actors[i % len]`` before batch ``i`` is collected (the update is computed at that actor).

    :param reset: start from reset envs (False: go on from the model's last batch)
    :return: the updates made at each actor (one array ``[n, n_params]`` per actor) and each
        batch's importance weights
    """
    model._setup_learn(total_timesteps=10**9, callback=None, reset_num_timesteps=reset)
    callback = model._init_callback(None)
    model.set_logger(configure_logger(0, None, "", False))
    actors = actors or [[p.detach().clone() for p in params]]
    out: list[list[np.ndarray]] = [[] for _ in actors]
    rhos = []
    for i in range(n_batches):
        with th.no_grad():
            for param, value in zip(params, actors[i % len(actors)], strict=True):
                param.copy_(value)
        assert model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)  # type: ignore[arg-type]
        losses = model.policy_loss(next(model.rollout_buffer.get()))
        grads = th.autograd.grad(-losses.policy, params)
        rhos.append(losses.rho.numpy())
        out[i % len(actors)].append(th.cat([g.flatten() for g in grads]).numpy())
    return [np.array(e) for e in out], rhos


def projection_ratio(batch_estimates: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    """The average update projected on the exact gradient, over its squared norm; and its standard error."""
    projections = batch_estimates @ exact / (exact @ exact)
    return float(projections.mean()), float(projections.std() / np.sqrt(len(projections)))


def total_variance(batch_estimates: np.ndarray) -> float:
    return float(((batch_estimates - batch_estimates.mean(axis=0)) ** 2).sum(axis=1).mean())


def check_unbiased(batch_estimates: np.ndarray, exact: np.ndarray, label: str, precision: float = 0.05) -> None:
    """
    The average update's projection on ``exact`` is 1 within 3 standard errors (and 2%), its
    direction within a cosine of 0.98, and the standard error at most ``precision`` (+ 0.01; + 0.002
    under ``--gradient-precision``), so that a bias of about ``3 * precision`` cannot pass.
    """
    precision, _ = precision_and_budget(precision, 0)
    slack = 0.01 if PRECISION_OVERRIDE is None else 0.002
    mean = batch_estimates.mean(axis=0)
    ratio, error = projection_ratio(batch_estimates, exact)
    cosine = mean @ exact / (np.linalg.norm(mean) * np.linalg.norm(exact))
    n = len(batch_estimates)
    print(f"{label}: ratio to the exact gradient {ratio:.3f} +- {error:.3f}, cosine {cosine:.4f} ({n} batches)")
    assert error <= precision + slack
    assert abs(ratio - 1.0) < max(3 * error, 0.02 if PRECISION_OVERRIDE is None else 0.0)
    assert cosine > 0.98


def estimates_until_precise(
    model: Reinforce,
    exact: np.ndarray,
    params: list[th.nn.Parameter],
    precision: float,
    max_batches: int,
    actors: list[list[th.Tensor]] | None = None,
    exact_of_actors: list[np.ndarray] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """:func:`estimates` in chunks until every actor's ratio is known to +- ``precision`` (or ``max_batches`` per actor)."""
    precision, max_batches = precision_and_budget(precision, max_batches)
    targets = exact_of_actors or [exact]
    n_actors = len(targets)
    batches, rhos = estimates(model, CHUNK * n_actors, params, actors)
    while len(batches[0]) < max_batches and any(
        projection_ratio(b, e)[1] > precision for b, e in zip(batches, targets, strict=True)
    ):
        more, more_rhos = estimates(model, CHUNK * n_actors, params, actors, reset=False)
        batches = [np.concatenate(pair) for pair in zip(batches, more, strict=True)]
        rhos += more_rhos
    return batches, rhos
