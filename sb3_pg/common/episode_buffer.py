"""REINFORCE's buffer: batches of exactly ``n_episodes`` complete episodes, chosen by start order.

Every episode joins a batch when it starts (envs starting together in env order): the batch being
collected while it has room, and then, depending on ``stale_episodes``:

- ``"drop"``: none. A rollout ends as soon as every episode of its batch has ended; the episodes
  the other envs began meanwhile would be finished by the next policy, so they are played to their
  end without being stored or trained on, and the next batch takes the episodes that start after the
  update. Every batch is on-policy (every importance weight is 1); the cost is those steps, counted
  in ``n_dropped_steps``.
- ``"importance"``: the next batch, and so on. Episodes begun before an update are finished by the
  next policy and trained on with an importance weight (see ``Reinforce.importance_weights``): no
  step is dropped, at the cost of the weights' variance.

Why this is unbiased: whether an episode is in a batch depends only on the episodes that started
before it, never on its own actions, rewards or length, and the batch has a fixed size. So the
mean of a function of the batch's episodes has the expectation of that function over one episode,
for any distribution of episode lengths. With ``"importance"``, an episode begun before the
rollout's cut is continued by the next policy; its importance weight corrects its prefix, and the
cut (the end of the batches before it) is independent of its content, so the corrected expectation
is the new policy's. The estimator in full, with the tests that check it: ``docs/maths.md``.

A batch's size is ``n_episodes`` when the batch is opened, so a new ``n_episodes`` applies from the
next batch on.

Storage is SB3's ``[step, env]`` layout, with each env's column filled to its own length: a
column holds that env's stored steps in time order, the current batch's episodes first.
"""

from collections.abc import Generator
from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer
from stable_baselines3.common.type_aliases import TensorDict
from stable_baselines3.common.vec_env import VecNormalize

from sb3_pg.common.returns import reward_to_go
from sb3_pg.common.validation import check_choice, check_positive_int

# What becomes of the episodes that begin while the batch being collected is full
STALE_EPISODES = ("drop", "importance")


class EpisodeBatchSamples(NamedTuple):
    """The steps of one batch of complete episodes, episode after episode, each in time order."""

    observations: th.Tensor | TensorDict
    actions: th.Tensor
    old_values: th.Tensor  # V(s_t) when the step was taken (zeros without a critic)
    old_log_prob: th.Tensor  # log-probability of the action under the policy that took it
    returns: th.Tensor  # discounted reward-to-go G_t
    episode_returns: th.Tensor  # the episode's whole discounted return R(tau), on each of its steps
    episode_index: th.Tensor  # 0 .. n_episodes - 1
    time_index: th.Tensor  # step number within the episode
    action_masks: th.Tensor | None = None  # the masks the actions were taken under (maskable buffers only)


class _EpisodeBatchMixin:
    """The batching logic, shared by the flat and the Dict buffer."""

    buffer_size: int
    n_envs: int
    gamma: float
    observations: Any
    actions: np.ndarray
    rewards: np.ndarray
    episode_starts: np.ndarray
    values: np.ndarray
    log_probs: np.ndarray
    returns: np.ndarray
    _PER_STEP: tuple[str, ...] = ("actions", "rewards", "episode_starts", "values", "log_probs", "returns", "batch_ids")

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        gae_lambda: float = 1,
        gamma: float = 0.99,
        n_envs: int = 1,
        n_episodes: int = 16,
        stale_episodes: str = "drop",
    ):
        super().__init__(buffer_size, observation_space, action_space, device, gae_lambda, gamma, n_envs)  # type: ignore[call-arg]
        self._init_batching(n_episodes, stale_episodes)

    def _init_batching(self, n_episodes: int, stale_episodes: str) -> None:
        check_positive_int("n_episodes", n_episodes)
        check_choice("stale_episodes", stale_episodes, STALE_EPISODES)
        self.n_episodes = int(n_episodes)  # the size of the batches opened from now on
        self.stale_episodes = stale_episodes
        self.n_batch_steps = 0  # steps handed out in batches, over the buffer's life
        self.n_dropped_steps = 0  # steps taken but never stored (stale episodes) or discarded
        self.lengths = np.zeros(self.n_envs, dtype=np.int64)
        self.discard()

    def discard(self) -> None:
        """Forget every step (the envs were reset: episodes in progress are cut, not trained on)."""
        self.n_dropped_steps += int(self.lengths.sum())
        self.lengths = np.zeros(self.n_envs, dtype=np.int64)  # rows filled in each env's column
        self.batch_ids = np.zeros((self.buffer_size, self.n_envs), dtype=np.int64)
        self.batch = 0  # the batch being collected
        self._sizes = {0: self.n_episodes}  # the size of each batch opened so far
        self._open = 0  # the batch that episodes starting now join
        self._open_count = 0  # the episodes it has
        # The batch of each env's running episode; -1: in no batch (stale, or begun before the buffer knew)
        self._env_batch = np.full(self.n_envs, -1, dtype=np.int64)
        self._completed: dict[int, int] = {}  # batch -> episodes of it that have ended
        self._handed_out = False  # whether the current batch has been handed out (get)

    @property
    def n_waiting_steps(self) -> int:
        """The stored steps not handed out yet (later batches', and the current one's until ``get``)."""
        stored = int(self.lengths.sum())
        return stored - int(self.batch_rows().sum()) if self._handed_out else stored

    @property
    def batch_size(self) -> int:
        """The number of episodes of the batch being collected."""
        return self._sizes[self.batch]

    @property
    def batch_complete(self) -> bool:
        """Whether every episode of the current batch has ended."""
        return self._completed.get(self.batch, 0) == self._sizes[self.batch]

    def batch_rows(self) -> np.ndarray:
        """``[n_rows, n_envs]`` mask of the current batch's steps (a prefix of each column)."""
        n_rows = int(self.lengths.max(initial=0))
        filled = np.arange(n_rows)[:, None] < self.lengths[None, :]
        return filled & (self.batch_ids[:n_rows] == self.batch)

    def reset(self) -> None:
        """
        Called at the start of each rollout: drop the batch trained on (when it is complete) and
        move each column's remaining steps, those of later batches, to its top.
        """
        if not hasattr(self, "lengths"):  # from SB3's __init__: allocate the arrays
            super().reset()  # type: ignore[misc]
            return
        if not self.batch_complete:
            return  # the rollout was interrupted: go on filling the same batch
        in_batch = self.batch_rows().sum(axis=0)
        self._handed_out = False
        self._completed.pop(self.batch)
        del self._sizes[self.batch]
        self.batch += 1
        if self._open < self.batch:  # no episode of the next batch has started yet
            self._open, self._open_count = self.batch, 0
            self._sizes[self.batch] = self.n_episodes
        for env, (drop, length) in enumerate(zip(in_batch, self.lengths, strict=True)):
            if drop == 0:
                continue
            for array in self._per_step_arrays():
                array[: length - drop, env] = array[drop:length, env]
        self.lengths -= in_batch
        self.pos = int(self.lengths.max(initial=0))

    def _per_step_arrays(self) -> list[np.ndarray]:
        arrays = [getattr(self, name) for name in self._PER_STEP]
        if isinstance(self.observations, dict):
            return arrays + list(self.observations.values())
        return [*arrays, self.observations]

    def _grow(self) -> None:
        """Double the rows of every column (a long episode, or envs waiting for another one)."""

        def doubled(array: np.ndarray) -> np.ndarray:
            return np.concatenate([array, np.zeros_like(array)])

        for name in self._PER_STEP:
            setattr(self, name, doubled(getattr(self, name)))
        if isinstance(self.observations, dict):
            self.observations = {key: doubled(obs) for key, obs in self.observations.items()}
        else:
            self.observations = doubled(self.observations)
        self.buffer_size *= 2

    def _assign_batches(self, episode_start: np.ndarray) -> None:
        """The batch of each episode starting now, in env order."""
        for env in np.flatnonzero(episode_start):
            if self._open_count == self._sizes[self._open]:  # the open batch is full
                if self.stale_episodes == "drop":
                    self._env_batch[env] = -1  # the next policy would finish it: not trained on
                    continue
                self._open, self._open_count = self._open + 1, 0
                self._sizes[self._open] = self.n_episodes
            self._env_batch[env] = self._open
            self._open_count += 1

    def add_step(
        self,
        obs: Any,
        action: np.ndarray,
        reward: np.ndarray,
        episode_start: np.ndarray,
        value: th.Tensor,
        log_prob: th.Tensor,
        done: np.ndarray,
        per_step: dict[str, np.ndarray] | None = None,
    ) -> None:
        """
        Store one vec-env step at the end of the column of each env whose episode is in a batch.

        :param obs: the observations the actions were taken in
        :param action: the actions (as stored by SB3's buffer)
        :param reward: the rewards (time-limit truncations already bootstrapped where there is a critic)
        :param episode_start: whether each step is the first of its episode
        :param value: ``V(s_t)`` (zeros without a critic)
        :param log_prob: the log-probability of each action under the policy that took it
        :param done: whether each step ended its episode
        :param per_step: more per-step arrays of the buffer (names in ``_PER_STEP``), one row per env
        """
        if int(self.lengths.max()) == self.buffer_size:
            self._grow()
        self._assign_batches(np.asarray(episode_start, dtype=bool))
        envs = np.flatnonzero(self._env_batch >= 0)
        self.n_dropped_steps += self.n_envs - len(envs)
        rows = self.lengths[envs]
        if isinstance(self.observations, dict):
            for key, value_obs in obs.items():
                shape = (self.n_envs, *self.observations[key].shape[2:])
                self.observations[key][rows, envs] = np.asarray(value_obs).reshape(shape)[envs]
        else:
            self.observations[rows, envs] = np.asarray(obs).reshape((self.n_envs, *self.observations.shape[2:]))[envs]
        self.actions[rows, envs] = np.asarray(action).reshape((self.n_envs, *self.actions.shape[2:]))[envs]
        values = {
            "rewards": np.asarray(reward),
            "episode_starts": np.asarray(episode_start),
            "values": value.detach().cpu().numpy().reshape(-1),
            "log_probs": log_prob.detach().cpu().numpy().reshape(-1),
            "batch_ids": self._env_batch,
            **(per_step or {}),
        }
        for name, value_of_env in values.items():
            array = getattr(self, name)
            array[rows, envs] = np.asarray(value_of_env).reshape((self.n_envs, *array.shape[2:]))[envs]
        for batch in self._env_batch[np.asarray(done, dtype=bool)]:
            if batch >= 0:
                self._completed[int(batch)] = self._completed.get(int(batch), 0) + 1
        self.lengths[envs] += 1
        self.pos = int(self.lengths.max())

    def compute_returns_and_advantage(self, last_values: th.Tensor, dones: np.ndarray) -> None:
        """
        ``returns``: the discounted reward-to-go ``G_t`` of the current batch's steps. Its episodes
        are complete, so nothing is bootstrapped here (time-limit truncations carry
        ``gamma * V(terminal_obs)`` in their last reward where there is a critic). The advantages
        need the importance weights, so the algorithm computes them when it trains.

        :param last_values: unused
        :param dones: unused
        """
        mask = self.batch_rows()
        n_rows = len(mask)
        # Steps outside the batch become one-step episodes of reward 0, so no return crosses into them
        rewards = np.where(mask, self.rewards[:n_rows], 0.0).astype(np.float32)
        starts = np.where(mask, self.episode_starts[:n_rows], 1.0).astype(np.float32)
        self.returns[:n_rows] = reward_to_go(rewards, starts, np.ones(self.n_envs, dtype=bool), self.gamma)

    def _batch_arrays(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The batch's rows in (env, time) order, so that each episode's steps are contiguous."""
        mask = self.batch_rows().T
        n_rows = mask.shape[1]

        def rows(array: np.ndarray) -> np.ndarray:
            return np.swapaxes(array[:n_rows], 0, 1)[mask]

        starts = rows(self.episode_starts).astype(bool)
        returns = rows(self.returns)
        episode = np.cumsum(starts) - 1
        first_step = np.flatnonzero(starts)
        time = np.arange(len(starts)) - first_step[episode]
        data = {
            "actions": rows(self.actions).astype(np.float32, copy=False),
            "old_values": rows(self.values),
            "old_log_prob": rows(self.log_probs),
            "returns": returns,
            "episode_returns": returns[first_step[episode]],  # R(tau) = G_0 of the step's episode
            "episode_index": episode,
            "time_index": time,
        }
        if not self._handed_out:
            self.n_batch_steps += len(starts)
            self._handed_out = True
        return mask, data

    def add(self, *args: Any, **kwargs: Any) -> None:  # SB3's signature cannot say when an episode ends
        raise TypeError(f"{type(self).__name__} stores steps with add_step(..., done=...)")

    def get(self, batch_size: int | None = None) -> Generator[EpisodeBatchSamples, None, None]:
        """
        :param batch_size: must be ``None``: REINFORCE's update uses the whole batch
        :return: the current batch, in one piece
        """
        if batch_size is not None:
            raise ValueError("`batch_size` must be None: the estimator needs the whole batch of episodes")
        mask, data = self._batch_arrays()

        def rows(obs: np.ndarray) -> th.Tensor:
            return self.to_torch(np.swapaxes(obs[: mask.shape[1]], 0, 1)[mask])  # type: ignore[attr-defined]

        if isinstance(self.observations, dict):
            observations: th.Tensor | TensorDict = {key: rows(obs) for key, obs in self.observations.items()}
        else:
            observations = rows(self.observations)
        tensors = {key: th.as_tensor(value, device=self.device) for key, value in data.items()}  # type: ignore[attr-defined]
        yield EpisodeBatchSamples(observations, **tensors)

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> Any:
        raise NotImplementedError("use get()")


class EpisodicRolloutBuffer(_EpisodeBatchMixin, RolloutBuffer):  # type: ignore[misc]
    """
    Rollout buffer of batches of ``n_episodes`` complete episodes for REINFORCE; it starts with
    ``buffer_size`` rows per env and doubles when it needs more.

    :param buffer_size: initial number of rows per environment
    :param observation_space: observation space
    :param action_space: action space
    :param device: PyTorch device
    :param gae_lambda: unused by REINFORCE (kept for SB3's buffer signature)
    :param gamma: discount factor
    :param n_envs: number of parallel environments
    :param n_episodes: complete episodes per batch, counted over all environments
    """


class DictEpisodicRolloutBuffer(_EpisodeBatchMixin, DictRolloutBuffer):  # type: ignore[misc]
    """:class:`EpisodicRolloutBuffer` for ``Dict`` observations; same parameters."""
