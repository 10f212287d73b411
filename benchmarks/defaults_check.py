"""What an algorithm's constructor defaults learn, with nothing tuned: ``ALGO("Mlp...Policy", env)`` on
``--n-envs`` envs (no normalisation), evaluated deterministically every ``--eval-freq`` steps on a
separate env (seed + 10000). One JSON line per seed, as ``benchmarks/probe_entry.py`` prints them.

Usage: python benchmarks/defaults_check.py --algo recurrent_a2c --env CartPoleNoVel-v1 --n-envs 8
           --timesteps 300000 --seeds 0 1 2 3 4 [--kwargs "{n_steps: 32}"] [--eval-freq 50000]
           [--eval-episodes 20]
"""

import argparse
import json
import time

import numpy as np
import torch as th
import yaml
from stable_baselines3.common.env_util import make_vec_env

from sb3_pg.evaluation import evaluate_policy
from sb3_pg.registry import VARIANTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", choices=sorted(VARIANTS), required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=300_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--kwargs", default="{}", help="YAML mapping of constructor arguments over the defaults")
    parser.add_argument("--eval-freq", type=int, default=50_000)
    parser.add_argument("--eval-episodes", type=int, default=20)
    args = parser.parse_args()
    kwargs = yaml.safe_load(args.kwargs) or {}
    th.set_num_threads(1)
    if args.env == "CartPoleNoVel-v1":
        import rl_zoo3.import_envs  # noqa: F401  (registers RL Zoo's partially observed envs)
    variant = VARIANTS[args.algo]
    for seed in args.seeds:
        env = make_vec_env(args.env, n_envs=args.n_envs, seed=seed)
        eval_env = make_vec_env(args.env, n_envs=1, seed=seed + 10_000)
        model = variant.algo(variant.algo.default_policy(), env, seed=seed, **{**variant.kwargs, **kwargs})
        returns, start = [], time.perf_counter()
        while model.num_timesteps < args.timesteps:
            model.learn(args.eval_freq, reset_num_timesteps=False)
            mean, _ = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True)
            returns.append(round(float(np.mean(mean)), 1))
        line = {"algo": args.algo, "kwargs": kwargs, "seed": seed, "steps": model.num_timesteps, "returns": returns}
        print(json.dumps({**line, "seconds": round(time.perf_counter() - start)}), flush=True)
        env.close()
        eval_env.close()


if __name__ == "__main__":
    main()
