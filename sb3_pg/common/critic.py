"""The separate critic: which of a policy's parameters belong to the actor and which to the critic,
and the critic's own optimizer, kept in step with whatever policy the algorithm holds.

SB3 reads ``self.policy`` (and its ``optimizer``) at every update, so a user may replace
``model.policy`` between ``learn`` calls. :class:`ParameterSplit` belongs to one policy object;
:meth:`ParameterSplit.follow` builds a new one when the algorithm's policy is another object, so that
gradient clipping, the actor's optimizer and the critic's optimizer always act on the policy that is
trained.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import Schedule
from stable_baselines3.common.utils import FloatSchedule, update_learning_rate
from torch.nn import functional as F

from sb3_pg.common.fast_optim import clip_grad_norm, zero_grad


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
    if isinstance(policy, RecurrentActorCriticPolicy):  # one step from a zero state
        lstm = policy.lstm_actor
        zeros = (th.zeros(lstm.num_layers, 1, lstm.hidden_size), th.zeros(lstm.num_layers, 1, lstm.hidden_size))
        start = th.ones(1)
        distribution, _ = policy.get_distribution(obs, zeros, start)  # type: ignore[arg-type]
        value = policy.predict_values(obs, zeros, start)  # type: ignore[arg-type]
    else:
        distribution, value = policy.get_distribution(obs), policy.predict_values(obs)
    with th.no_grad():
        action = distribution.get_actions(deterministic=True)
    actor_grads = th.autograd.grad(distribution.log_prob(action).sum(), params, allow_unused=True)
    critic_grads = th.autograd.grad(value.sum(), params, allow_unused=True)
    policy.set_training_mode(was_training)
    critic_only = [g_a is None and g_c is not None for g_a, g_c in zip(actor_grads, critic_grads, strict=True)]
    actor = [p for p, is_critic in zip(params, critic_only, strict=True) if not is_critic]
    critic = [p for p, is_critic in zip(params, critic_only, strict=True) if is_critic]
    return actor, critic


def _restricted(optimizer: th.optim.Optimizer, params: list[th.nn.Parameter], policy: ActorCriticPolicy) -> th.optim.Optimizer:
    """``optimizer`` over ``params`` only: the same object if it already steps exactly them, else a new
    one of the policy's optimizer class, its per-parameter state carried over."""
    current = [p for group in optimizer.param_groups for p in group["params"]]
    if len(current) == len(params) and all(p is q for p, q in zip(current, params, strict=True)):
        return optimizer
    lr = optimizer.param_groups[0]["lr"]
    restricted = policy.optimizer_class(params, lr=lr, **policy.optimizer_kwargs)  # type: ignore[call-arg]
    for p in params:
        if p in optimizer.state:
            restricted.state[p] = optimizer.state[p]
    return restricted


def _use_foreach(optimizer: th.optim.Optimizer) -> None:
    """
    Let the optimizer update all its parameters with one multi-tensor ("foreach") kernel per
    operation instead of one Python-level loop per parameter (torch enables it by default only on
    CUDA). The update is the same elementwise formula; for RMSprop (A2C) the results are identical
    to the bit, as the parity tests check.
    """
    for group in optimizer.param_groups:
        if "foreach" in group and group["foreach"] is None:
            group["foreach"] = True


@dataclass
class ParameterSplit:
    """
    For one policy object: the parameters the actor's step clips and moves, the critic's, and the
    critic's own optimizer (None when one joint optimizer trains both, as SB3's A2C).

    With a separate critic, ``policy.optimizer`` steps the actor's parameters only and
    ``critic_optimizer`` the critic's (see :func:`split_actor_critic_parameters`); both are of the
    policy's ``optimizer_class``, with its ``optimizer_kwargs``.
    """

    policy: ActorCriticPolicy
    actor_params: list[th.nn.Parameter]
    critic_params: list[th.nn.Parameter]
    critic_optimizer: th.optim.Optimizer | None

    @classmethod
    def build(cls, policy: ActorCriticPolicy, critic_learning_rate: float | None) -> "ParameterSplit":
        """
        :param policy: the policy to train
        :param critic_learning_rate: the critic's learning rate now, or None for one joint optimizer
        :raises ValueError: if a separate critic is asked for and the policy has no critic-only parameters
        """
        if critic_learning_rate is None:
            split = cls(policy, list(policy.parameters()), [], None)
        else:
            actor, critic = split_actor_critic_parameters(policy)
            if not critic:
                raise ValueError("the policy has no critic-only parameters to give a separate `critic_learning_rate` to")
            policy.optimizer = _restricted(policy.optimizer, actor, policy)
            critic_optimizer = policy.optimizer_class(critic, lr=critic_learning_rate, **policy.optimizer_kwargs)  # type: ignore[call-arg]
            split = cls(policy, actor, critic, critic_optimizer)
        for optimizer in (policy.optimizer, split.critic_optimizer):
            if optimizer is not None:
                _use_foreach(optimizer)
        return split

    def follow(self, policy: ActorCriticPolicy, critic_learning_rate: float | None) -> "ParameterSplit":
        """This split if it is ``policy``'s, else a new one for ``policy`` (replaced by the user)."""
        if policy is self.policy:
            return self
        return ParameterSplit.build(policy, critic_learning_rate)


class SeparateCritic(OnPolicyAlgorithm):
    """
    An ``OnPolicyAlgorithm`` whose critic may have its own optimizer (``critic_optimizer``) and
    learning-rate schedule (``critic_lr_schedule``), for whatever policy it holds (:class:`ParameterSplit`).

    With a separate critic, ``policy.optimizer`` steps the actor's parameters only and
    ``critic_optimizer`` the critic's (see :func:`split_actor_critic_parameters`). Both use the
    policy's ``optimizer_class`` and ``optimizer_kwargs``.
    """

    critic_lr_schedule: Schedule | None
    critic_learning_rate: float | Schedule | None
    n_critic_updates: int
    _split: ParameterSplit | None = None

    def _setup_optimizers(self, critic_learning_rate: float | Schedule | None) -> None:
        """
        Without a critic learning rate, keep the policy's one optimizer over all parameters (SB3).
        With one, give the critic its own optimizer and learning-rate schedule, and restrict the
        policy's optimizer to the actor's parameters. Called by ``_setup_model`` after the policy is
        built; a policy the user puts in ``model.policy`` later gets the same (:class:`ParameterSplit`).

        :param critic_learning_rate: the critic's learning rate or schedule, or None
        """
        self.critic_lr_schedule = None if critic_learning_rate is None else FloatSchedule(critic_learning_rate)
        self._split = None
        self._parameter_split()

    def _parameter_split(self) -> ParameterSplit:
        """The actor's and critic's parameters and the critic's optimizer, for the policy held now."""
        critic_lr = None if self.critic_lr_schedule is None else self.critic_lr_schedule(self._current_progress_remaining)
        if self._split is None:
            self._split = ParameterSplit.build(self.policy, critic_lr)
        else:
            self._split = self._split.follow(self.policy, critic_lr)
        return self._split

    @property
    def critic_optimizer(self) -> th.optim.Optimizer | None:
        """The critic's own optimizer (None: one joint optimizer, ``policy.optimizer``, trains both)."""
        return self._parameter_split().critic_optimizer

    @property
    def _actor_params(self) -> list[th.nn.Parameter]:
        """The parameters the actor's step clips and moves (all of them with one joint optimizer)."""
        return self._parameter_split().actor_params

    @property
    def _critic_params(self) -> list[th.nn.Parameter]:
        """The critic's own parameters (none with one joint optimizer)."""
        return self._parameter_split().critic_params

    def _update_critic_learning_rate(self) -> None:
        """Set and log the critic's learning rate for the current progress."""
        assert self.critic_optimizer is not None and self.critic_lr_schedule is not None
        critic_lr = self.critic_lr_schedule(self._current_progress_remaining)
        self.logger.record("train/critic_learning_rate", critic_lr)
        update_learning_rate(self.critic_optimizer, critic_lr)

    def _critic_step(self, rollout_data: Any) -> float:
        """
        One gradient step of the critic alone: minimise the MSE between ``V_phi(s)`` and the batch's
        ``returns``.

        :param rollout_data: the batch from the rollout buffer
        :return: the value loss before the step
        """
        assert self.critic_optimizer is not None
        value_loss = F.mse_loss(rollout_data.returns, self._batch_values(rollout_data))
        self._gradient_step(self.critic_optimizer, value_loss, self._critic_params)
        return value_loss.item()

    def _batch_values(self, rollout_data: Any) -> th.Tensor:
        """``V_phi(s)`` of a batch's steps, with gradient (recurrent policies override it)."""
        return self.policy.predict_values(rollout_data.observations).flatten()

    def _gradient_step(self, optimizer: th.optim.Optimizer, loss: th.Tensor, params: list[th.nn.Parameter]) -> None:
        """
        One step of ``optimizer`` down the gradient of ``loss``, with the gradients of ``params``
        (the optimizer's parameters, in order) clipped to ``max_grad_norm`` first.
        """
        zero_grad(optimizer)
        loss.backward()
        if self.max_grad_norm is not None:
            clip_grad_norm(params, self.max_grad_norm)
        optimizer.step()

    def _train_critic(self, rollout_data: Any) -> list[float]:
        """
        ``n_critic_updates`` critic steps with the separate critic optimizer; none without one.

        :param rollout_data: the batch from the rollout buffer (its ``returns`` are the targets)
        :return: the value loss before each step
        """
        if self.critic_optimizer is None:
            return []
        return [self._critic_step(rollout_data) for _ in range(self.n_critic_updates)]
