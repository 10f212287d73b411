"""The one registry of what sb3_pg trains: its algorithms and their named variants.

Everything else reads it: the command line (``--algo`` choices and help), RL Zoo's registration
(``sb3-pg zoo``), ``sb3-pg compare`` and ``sb3-pg tune`` (an algorithm's search space follows from its
class), and the tests. Adding an algorithm is one :data:`ALGORITHMS` entry (and its
``zoo_configs/<name>.yml``); adding a named variant is one :data:`VARIANTS` entry.
"""

from dataclasses import dataclass, field
from typing import Any

from sb3_contrib import RecurrentPPO
from stable_baselines3 import A2C as SB3_A2C
from stable_baselines3 import PPO
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from sb3_pg.a2c import A2C
from sb3_pg.common.on_policy import ActorCriticAlgorithm
from sb3_pg.maskable import MaskableA2C, MaskableReinforce
from sb3_pg.recurrent import RecurrentA2C, RecurrentReinforce
from sb3_pg.reinforce import Reinforce


@dataclass(frozen=True)
class AlgoSpec:
    """One of our algorithms: its RL Zoo name (also the name of its ``zoo_configs/`` file) and class."""

    name: str
    algo: type[ActorCriticAlgorithm]
    description: str

    @property
    def is_reinforce(self) -> bool:
        """Whether the algorithm trains on batches of complete episodes (``Reinforce`` and its subclasses)."""
        return issubclass(self.algo, Reinforce)


@dataclass(frozen=True)
class Variant:
    """A named variant: one of :data:`ALGORITHMS` with the keyword arguments that make the variant."""

    base: str  # a key of ALGORITHMS
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def spec(self) -> AlgoSpec:
        return ALGORITHMS[self.base]

    @property
    def algo(self) -> type[ActorCriticAlgorithm]:
        return ALGORITHMS[self.base].algo


ALGORITHMS: dict[str, AlgoSpec] = {
    spec.name: spec
    for spec in (
        AlgoSpec("reinforce", Reinforce, "REINFORCE with a learned value baseline and reward-to-go (defaults)"),
        AlgoSpec("pg_a2c", A2C, "A2C with SB3's defaults: n-step Monte Carlo advantage, joint optimizer"),
        AlgoSpec("maskable_reinforce", MaskableReinforce, "REINFORCE with invalid-action masking (env's action_masks())"),
        AlgoSpec("maskable_a2c", MaskableA2C, "A2C with invalid-action masking (env's action_masks())"),
        AlgoSpec("recurrent_reinforce", RecurrentReinforce, "REINFORCE with an LSTM policy (MlpLstmPolicy)"),
        AlgoSpec("recurrent_a2c", RecurrentA2C, "A2C with an LSTM policy (MlpLstmPolicy)"),
    )
}

# Every name ``--algo`` takes: each algorithm as itself, and the named variants
VARIANTS: dict[str, Variant] = {
    **{name: Variant(name, {}, spec.description) for name, spec in ALGORITHMS.items()},
    "reinforce-no-baseline": Variant("reinforce", dict(baseline="none"), "REINFORCE without baseline"),
    "reinforce-mean-baseline": Variant("reinforce", dict(baseline="mean"), "REINFORCE with the batch-mean baseline"),
    "pg_a2c-td0": Variant("pg_a2c", dict(gae_lambda=0.0), "A2C with the TD(0) residual as advantage"),
    "pg_a2c-gae": Variant("pg_a2c", dict(gae_lambda=0.95), "A2C with GAE(0.95)"),
    "pg_a2c-mc-target": Variant(
        "pg_a2c",
        dict(gae_lambda=0.95, critic_target="monte_carlo"),
        "A2C with GAE(0.95), critic fitted to Monte Carlo returns",
    ),
    "pg_a2c-separate": Variant("pg_a2c", dict(critic_learning_rate=7e-4), "A2C with separate actor and critic optimizers"),
    "pg_a2c-separate-td0": Variant(
        "pg_a2c", dict(gae_lambda=0.0, critic_learning_rate=7e-4), "A2C, TD(0) advantage, separate optimizers"
    ),
}


@dataclass(frozen=True)
class Peer:
    """An algorithm of another library that ``sb3-pg compare`` runs beside ours, with its own set-up."""

    name: str
    library: str  # "sb3" (SB3 or sb3-contrib, with RL Zoo's tuned entry) or "tianshou"
    description: str
    algo: type[OnPolicyAlgorithm] | None = None  # the SB3 class
    rl_zoo_name: str | None = None  # its RL Zoo config file (hyperparams/<name>.yml)
    peer_of: str | None = None  # the one of ours it is compared with (P(improvement) in the report)


PEERS: dict[str, Peer] = {
    peer.name: peer
    for peer in (
        Peer("sb3_a2c", "sb3", "SB3's A2C with RL Zoo's a2c.yml entry", SB3_A2C, "a2c"),
        Peer("sb3_ppo", "sb3", "SB3's PPO with RL Zoo's ppo.yml entry", PPO, "ppo"),
        Peer("sb3_ppo_lstm", "sb3", "sb3-contrib's RecurrentPPO with RL Zoo's ppo_lstm.yml entry", RecurrentPPO, "ppo_lstm"),
        Peer("tianshou_a2c", "tianshou", "Tianshou's A2C, set up as its own scripts (the tianshou extra)", peer_of="pg_a2c"),
        Peer(
            "tianshou_reinforce",
            "tianshou",
            "Tianshou's REINFORCE, set up as its own scripts (the tianshou extra)",
            peer_of="reinforce",
        ),
    )
}
# Every name ``sb3-pg compare --algos`` takes
COMPARE_NAMES = [*VARIANTS, *PEERS]


def make_variant(name: str, policy: str, env: Any, **kwargs: Any) -> ActorCriticAlgorithm:
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


def variants_help() -> str:
    """The ``--algo`` help: every name and what it is."""
    return "; ".join(f"{name}: {variant.description}" for name, variant in VARIANTS.items())
