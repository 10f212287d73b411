"""Steps to reach a CartPole-v1 evaluation return of 475, per algorithm variant and seed.

Usage::

    python benchmarks/learning.py --variant pg_a2c-td0 --seeds 0 1 2 3 4 --timesteps 300000 \
        --out benchmarks/results/learning.jsonl

Each run trains (until its first evaluation >= 475 with ``--stop-at-threshold``) with a
deterministic evaluation (10 episodes, separate env) every ``--eval-freq`` steps and appends one
JSON line: the first evaluation step with mean >= 475, the first step from which every later
evaluation stays >= 475, the fraction of evaluations >= 475 and the final mean.
"""

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import stable_baselines3 as sb3
import torch as th
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from sb3_pg.registry import VARIANTS, make_variant
from sb3_pg.reinforce import Reinforce

THRESHOLD = 475.0
# sb3_pg's named variants, plus SB3's A2C as the reference. A2C uses SB3's default hyperparameters
# with 8 envs (RL Zoo's CartPole-v1 setting); REINFORCE its defaults with 1 env (as from an env id).
CHOICES = [*VARIANTS, "sb3_a2c"]


def n_envs_for(variant: str) -> int:
    return 1 if variant.startswith("reinforce") else 8


def run(variant: str, seed: int, timesteps: int, eval_freq: int, stop_at_threshold: bool, n_envs: int) -> dict[str, Any]:
    env = make_vec_env("CartPole-v1", n_envs=n_envs, seed=seed)
    eval_env = make_vec_env("CartPole-v1", n_envs=1, seed=10_000 + seed)
    callback = EvalCallback(eval_env, eval_freq=max(eval_freq // n_envs, 1), n_eval_episodes=10, verbose=0)
    means: list[float] = []
    steps: list[int] = []
    original = callback._on_step

    def record() -> bool:
        result = original()
        if callback.n_calls % callback.eval_freq == 0:
            means.append(float(callback.last_mean_reward))
            steps.append(callback.num_timesteps)
            if stop_at_threshold and means[-1] >= THRESHOLD:
                return False
        return result

    callback._on_step = record  # type: ignore[method-assign]
    if variant == "sb3_a2c":
        model: OnPolicyAlgorithm = sb3.A2C("MlpPolicy", env, seed=seed)
    else:
        model = make_variant(variant, "MlpPolicy", env, seed=seed)
    start = time.perf_counter()
    model.learn(timesteps, callback=callback)
    above = np.array(means) >= THRESHOLD
    stays = next((steps[i] for i in range(len(steps)) if above[i:].all()), None)
    return {
        "variant": variant,
        "seed": seed,
        "timesteps": timesteps,
        "first_475": next((s for s, a in zip(steps, above, strict=True) if a), None),
        "stays_475_from": stays,
        "fraction_475": float(above.mean()) if len(above) else 0.0,
        "final_mean": means[-1] if means else None,
        "n_envs": n_envs,
        "num_timesteps": model.num_timesteps,
        # REINFORCE: the fraction of the env steps taken that it trained on
        "trained_fraction": (round(model.trained_steps / model.num_timesteps, 4) if isinstance(model, Reinforce) else None),
        "wall_s": round(time.perf_counter() - start, 1),
        "evaluations": list(zip(steps, means, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", choices=CHOICES, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--timesteps", type=int, default=200_000)
    parser.add_argument("--n-envs", type=int, default=None, help="training envs (default: 1 for REINFORCE, 8 for A2C)")
    parser.add_argument("--eval-freq", type=int, default=10_000)
    parser.add_argument("--stop-at-threshold", action="store_true", help="stop a run at its first evaluation >= 475")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/learning.jsonl"))
    args = parser.parse_args()
    th.set_num_threads(1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        n_envs = args.n_envs or n_envs_for(args.variant)
        result = run(args.variant, seed, args.timesteps, args.eval_freq, args.stop_at_threshold, n_envs)
        with args.out.open("a") as file:
            file.write(json.dumps(result) + "\n")
        print({k: v for k, v in result.items() if k != "evaluations"}, flush=True)


if __name__ == "__main__":
    main()
