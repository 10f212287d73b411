"""Discounted returns and advantages: the one place where sb3_pg computes them.

Every estimator of the project reduces to the backward recursion of Generalized Advantage
Estimation (Schulman et al. 2016, https://arxiv.org/abs/1506.02438, eq. 16):

    delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)
    A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}

- ``lambda = 0``: the one-step TD residual ``r_t + gamma V(s_{t+1}) - V(s_t)``;
- ``lambda = 1``: the Monte Carlo advantage ``G_t - V(s_t)``, bootstrapped with ``V`` only where
  the data stops before the episode does;
- ``V = 0`` and ``lambda = 1``: the plain discounted reward-to-go ``G_t`` used by REINFORCE.

Each equation beside its function and tests: ``docs/maths.md``.

Arrays are laid out as in SB3's ``RolloutBuffer``: ``[n_steps, n_envs]``, with
``episode_starts[t]`` true when step ``t`` is the first of an episode.
"""

import numpy as np


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    dones: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> np.ndarray:
    """
    GAE(lambda) advantages, computed exactly as SB3's ``RolloutBuffer.compute_returns_and_advantage``
    (the same float32 operations on each element, in the same order, so that results match SB3's to
    the bit; the arrays are float32, as SB3's buffer holds them).

    :param rewards: rewards ``[n_steps, n_envs]``; time-limit truncations already carry
        ``gamma * V(terminal_obs)`` in their last reward where a critic bootstraps them
    :param values: ``V(s_t)`` for each step ``[n_steps, n_envs]`` (zeros for no critic)
    :param episode_starts: 1.0 where a step starts an episode ``[n_steps, n_envs]``
    :param last_values: ``V`` of the observation after the last step ``[n_envs]``
    :param dones: whether the last step ended its episode ``[n_envs]``
    :param gamma: discount factor
    :param gae_lambda: the lambda of GAE, in [0, 1]
    :return: the advantages ``[n_steps, n_envs]`` (float32)
    """
    # The terms that do not depend on the recursion, for all steps at once: the same float32
    # operations, element for element, as SB3's loop computes them one step at a time
    next_values = np.empty_like(values, dtype=np.float32)
    next_values[:-1] = values[1:]
    next_values[-1] = last_values
    next_non_terminal = np.empty_like(values, dtype=np.float32)
    next_non_terminal[:-1] = 1.0 - episode_starts[1:]
    next_non_terminal[-1] = 1.0 - dones.astype(np.float32)
    deltas = rewards + gamma * next_values * next_non_terminal - values
    decays = gamma * gae_lambda * next_non_terminal
    advantages = np.zeros_like(rewards, dtype=np.float32)
    last_gae_lam: np.ndarray | float = 0
    for step in reversed(range(rewards.shape[0])):
        last_gae_lam = deltas[step] + decays[step] * last_gae_lam
        advantages[step] = last_gae_lam
    return advantages


def reward_to_go(rewards: np.ndarray, episode_starts: np.ndarray, dones: np.ndarray, gamma: float) -> np.ndarray:
    """
    Discounted reward-to-go ``G_t = sum_{k >= t} gamma^(k - t) r_k``, summed to the end of each
    episode and never past it: GAE with ``V = 0`` and ``lambda = 1``.

    :param rewards: rewards ``[n_steps, n_envs]``
    :param episode_starts: 1.0 where a step starts an episode ``[n_steps, n_envs]``
    :param dones: whether the last step ended its episode ``[n_envs]``
    :param gamma: discount factor
    :return: ``G_t`` for each step ``[n_steps, n_envs]`` (float32)
    """
    zeros = np.zeros_like(rewards, dtype=np.float32)
    return compute_gae(rewards, zeros, episode_starts, zeros[-1], dones, gamma, gae_lambda=1.0)


def leave_one_out_mean(
    weights: np.ndarray, episode: np.ndarray, time: np.ndarray, rho: np.ndarray, by_time: bool
) -> np.ndarray:
    r"""
    The mean baseline of a batch of ``K`` episodes: for a step of episode ``i``, the mean over the
    *other* episodes of their importance-weighted weight,

    .. math:: b_i(t) = \frac{1}{|J_t|} \sum_{j \in J_t} \rho_j w_j(t)

    When ``by_time`` (for the reward-to-go ``G_t``: a baseline that depends on the time step only),
    ``J_t`` is the set of the other episodes still running at step ``t`` and ``w_j(t)`` the weight of
    episode ``j``'s step ``t``; otherwise ``J_t`` holds all ``K - 1`` other episodes and ``w_j`` is
    their one weight ``R(tau_j)``. Leaving episode ``i`` out makes ``b_i`` independent of its actions
    (which episodes are still running at ``t`` depends on the others only), and ``rho_j`` makes each
    term's expectation that of the current policy whichever policy began episode ``j``: the estimate
    stays unbiased. Where no other episode has a step ``t`` (or ``K = 1``), the baseline is 0.
    Averaging over the episodes still running, rather than counting the ended ones as zeros, keeps
    the baseline near ``E[G_t]`` late in long episodes, where zeros would pull it down.

    :param weights: each step's weight, ``G_t`` or ``R(tau)`` ``[n_rows]``
    :param episode: each step's episode, 0 .. K - 1 ``[n_rows]``
    :param time: each step's number within its episode ``[n_rows]``
    :param rho: each episode's importance weight ``[K]``
    :param by_time: average the weights of the same time step (True) or the episodes' one weight
    :return: the baseline of each step ``[n_rows]``
    """
    n_episodes = len(rho)
    if n_episodes < 2:
        return np.zeros_like(weights)
    weighted = rho[episode] * weights
    if by_time:
        totals = np.bincount(time, weights=weighted)[time]
        others = np.bincount(time)[time] - 1  # the other episodes with a step t
    else:
        totals = np.full(len(weights), weighted[time == 0].sum())
        others = np.full(len(weights), n_episodes - 1)
    baseline = np.divide(totals - weighted, others, out=np.zeros(len(weights)), where=others > 0)
    return baseline.astype(weights.dtype)
