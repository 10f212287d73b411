"""Quick probes of a ``zoo_configs/`` entry with some of its values changed: each seed trains and is
evaluated exactly as one ``sb3-pg compare --mode tuned`` run (``sb3_pg.compare.runner``), without a
store or a report, and prints its evaluation curve as a JSON line. For trying an idea on a few seeds
before a study confirms it on held-out ones (``sb3-pg tune --enqueue``).

Usage: python benchmarks/probe_entry.py --algo recurrent_a2c --env CartPoleNoVel-v1
           --hyperparams "{gamma: 0.999, learning_rate: lin_1e-3}" --seeds 0 1 2 3 4 5
           [--eval-freq 10000] [--eval-episodes 10] [--name NAME]
"""

import argparse
import json

import torch as th
import yaml

from sb3_pg.compare.algos import ALGO_NAMES, run_config
from sb3_pg.compare.runner import train_and_evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", choices=ALGO_NAMES, required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--hyperparams", default="{}", help="YAML mapping of entry values to override")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--eval-freq", type=int, default=10_000)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--name", default=None, help="label of the printed lines (default: the overrides)")
    args = parser.parse_args()
    overrides = yaml.safe_load(args.hyperparams) or {}
    if not isinstance(overrides, dict):
        parser.error(f"argument --hyperparams: expected a YAML mapping; got {args.hyperparams!r}")
    th.set_num_threads(1)
    config = run_config(args.algo, args.env, "tuned", hyperparams=overrides)
    for seed in args.seeds:
        result = train_and_evaluate(config, args.env, seed, config.n_timesteps, args.eval_freq, args.eval_episodes)
        line = {"name": args.name or args.hyperparams, "seed": seed, "returns": [round(r, 1) for r in result.returns]}
        print(json.dumps({**line, "train_seconds": round(result.train_seconds)}), flush=True)


if __name__ == "__main__":
    main()
