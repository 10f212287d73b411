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
from stable_baselines3.common.policies import ActorCriticPolicy


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
