"""A2C's recurrent rollout buffers: sb3-contrib's ``RecurrentRolloutBuffer`` and
``RecurrentDictRolloutBuffer`` (LSTM states stored per step, rollouts cut into padded sequences)
with our choice of critic target.

A batch keeps sb3-contrib's padded ``observations``, ``actions``, ``episode_starts`` and ``mask``
(the LSTM needs whole sequences), and its ``old_values``, ``old_log_prob``, ``advantages`` and
``returns`` hold the real steps only (in the padded order, the padding left out): every loss and
every mean the update takes over them is over real steps, so a padded step changes no gradient.
REINFORCE needs no such buffer: its complete episodes start from a zero state
(:class:`sb3_pg.recurrent.RecurrentReinforce`).
"""

from collections.abc import Generator
from typing import Any

import torch as th
from gymnasium import spaces
from sb3_contrib.common.recurrent.buffers import RecurrentDictRolloutBuffer, RecurrentRolloutBuffer

from sb3_pg.common.buffers import CriticTargetMixin


def _real_steps(samples: Any) -> Any:
    mask = samples.mask > 0.5
    return samples._replace(
        old_values=samples.old_values[mask],
        old_log_prob=samples.old_log_prob[mask],
        advantages=samples.advantages[mask],
        returns=samples.returns[mask],
    )


class _RecurrentCriticTarget(CriticTargetMixin):
    """A choice of critic target on sb3-contrib's recurrent buffers, whose batches keep real steps only."""

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
        hidden_state_shape: tuple[int, int, int, int] = (1, 1, 1, 1),
    ):
        self.critic_target = critic_target
        # sb3-contrib's recurrent buffers take hidden_state_shape fourth: past CriticTargetMixin's __init__
        super(CriticTargetMixin, self).__init__(  # type: ignore[call-arg]
            buffer_size,
            observation_space,
            action_space,
            hidden_state_shape,  # type: ignore[arg-type]
            device,  # type: ignore[arg-type]
            gae_lambda,
            gamma,  # type: ignore[arg-type]
            n_envs,
        )

    def get(self, batch_size: int | None = None) -> Generator[Any, None, None]:
        for samples in super().get(batch_size):
            yield _real_steps(samples)


class RecurrentPGRolloutBuffer(_RecurrentCriticTarget, RecurrentRolloutBuffer):
    """
    sb3-contrib's ``RecurrentRolloutBuffer`` with a choice of critic target, its scalar fields
    restricted to real steps (module docstring).

    :param buffer_size: number of steps per environment
    :param observation_space: observation space
    :param action_space: action space
    :param device: PyTorch device
    :param gae_lambda: lambda of GAE(lambda) for the advantages
    :param gamma: discount factor
    :param n_envs: number of parallel environments
    :param critic_target: ``"td_lambda"`` or ``"monte_carlo"``
    :param hidden_state_shape: ``(n_steps, n_lstm_layers, n_envs, lstm_hidden_size)``, set by the algorithm
    """


class RecurrentPGDictRolloutBuffer(_RecurrentCriticTarget, RecurrentDictRolloutBuffer):
    """sb3-contrib's ``RecurrentDictRolloutBuffer`` with a choice of critic target; parameters as
    :class:`RecurrentPGRolloutBuffer`."""
