"""Discounted returns and advantages: the one place where sb3_pg computes them.

Every estimator of the project reduces to the backward recursion of Generalized Advantage
Estimation (Schulman et al. 2016, https://arxiv.org/abs/1506.02438, eq. 16):

    delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)
    A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}

- ``lambda = 0``: the one-step TD residual ``r_t + gamma V(s_{t+1}) - V(s_t)``;
- ``lambda = 1``: the Monte Carlo advantage ``G_t - V(s_t)``, bootstrapped with ``V`` only where
  the data stops before the episode does;
- ``V = 0`` and ``lambda = 1``: the plain discounted reward-to-go ``G_t`` used by REINFORCE.

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


def whole_episode_returns(returns_to_go: np.ndarray, episode_starts: np.ndarray) -> np.ndarray:
    """
    The whole-trajectory return ``R(tau) = G_0`` of each step's episode, broadcast to every step of
    that episode: the weight of the seed's first estimator ``sum_t grad log pi(a_t|s_t) R(tau)``.

    Steps before the first episode start of a column (an episode begun before these data) keep
    their reward-to-go; callers mask them out.

    :param returns_to_go: ``G_t`` from :func:`reward_to_go` ``[n_steps, n_envs]``
    :param episode_starts: 1.0 where a step starts an episode ``[n_steps, n_envs]``
    :return: ``R(tau)`` for each step ``[n_steps, n_envs]``
    """
    whole = returns_to_go.copy()
    for step in range(1, whole.shape[0]):
        # Carry G_0 forward until the next episode starts.
        continuing = episode_starts[step] == 0
        whole[step, continuing] = whole[step - 1, continuing]
    return whole


def leave_one_out_mean(weights: np.ndarray, episode_starts: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """
    The batch-mean baseline, per episode: the mean of the valid weights of the *other* episodes.

    A mean that included the episode's own weights would depend on its actions and shrink the
    gradient by about ``1 - 1/|D|``; leaving the episode out keeps the estimate unbiased.

    :param weights: the weights ``[n_steps, n_envs]``
    :param episode_starts: 1.0 where a step starts an episode ``[n_steps, n_envs]``
    :param valid: which steps are in the batch ``[n_steps, n_envs]``
    :return: the baseline of each step ``[n_steps, n_envs]`` (0 where there is no other episode)
    """
    # Number the episodes: column by column, a new id at each episode start.
    starts = episode_starts.astype(bool).T.copy()
    starts[:, 0] = True
    ids = np.cumsum(starts.ravel()).reshape(starts.shape).T - 1
    n_ids = int(ids.max()) + 1
    mask = valid.astype(np.float64)
    episode_sum = np.bincount(ids.ravel(), weights=(weights * mask).ravel(), minlength=n_ids)
    episode_count = np.bincount(ids.ravel(), weights=mask.ravel(), minlength=n_ids)
    other_sum = episode_sum.sum() - episode_sum[ids]
    other_count = episode_count.sum() - episode_count[ids]
    return np.where(other_count > 0, other_sum / np.maximum(other_count, 1), 0.0).astype(np.float32)
