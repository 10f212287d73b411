"""The ``sb3-pg`` command (also ``python -m sb3_pg``).

``sb3-pg train``: train one of sb3_pg's algorithms (or a named variant) on a Gymnasium env,
evaluate it deterministically on a separate env and print the mean return.
"""

import argparse
import sys
import time
from pathlib import Path

import gymnasium as gym
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_pg.variants import VARIANTS, make_variant


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sb3-pg", description="Policy-gradient algorithms for Stable-Baselines3.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train an algorithm on an env and print its evaluation return")
    train.add_argument("--algo", choices=sorted(VARIANTS), default="reinforce", help="algorithm or named variant")
    train.add_argument("--env", default="CartPole-v1", help="Gymnasium env id")
    train.add_argument("--timesteps", type=_positive_int, default=200_000, help="training budget in env steps")
    train.add_argument("--n-envs", type=_positive_int, default=1, help="parallel training envs")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--eval-episodes", type=_positive_int, default=20)
    train.add_argument("--save", type=Path, default=None, help="where to save the trained model (.zip)")
    train.add_argument("--progress-bar", action="store_true")
    train.set_defaults(run=train_command)
    return parser


def train_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.env not in gym.registry:
        parser.error(f"argument --env: unknown Gymnasium env id {args.env!r}")
    if args.save is not None and args.save.exists():
        # Never overwrite a user's saved model
        parser.error(f"argument --save: {args.save} exists; choose a new path")
    env = make_vec_env(args.env, n_envs=args.n_envs, seed=args.seed)
    eval_env = make_vec_env(args.env, n_envs=1, seed=args.seed + 10_000)
    model = make_variant(args.algo, "MlpPolicy", env, seed=args.seed)
    start = time.perf_counter()
    model.learn(args.timesteps, progress_bar=args.progress_bar)
    train_seconds = time.perf_counter() - start
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True)
    print(f"{args.algo} on {args.env}: {model.num_timesteps} steps in {train_seconds:.0f} s")
    print(f"deterministic evaluation over {args.eval_episodes} episodes: {mean:.1f} +/- {std:.1f}")
    if args.save is not None:
        model.save(args.save)
        print(f"saved to {args.save}")
    env.close()
    eval_env.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    # One torch thread: faster for small networks, and two threads on two cores stall at times
    th.set_num_threads(1)
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args, parser))


if __name__ == "__main__":
    sys.exit(main())
