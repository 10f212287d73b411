"""Named algorithm variants: one place that says what each name means, for the command line,
benchmarks and tests. Each is a documented change from a base algorithm's defaults."""

from dataclasses import dataclass, field
from typing import Any

from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from sb3_pg.a2c import A2C
from sb3_pg.maskable import MaskableA2C, MaskableReinforce
from sb3_pg.recurrent import RecurrentA2C, RecurrentReinforce
from sb3_pg.reinforce import Reinforce


@dataclass(frozen=True)
class Variant:
    """An algorithm class with the keyword arguments that make the variant."""

    algo: type[OnPolicyAlgorithm]
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""


VARIANTS: dict[str, Variant] = {
    "reinforce": Variant(Reinforce, {}, "REINFORCE with a learned value baseline and reward-to-go (defaults)"),
    "reinforce-no-baseline": Variant(Reinforce, dict(baseline="none"), "REINFORCE without baseline"),
    "reinforce-mean-baseline": Variant(Reinforce, dict(baseline="mean"), "REINFORCE with the batch-mean baseline"),
    "pg_a2c": Variant(A2C, {}, "A2C with SB3's defaults: n-step Monte Carlo advantage, joint optimizer"),
    "pg_a2c-td0": Variant(A2C, dict(gae_lambda=0.0), "A2C with the TD(0) residual as advantage"),
    "pg_a2c-gae": Variant(A2C, dict(gae_lambda=0.95), "A2C with GAE(0.95)"),
    "pg_a2c-mc-target": Variant(
        A2C, dict(gae_lambda=0.95, critic_target="monte_carlo"), "A2C with GAE(0.95), critic fitted to Monte Carlo returns"
    ),
    "pg_a2c-separate": Variant(A2C, dict(critic_learning_rate=7e-4), "A2C with separate actor and critic optimizers"),
    "pg_a2c-separate-td0": Variant(
        A2C, dict(gae_lambda=0.0, critic_learning_rate=7e-4), "A2C, TD(0) advantage, separate optimizers"
    ),
    "maskable_reinforce": Variant(MaskableReinforce, {}, "REINFORCE with invalid-action masking (env's action_masks())"),
    "maskable_a2c": Variant(MaskableA2C, {}, "A2C with invalid-action masking (env's action_masks())"),
    "recurrent_reinforce": Variant(RecurrentReinforce, {}, "REINFORCE with an LSTM policy (MlpLstmPolicy)"),
    "recurrent_a2c": Variant(RecurrentA2C, {}, "A2C with an LSTM policy (MlpLstmPolicy)"),
}


def make_variant(name: str, policy: str, env: Any, **kwargs: Any) -> OnPolicyAlgorithm:
    """
    Build the named variant.

    :param name: a key of :data:`VARIANTS`
    :param policy: the policy (``"MlpPolicy"``, ...)
    :param env: the environment or its id
    :param kwargs: more keyword arguments for the algorithm (they override the variant's)
    :return: the model
    :raises ValueError: for an unknown name
    """
    if name not in VARIANTS:
        raise ValueError(f"unknown algorithm {name!r}; choose one of {', '.join(sorted(VARIANTS))}")
    variant = VARIANTS[name]
    return variant.algo(policy, env, **{**variant.kwargs, **kwargs})
