"""Small helpers shared by the tests."""

import torch as th
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import configure_logger


def set_constant_value(model: OnPolicyAlgorithm, value: float) -> None:
    """Make the critic output ``value`` everywhere (its last layer: zero weights, bias ``value``)."""
    with th.no_grad():
        model.policy.value_net.weight.zero_()
        model.policy.value_net.bias.fill_(value)


def collect(model: OnPolicyAlgorithm, n_rollouts: int = 1) -> None:
    """Run ``n_rollouts`` rollouts of ``model`` into its buffer, without training."""
    first = model._last_obs is None
    _, callback = model._setup_learn(total_timesteps=10**9, callback=None, reset_num_timesteps=first)
    model.set_logger(configure_logger(0, None, "", False))
    for _ in range(n_rollouts):
        assert model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)  # type: ignore[arg-type]
