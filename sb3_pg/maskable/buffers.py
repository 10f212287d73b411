"""Rollout buffers that also store each step's action mask, for the maskable algorithms.

- A2C: sb3-contrib's ``MaskableRolloutBuffer`` / ``MaskableDictRolloutBuffer`` (mask storage and
  batches) with our choice of critic target (:class:`~sb3_pg.common.buffers.CriticTargetMixin`).
- REINFORCE: our batches of complete episodes (:mod:`sb3_pg.common.episode_buffer`) with a mask per
  step, kept with its step when the buffer grows or moves later batches' steps up.

Masks are stored as sb3-contrib stores them: one float per action choice (``n`` for ``Discrete(n)``,
``sum(nvec)`` for ``MultiDiscrete``, ``2 * n`` for ``MultiBinary(n)``), 1 for a valid choice.
"""

from typing import Any

import numpy as np
from gymnasium import spaces
from sb3_contrib.common.maskable.buffers import MaskableDictRolloutBuffer, MaskableRolloutBuffer

from sb3_pg.common.buffers import CriticTargetMixin
from sb3_pg.common.episode_buffer import DictEpisodicRolloutBuffer, EpisodicRolloutBuffer

MASKABLE_ACTION_SPACES = (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def action_mask_size(action_space: spaces.Space) -> int:
    """
    The length of one action mask for ``action_space`` (sb3-contrib's layout).

    :raises ValueError: for an action space masks cannot apply to
    """
    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n)
    if isinstance(action_space, spaces.MultiDiscrete):
        return int(np.sum(action_space.nvec))
    if isinstance(action_space, spaces.MultiBinary) and isinstance(action_space.n, (int, np.integer)):
        return 2 * int(action_space.n)  # one mask per binary outcome
    allowed = ", ".join(space.__name__ for space in MASKABLE_ACTION_SPACES)
    raise ValueError(
        f"`env` has an action space {action_space} that masks cannot apply to; supported: {allowed} (one-dimensional)"
    )


class MaskablePGRolloutBuffer(CriticTargetMixin, MaskableRolloutBuffer):
    """
    sb3-contrib's ``MaskableRolloutBuffer`` with a choice of critic target.

    :param buffer_size: number of steps per environment
    :param observation_space: observation space
    :param action_space: action space (Discrete, MultiDiscrete or MultiBinary)
    :param device: PyTorch device
    :param gae_lambda: lambda of GAE(lambda) for the advantages
    :param gamma: discount factor
    :param n_envs: number of parallel environments
    :param critic_target: ``"td_lambda"`` or ``"monte_carlo"``
    """


class MaskablePGDictRolloutBuffer(CriticTargetMixin, MaskableDictRolloutBuffer):
    """sb3-contrib's ``MaskableDictRolloutBuffer`` with a choice of critic target; parameters as
    :class:`MaskablePGRolloutBuffer`."""


class _EpisodeMaskMixin:
    """Per-step action masks in an episode buffer: one more per-step array, handed out with the batch."""

    _PER_STEP: tuple[str, ...] = (*EpisodicRolloutBuffer._PER_STEP, "action_masks")
    action_space: spaces.Space
    buffer_size: int
    n_envs: int
    lengths: np.ndarray
    action_masks: np.ndarray

    def reset(self) -> None:
        if not hasattr(self, "lengths"):  # from SB3's __init__: allocate the arrays
            self.mask_dims = action_mask_size(self.action_space)
            self.action_masks = np.ones((self.buffer_size, self.n_envs, self.mask_dims), dtype=np.float32)
        super().reset()  # type: ignore[misc]

    def add_step(self, *args: Any, action_masks: np.ndarray | None = None, **kwargs: Any) -> None:
        """
        The episode buffer's ``add_step``, storing the step's action masks too.

        :param action_masks: the masks the actions were sampled under, one row per env; ``None``
            (masking switched off) stores all-valid masks
        """
        masks = np.ones((self.n_envs, self.mask_dims), dtype=np.float32)
        if action_masks is not None:
            masks = np.asarray(action_masks, dtype=np.float32).reshape((self.n_envs, self.mask_dims))
        super().add_step(*args, per_step={"action_masks": masks}, **kwargs)  # type: ignore[misc]

    def _batch_arrays(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        mask, data = super()._batch_arrays()  # type: ignore[misc]
        data["action_masks"] = np.swapaxes(self.action_masks[: mask.shape[1]], 0, 1)[mask]
        return mask, data


class MaskableEpisodicRolloutBuffer(_EpisodeMaskMixin, EpisodicRolloutBuffer):  # type: ignore[misc]
    """
    :class:`~sb3_pg.common.episode_buffer.EpisodicRolloutBuffer` that stores each step's action
    mask and hands it out with the batch (``EpisodeBatchSamples.action_masks``).

    :param buffer_size: initial number of rows per environment
    :param observation_space: observation space
    :param action_space: action space (Discrete, MultiDiscrete or MultiBinary)
    :param device: PyTorch device
    :param gae_lambda: unused by REINFORCE (kept for SB3's buffer signature)
    :param gamma: discount factor
    :param n_envs: number of parallel environments
    :param n_episodes: complete episodes per batch, counted over all environments
    """


class MaskableDictEpisodicRolloutBuffer(_EpisodeMaskMixin, DictEpisodicRolloutBuffer):  # type: ignore[misc]
    """:class:`MaskableEpisodicRolloutBuffer` for ``Dict`` observations; same parameters."""
