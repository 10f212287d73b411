"""What ``Reinforce`` and ``A2C`` share: argument checks, an optional critic with its own optimizer
and learning-rate schedule, and how that optimizer is saved and logged."""

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.common.utils import FloatSchedule, obs_as_tensor, update_learning_rate
from torch.nn import functional as F

from sb3_pg.common.validation import check_learning_rate, check_positive_int, check_range, check_spaces


def _zero_observation(space: spaces.Space) -> Any:
    if isinstance(space, spaces.Dict):
        return {key: _zero_observation(subspace) for key, subspace in space.spaces.items()}
    if isinstance(space, spaces.Discrete):
        return int(space.start)
    return np.zeros(space.shape, dtype=space.dtype)


def split_actor_critic_parameters(policy: ActorCriticPolicy) -> tuple[list[th.nn.Parameter], list[th.nn.Parameter]]:
    """
    Split a policy's parameters into the actor's and the critic's, by which output they reach.

    The critic owns the parameters that only the value reaches (value head, critic layers, and the
    critic's own features extractor when ``share_features_extractor=False``). The actor owns all the
    others, including a features extractor shared by both: the critic's loss never moves it.
    Probing the graph, rather than matching names, keeps custom SB3 policies working.

    :param policy: an SB3 actor-critic policy
    :return: (actor parameters, critic parameters)
    """
    params = [p for p in policy.parameters() if p.requires_grad]
    was_training = policy.training
    policy.set_training_mode(False)
    # A fixed observation and the distribution's mode: the probe draws no random numbers
    obs = policy.obs_to_tensor(_zero_observation(policy.observation_space))[0]
    distribution = policy.get_distribution(obs)
    with th.no_grad():
        action = distribution.get_actions(deterministic=True)
    actor_grads = th.autograd.grad(distribution.log_prob(action).sum(), params, allow_unused=True)
    critic_grads = th.autograd.grad(policy.predict_values(obs).sum(), params, allow_unused=True)
    policy.set_training_mode(was_training)
    critic_only = [g_a is None and g_c is not None for g_a, g_c in zip(actor_grads, critic_grads, strict=True)]
    actor = [p for p, is_critic in zip(params, critic_only, strict=True) if not is_critic]
    critic = [p for p, is_critic in zip(params, critic_only, strict=True) if is_critic]
    return actor, critic


class ActorCriticAlgorithm(OnPolicyAlgorithm):
    """
    Base of sb3_pg's algorithms: an SB3 ``OnPolicyAlgorithm`` whose critic may have its own
    optimizer (``critic_optimizer``) and learning-rate schedule (``critic_lr_schedule``).

    With a separate critic, ``policy.optimizer`` steps the actor's parameters only and
    ``critic_optimizer`` the critic's (see :func:`split_actor_critic_parameters`). Both use the
    policy's ``optimizer_class`` and ``optimizer_kwargs``.
    """

    critic_optimizer: th.optim.Optimizer | None
    critic_lr_schedule: Schedule | None
    critic_learning_rate: float | Schedule | None
    n_critic_updates: int
    _critic_params: list[th.nn.Parameter]
    _actor_params: list[th.nn.Parameter]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except NotImplementedError as error:
            # SB3 refuses nested observation spaces with NotImplementedError while wrapping the env
            raise ValueError(f"`env` has an unsupported observation space: {error}") from error

    def _check_common_arguments(self) -> None:
        """Checks of the arguments every sb3_pg algorithm shares; raise ``ValueError``."""
        if self.env is not None:  # load() builds the model without an env first
            check_spaces(self.observation_space, self.action_space)
        check_learning_rate("learning_rate", self.learning_rate)
        check_positive_int("n_steps", self.n_steps)
        check_range("gamma", self.gamma, 0.0, 1.0)
        check_range("ent_coef", self.ent_coef, 0.0)
        if self.max_grad_norm is not None:
            check_range("max_grad_norm", self.max_grad_norm, 0.0)
            if self.max_grad_norm <= 0:
                raise ValueError(f"`max_grad_norm` must be > 0 (or None for no clipping); got {self.max_grad_norm!r}")
        if self.critic_learning_rate is not None:
            check_learning_rate("critic_learning_rate", self.critic_learning_rate)
        check_positive_int("n_critic_updates", self.n_critic_updates)
        if self.rollout_buffer_kwargs is not None and not isinstance(self.rollout_buffer_kwargs, dict):
            raise ValueError(f"`rollout_buffer_kwargs` must be a dict or None; got {self.rollout_buffer_kwargs!r}")

    def _setup_critic_optimizer(self, critic_learning_rate: float | Schedule) -> None:
        """
        Give the critic its own optimizer and learning-rate schedule, and restrict the policy's
        optimizer to the actor's parameters.

        :param critic_learning_rate: the critic's learning rate or schedule
        """
        self.critic_lr_schedule = FloatSchedule(critic_learning_rate)
        self._actor_params, self._critic_params = split_actor_critic_parameters(self.policy)
        if not self._critic_params:
            raise ValueError("the policy has no critic-only parameters to give a separate `critic_learning_rate` to")
        optimizer_class = self.policy.optimizer_class
        optimizer_kwargs = self.policy.optimizer_kwargs
        self.policy.optimizer = optimizer_class(self._actor_params, lr=self.lr_schedule(1), **optimizer_kwargs)  # type: ignore[call-arg]
        self.critic_optimizer = optimizer_class(self._critic_params, lr=self.critic_lr_schedule(1), **optimizer_kwargs)  # type: ignore[call-arg]

    def _update_critic_learning_rate(self) -> None:
        """Set and log the critic's learning rate for the current progress."""
        assert self.critic_optimizer is not None and self.critic_lr_schedule is not None
        critic_lr = self.critic_lr_schedule(self._current_progress_remaining)
        self.logger.record("train/critic_learning_rate", critic_lr)
        update_learning_rate(self.critic_optimizer, critic_lr)

    def _critic_step(self, observations: PyTorchObs, returns: th.Tensor) -> float:
        """
        One gradient step of the critic alone: minimise the MSE between ``V_phi(s)`` and ``returns``.

        :param observations: the batch's observations
        :param returns: the regression targets
        :return: the value loss before the step
        """
        assert self.critic_optimizer is not None
        values = self.policy.predict_values(observations).flatten()
        value_loss = F.mse_loss(returns, values)
        self.critic_optimizer.zero_grad()
        value_loss.backward()
        if self.max_grad_norm is not None:
            th.nn.utils.clip_grad_norm_(self._critic_params, self.max_grad_norm)
        self.critic_optimizer.step()
        return value_loss.item()

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, torch_variables = super()._get_torch_save_params()
        if getattr(self, "critic_optimizer", None) is not None:
            state_dicts = [*state_dicts, "critic_optimizer"]
        return state_dicts, torch_variables

    def _excluded_save_params(self) -> list[str]:
        # The parameter lists are rebuilt by _setup_model from the policy.
        return [*super()._excluded_save_params(), "_actor_params", "_critic_params"]

    def _act(self, observations: Any) -> tuple[np.ndarray, np.ndarray, th.Tensor, th.Tensor]:
        """
        Sample actions for a rollout step, as SB3's ``collect_rollouts`` does.

        :param observations: the vec env's last observations
        :return: (actions as stored, actions sent to the env, values, log-probabilities)
        """
        with th.no_grad():
            obs_tensor = obs_as_tensor(observations, self.device)
            actions_tensor, values, log_probs = self.policy(obs_tensor)
        actions = actions_tensor.cpu().numpy()
        clipped_actions = actions
        if isinstance(self.action_space, spaces.Box):
            if self.policy.squash_output:
                clipped_actions = self.policy.unscale_action(clipped_actions)
            else:
                # The Gaussian is unbounded: clip to the env's bounds, store the unclipped action
                clipped_actions = np.clip(actions, self.action_space.low, self.action_space.high)
        return actions, clipped_actions, values, log_probs

    def _bootstrap_truncations(self, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """
        Add ``gamma * V(terminal_obs)`` to the last reward of each episode that a time limit truncated
        (SB3 issue #633), in place.

        :param rewards: the step's rewards, one per env
        :param dones: the step's done flags
        :param infos: the step's infos
        """
        for idx, done in enumerate(dones):
            if done and infos[idx].get("terminal_observation") is not None and infos[idx].get("TimeLimit.truncated", False):
                terminal_obs = self.policy.obs_to_tensor(infos[idx]["terminal_observation"])[0]
                with th.no_grad():
                    terminal_value = self.policy.predict_values(terminal_obs)[0]
                # Same expression as SB3, so that the float32 result matches to the bit
                rewards[idx] += self.gamma * terminal_value
