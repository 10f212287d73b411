"""Every variant learns CartPole-v1 to a mean deterministic evaluation return >= 475 (fixed seeds).

Budgets: REINFORCE with its defaults (1 env), 200k steps; A2C variants with SB3's default
hyperparameters and 8 envs (RL Zoo's CartPole setting), 300k steps. A run stops at its first
evaluation (10 episodes, every 10k steps) >= 475. ``benchmarks/learning.py`` runs the same over
more seeds.
"""

import pytest
from stable_baselines3.common.callbacks import EvalCallback, StopTrainingOnRewardThreshold
from stable_baselines3.common.env_util import make_vec_env

from sb3_pg.registry import make_variant

THRESHOLD = 475.0
CASES = [
    # (variant, n_envs, budget, seed)
    ("reinforce", 1, 200_000, 0),
    ("reinforce", 8, 200_000, 0),
    ("pg_a2c", 8, 300_000, 0),
    ("pg_a2c-td0", 8, 300_000, 0),
    ("pg_a2c-gae", 8, 300_000, 0),
    ("pg_a2c-mc-target", 8, 300_000, 0),
    ("pg_a2c-separate", 8, 300_000, 0),
    ("pg_a2c-separate-td0", 8, 300_000, 0),
]


@pytest.mark.slow
@pytest.mark.parametrize("variant, n_envs, budget, seed", CASES, ids=[f"{c[0]}-{c[1]}envs" for c in CASES])
def test_learns_cartpole(variant, n_envs, budget, seed):
    env = make_vec_env("CartPole-v1", n_envs=n_envs, seed=seed)
    eval_env = make_vec_env("CartPole-v1", n_envs=1, seed=10_000 + seed)
    stop = StopTrainingOnRewardThreshold(reward_threshold=THRESHOLD)
    callback = EvalCallback(eval_env, eval_freq=10_000 // n_envs, n_eval_episodes=10, callback_on_new_best=stop)
    model = make_variant(variant, "MlpPolicy", env, seed=seed)
    model.learn(budget, callback=callback)
    print(f"{variant} seed {seed}: best evaluation {callback.best_mean_reward:.1f} at {model.num_timesteps} steps")
    assert callback.best_mean_reward >= THRESHOLD
