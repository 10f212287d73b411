"""Rollout buffers: SB3's ``RolloutBuffer``/``DictRolloutBuffer`` with returns and advantages taken
from :mod:`sb3_pg.common.returns`.

- :class:`PGRolloutBuffer` (A2C): fixed ``n_steps`` rows, GAE(lambda) advantages, and a choice of
  critic target (``"td_lambda"`` as SB3, or ``"monte_carlo"``).

REINFORCE's buffer of complete episodes is :mod:`sb3_pg.common.episode_buffer`.
"""

from typing import TYPE_CHECKING

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer
from stable_baselines3.common.type_aliases import RolloutBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from sb3_pg.common.returns import compute_gae

CRITIC_TARGETS = ("td_lambda", "monte_carlo")

if TYPE_CHECKING:
    _RolloutBufferBase = RolloutBuffer
else:
    _RolloutBufferBase = object


class CriticTargetMixin(_RolloutBufferBase):
    """GAE(lambda) advantages with a choice of critic target."""

    critic_target: str
    # sigma when the critic learns V / sigma (A2C's scale_critic_targets), set before each rollout;
    # None: the critic's outputs are in reward units (SB3)
    value_scale: float | None = None

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
        episode or a time limit truncates it (the lambda = 1 return). With a ``value_scale`` sigma,
        the values (stored and ``last_values``) are multiplied by sigma first and ``returns`` divided
        by it after; ``values`` stay as stored.

        :param last_values: ``V`` of the observation after the last step, one per env
        :param dones: whether the last step ended its episode, one per env
        """
        last = last_values.detach().cpu().numpy().flatten()  # flatten copies
        values = self.values
        if self.value_scale is not None:  # the critic's outputs to reward units
            values, last = values * np.float32(self.value_scale), last * np.float32(self.value_scale)
        self.advantages = compute_gae(self.rewards, values, self.episode_starts, last, dones, self.gamma, self.gae_lambda)
        if self.critic_target == "monte_carlo" and self.gae_lambda != 1.0:
            lambda_one = compute_gae(self.rewards, values, self.episode_starts, last, dones, self.gamma, 1.0)
            self.returns = lambda_one + values
        else:
            self.returns = self.advantages + values
        if self.value_scale is not None:  # the critic's targets, on its scale
            self.returns = self.returns / np.float32(self.value_scale)


class PGRolloutBuffer(CriticTargetMixin, RolloutBuffer):
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


class PGDictRolloutBuffer(CriticTargetMixin, DictRolloutBuffer):
    """
    SB3's ``DictRolloutBuffer`` with a choice of critic target; parameters as :class:`PGRolloutBuffer`.
    """
