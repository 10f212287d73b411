"""The algorithms and variants every compatibility test runs over."""

from typing import Any

from sb3_pg import A2C, Reinforce

SMALL = dict(policy_kwargs=dict(net_arch=[16]))

# (id, class, kwargs): every variant of both algorithms, small enough for fast tests
VARIANTS: list[tuple[str, type, dict[str, Any]]] = [
    ("reinforce-value", Reinforce, dict(n_episodes=4, **SMALL)),
    ("reinforce-none-whole", Reinforce, dict(n_episodes=4, baseline="none", reward_to_go=False, **SMALL)),
    ("reinforce-mean-step", Reinforce, dict(n_episodes=4, baseline="mean", loss_reduction="step_mean", **SMALL)),
    ("reinforce-running-mean", Reinforce, dict(n_episodes=4, baseline="running_mean", normalize_advantage=True, **SMALL)),
    ("reinforce-critic-lr", Reinforce, dict(n_episodes=4, critic_learning_rate=3e-3, n_critic_updates=2, **SMALL)),
    ("a2c", A2C, dict(**SMALL)),
    ("a2c-td0", A2C, dict(gae_lambda=0.0, **SMALL)),
    ("a2c-gae-mc-target", A2C, dict(gae_lambda=0.95, critic_target="monte_carlo", **SMALL)),
    ("a2c-separate", A2C, dict(critic_learning_rate=1e-3, n_critic_updates=2, **SMALL)),
    ("a2c-scaled-critic", A2C, dict(gae_lambda=0.95, scale_critic_targets=True, **SMALL)),
]
VARIANT_IDS = [variant[0] for variant in VARIANTS]
SEPARATE_CRITIC_VARIANTS = [v for v in VARIANTS if v[0] in ("reinforce-value", "reinforce-critic-lr", "a2c-separate")]
