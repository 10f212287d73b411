"""The argument checks every sb3_pg algorithm shares (each algorithm adds its own in ``_setup_model``)."""

from typing import ClassVar

from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import Schedule

from sb3_pg.common.validation import (
    check_bool,
    check_learning_rate,
    check_net_arch,
    check_positive_int,
    check_range,
    check_spaces,
    is_real,
)


class ArgumentChecks(OnPolicyAlgorithm):
    """The checks of the arguments an sb3_pg algorithm shares with the others; they raise ``ValueError``."""

    critic_learning_rate: float | Schedule | None
    n_critic_updates: int
    exact_rollouts: bool
    # The rollout buffers used by default: for flat observations, for Dict observations
    default_rollout_buffers: ClassVar[tuple[type[RolloutBuffer], type[RolloutBuffer]]]

    def _check_common_arguments(self) -> None:
        """Checks of the arguments every sb3_pg algorithm shares; raise ``ValueError``."""
        if self.env is not None:  # load() builds the model without an env first
            check_spaces(self.observation_space, self.action_space)
        check_learning_rate("learning_rate", self.learning_rate)
        check_positive_int("n_steps", self.n_steps)
        check_range("gamma", self.gamma, 0.0, 1.0)
        check_range("ent_coef", self.ent_coef, 0.0)
        if self.max_grad_norm is not None and not (is_real(self.max_grad_norm) and self.max_grad_norm > 0):
            raise ValueError(f"`max_grad_norm` must be a number > 0, or None for no clipping; got {self.max_grad_norm!r}")
        if self.critic_learning_rate is not None:
            check_learning_rate("critic_learning_rate", self.critic_learning_rate)
        check_positive_int("n_critic_updates", self.n_critic_updates)
        check_bool("exact_rollouts", self.exact_rollouts)  # use_sde is checked in __init__, before SB3 uses it
        if not self.use_sde and self.sde_sample_freq != -1:
            raise ValueError(f"`sde_sample_freq` needs use_sde=True; got sde_sample_freq={self.sde_sample_freq!r}")
        check_net_arch(self.policy_kwargs)
        if self.rollout_buffer_kwargs is not None and not isinstance(self.rollout_buffer_kwargs, dict):
            raise ValueError(f"`rollout_buffer_kwargs` must be a dict or None; got {self.rollout_buffer_kwargs!r}")

    def _check_rollout_buffer_class(self, requirement: str) -> None:
        """
        :param requirement: what the algorithm needs of its buffer, for the message ("store action masks")
        :raises ValueError: if ``rollout_buffer_class`` is set and derives from none of the
            algorithm's ``default_rollout_buffers``
        """
        buffer_class = self.rollout_buffer_class
        defaults = self.default_rollout_buffers
        if buffer_class is None or (isinstance(buffer_class, type) and issubclass(buffer_class, defaults)):
            return
        names = " or ".join(c.__name__ for c in defaults)
        raise ValueError(f"`rollout_buffer_class` must {requirement}: a subclass of {names}; got {buffer_class!r}")
