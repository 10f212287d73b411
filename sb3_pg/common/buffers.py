"""Rollout buffers: SB3's ``RolloutBuffer``/``DictRolloutBuffer`` with returns and advantages taken
from :mod:`sb3_pg.common.returns`.

- :class:`PGRolloutBuffer` (A2C): fixed ``n_steps`` rows, GAE(lambda) advantages, and a choice of
  critic target (``"td_lambda"`` as SB3, or ``"monte_carlo"``).
- :class:`EpisodicRolloutBuffer` (REINFORCE): grows until every environment has finished the
  episode it was running, and marks which steps belong to the batch (``valid``): only complete
  episodes are trained on.
"""

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer
from stable_baselines3.common.type_aliases import DictRolloutBufferSamples, RolloutBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from sb3_pg.common.returns import compute_gae, leave_one_out_mean, reward_to_go, whole_episode_returns

CRITIC_TARGETS = ("td_lambda", "monte_carlo")
BASELINES = ("none", "mean", "value")

if TYPE_CHECKING:
    _RolloutBufferBase = RolloutBuffer
else:
    _RolloutBufferBase = object


class _CriticTargetMixin(_RolloutBufferBase):
    """GAE(lambda) advantages with a choice of critic target."""

    critic_target: str

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        gae_lambda: float = 1,
        gamma: float = 0.99,
        n_envs: int = 1,
        critic_target: str = "td_lambda",
    ):
        self.critic_target = critic_target
        super().__init__(buffer_size, observation_space, action_space, device, gae_lambda, gamma, n_envs)

    def compute_returns_and_advantage(self, last_values: th.Tensor, dones: np.ndarray) -> None:
        """
        ``advantages``: GAE(``gae_lambda``). ``returns`` (the critic's regression target):
        ``"td_lambda"``: ``advantages + values``, the TD(lambda) return (SB3);
        ``"monte_carlo"``: the discounted reward-to-go, bootstrapped only where the rollout cuts an
        episode or a time limit truncates it (the lambda = 1 return).

        :param last_values: ``V`` of the observation after the last step, one per env
        :param dones: whether the last step ended its episode, one per env
        """
        last = last_values.detach().cpu().numpy().flatten()  # flatten copies
        self.advantages = compute_gae(self.rewards, self.values, self.episode_starts, last, dones, self.gamma, self.gae_lambda)
        if self.critic_target == "monte_carlo" and self.gae_lambda != 1.0:
            lambda_one = compute_gae(self.rewards, self.values, self.episode_starts, last, dones, self.gamma, 1.0)
            self.returns = lambda_one + self.values
        else:
            self.returns = self.advantages + self.values


class PGRolloutBuffer(_CriticTargetMixin, RolloutBuffer):
    """
    SB3's ``RolloutBuffer`` with a choice of critic target.

    :param buffer_size: number of steps per environment
    :param observation_space: observation space
    :param action_space: action space
    :param device: PyTorch device
    :param gae_lambda: lambda of GAE(lambda) for the advantages
    :param gamma: discount factor
    :param n_envs: number of parallel environments
    :param critic_target: ``"td_lambda"`` or ``"monte_carlo"``
    """

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        episode_start: np.ndarray,
        value: th.Tensor,
        log_prob: th.Tensor,
    ) -> None:
        """SB3's ``add``, writing each array into the buffer directly (SB3 copies them, and clones the
        tensors, first: the same values, with one copy instead of two)."""
        if isinstance(self.observation_space, spaces.Discrete) or not (value.is_cpu and log_prob.is_cpu):
            super().add(obs, action, reward, episode_start, value, log_prob)
            return
        self.observations[self.pos] = obs
        self.actions[self.pos] = np.asarray(action).reshape((self.n_envs, self.action_dim))
        self.rewards[self.pos] = reward
        self.episode_starts[self.pos] = episode_start
        self.values[self.pos] = value.detach().numpy().reshape(-1)
        self.log_probs[self.pos] = log_prob.detach().numpy().reshape(-1)
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full = True

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> RolloutBufferSamples:
        """SB3's ``_get_samples``. Indexing with an index array already copies each array, so the
        tensors take the copies over (``copy=False``) instead of copying them a second time."""
        data = (
            self.observations[batch_inds],
            # Cast to float32 (as SB3): discrete actions are cast back in train()
            self.actions[batch_inds].astype(np.float32, copy=False),
            self.values[batch_inds].flatten(),
            self.log_probs[batch_inds].flatten(),
            self.advantages[batch_inds].flatten(),
            self.returns[batch_inds].flatten(),
        )
        return RolloutBufferSamples(*(self.to_torch(array, copy=False) for array in data))


class PGDictRolloutBuffer(_CriticTargetMixin, DictRolloutBuffer):
    """
    SB3's ``DictRolloutBuffer`` with a choice of critic target; parameters as :class:`PGRolloutBuffer`.
    """


class _EpisodicMixin(_RolloutBufferBase):
    """A buffer that grows as needed and keeps only the steps marked valid."""

    reward_to_go: bool
    baseline: str
    valid: np.ndarray
    _PER_STEP_ARRAYS = ("actions", "rewards", "returns", "episode_starts", "values", "log_probs", "advantages", "valid")

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        gae_lambda: float = 1,
        gamma: float = 0.99,
        n_envs: int = 1,
        reward_to_go: bool = True,
        baseline: str = "value",
    ):
        self.reward_to_go, self.baseline = reward_to_go, baseline
        super().__init__(buffer_size, observation_space, action_space, device, gae_lambda, gamma, n_envs)

    def reset(self) -> None:
        super().reset()
        self.valid = np.zeros((self.buffer_size, self.n_envs), dtype=bool)

    def add(self, *args: Any, valid: np.ndarray | None = None, **kwargs: Any) -> None:
        """
        SB3's ``add``, plus ``valid``: which environments' steps belong to the batch (all by default).
        The buffer doubles its capacity when it is full.
        """
        if self.pos == self.buffer_size:
            self._grow()
        self.valid[self.pos] = True if valid is None else valid
        super().add(*args, **kwargs)

    def _grow(self) -> None:
        def doubled(array: np.ndarray) -> np.ndarray:
            return np.concatenate([array, np.zeros_like(array)])

        for name in self._PER_STEP_ARRAYS:
            setattr(self, name, doubled(getattr(self, name)))
        if isinstance(self.observations, dict):
            self.observations = {key: doubled(obs) for key, obs in self.observations.items()}  # type: ignore[assignment]
        else:
            self.observations = doubled(self.observations)
        self.buffer_size *= 2
        self.full = False

    @property
    def n_episodes(self) -> int:
        """Number of (complete) episodes in the batch."""
        return int((self.valid[: self.pos] & (self.episode_starts[: self.pos] > 0)).sum())

    def compute_returns_and_advantage(self, last_values: th.Tensor, dones: np.ndarray) -> None:
        """
        ``returns``: the discounted reward-to-go ``G_t`` (the critic's Monte Carlo target).
        ``advantages``: the weight of each log-probability, ``G_t`` (``reward_to_go``) or ``R(tau)``,
        minus the baseline: 0, the batch mean of the other episodes' weights, or ``V(s_t)``.

        Valid episodes are complete, so nothing is bootstrapped here; time-limit truncations carry
        ``gamma * V(terminal_obs)`` in their last reward when there is a critic.

        :param last_values: unused (no bootstrap at the end of a complete episode)
        :param dones: whether the last step ended its episode, one per env
        """
        n = self.pos
        rewards, starts, values, valid = self.rewards[:n], self.episode_starts[:n], self.values[:n], self.valid[:n]
        returns = reward_to_go(rewards, starts, dones, self.gamma)
        weights = returns if self.reward_to_go else whole_episode_returns(returns, starts)
        if self.baseline == "mean":
            weights = weights - leave_one_out_mean(weights, starts, valid)
        elif self.baseline == "value":
            weights = weights - values
        self.returns[:n] = returns
        self.advantages[:n] = weights

    def _valid_flat(self, array: np.ndarray) -> np.ndarray:
        # Rows of the valid steps, in (time, env) order; the order does not matter to the loss.
        return array[: self.pos][self.valid[: self.pos]]

    def _valid_samples(self, index: np.ndarray) -> tuple[th.Tensor, ...]:
        data = (
            # Cast to float32 (as SB3's buffer does): discrete actions are cast back in train()
            self._valid_flat(self.actions).astype(np.float32, copy=False)[index],
            self._valid_flat(self.values).flatten()[index],
            self._valid_flat(self.log_probs).flatten()[index],
            self._valid_flat(self.advantages).flatten()[index],
            self._valid_flat(self.returns).flatten()[index],
        )
        return tuple(self.to_torch(d) for d in data)

    def _batches(self, batch_size: int | None) -> Generator[np.ndarray, None, None]:
        n_valid = int(self.valid[: self.pos].sum())
        if batch_size is None or batch_size >= n_valid:
            yield np.arange(n_valid)
            return
        indices = np.random.permutation(n_valid)
        for start in range(0, n_valid, batch_size):
            yield indices[start : start + batch_size]


class EpisodicRolloutBuffer(_EpisodicMixin, RolloutBuffer):
    """
    Rollout buffer of complete episodes for REINFORCE. It starts with ``buffer_size`` rows per
    environment and doubles when the rollout runs longer (an environment finishing its episode).

    :param buffer_size: initial number of steps per environment
    :param observation_space: observation space
    :param action_space: action space
    :param device: PyTorch device
    :param gae_lambda: unused by REINFORCE (kept for SB3's buffer signature)
    :param gamma: discount factor
    :param n_envs: number of parallel environments
    :param reward_to_go: weight each log-probability by ``G_t`` (True) or by ``R(tau)`` (False)
    :param baseline: ``"none"``, ``"mean"`` or ``"value"``
    """

    def get(self, batch_size: int | None = None) -> Generator[RolloutBufferSamples, None, None]:
        """
        :param batch_size: minibatch size; ``None``: all valid steps in one batch
        :return: batches of the valid steps only
        """
        observations = self._valid_flat(self.observations)
        for index in self._batches(batch_size):
            yield RolloutBufferSamples(self.to_torch(observations[index]), *self._valid_samples(index))


class DictEpisodicRolloutBuffer(_EpisodicMixin, DictRolloutBuffer):
    """:class:`EpisodicRolloutBuffer` for ``Dict`` observations; same parameters."""

    def get(self, batch_size: int | None = None) -> Generator[DictRolloutBufferSamples, None, None]:  # type: ignore[override]
        """
        :param batch_size: minibatch size; ``None``: all valid steps in one batch
        :return: batches of the valid steps only
        """
        observations = {key: self._valid_flat(obs) for key, obs in self.observations.items()}
        for index in self._batches(batch_size):
            obs = {key: self.to_torch(value[index]) for key, value in observations.items()}
            yield DictRolloutBufferSamples(obs, *self._valid_samples(index))
