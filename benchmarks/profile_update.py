"""Where an A2C update's time goes: microseconds per update (one rollout and one training step).

Usage (from the repository root): python -m benchmarks.profile_update [--algo pg_a2c|pg_a2c_exact|sb3_a2c]
    [--env CartPole-v1] [--n-envs 8] [--timesteps 40000] [--vec-env dummy|gymnasium-native|...]

Trains with SB3's default A2C hyperparameters and wraps the parts of the loop in timers: the whole
rollout and training step, and inside them the vec env's ``step``, the rollout's action sampling,
the buffer's ``add`` and return computation, the training forward pass and autograd's backward.
The timers add a little overhead of their own; compare algorithms with ``benchmarks/throughput.py``.
One torch thread.
"""

import argparse
import time

import stable_baselines3 as sb3
import torch as th

from benchmarks.throughput import ALGOS, time_method
from sb3_pg.vec_envs import VEC_ENV_KINDS, make_vec_env_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=[name for name in ALGOS if name != "reinforce"], default="pg_a2c")
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=40_000)
    parser.add_argument("--vec-env", choices=VEC_ENV_KINDS, default="dummy")
    args = parser.parse_args()
    th.set_num_threads(1)
    model = ALGOS[args.algo]("MlpPolicy", make_vec_env_of(args.vec_env, args.env, args.n_envs, 0), seed=0)
    model.learn(4_000)  # warm up
    totals: dict[str, float] = {}
    time_method(model, "collect_rollouts", totals, "rollout")
    time_method(model, "train", totals, "training step")
    time_method(model.env, "step", totals, "  env step (rollout)")
    time_method(model.rollout_buffer, "add", totals, "  buffer add (rollout)")
    time_method(model.rollout_buffer, "compute_returns_and_advantage", totals, "  returns (rollout)")
    # sb3_pg's rollout step and training forward pass, or SB3's policy calls
    is_sb3 = isinstance(model, sb3.A2C)
    time_method(model.policy if is_sb3 else model, "forward" if is_sb3 else "_act", totals, "  actions (rollout)")
    time_method(
        model.policy if is_sb3 else model,
        "evaluate_actions" if is_sb3 else "_evaluate_actions",
        totals,
        "  forward (training)",
    )
    time_method(th.Tensor, "backward", totals, "  backward (training)")
    start = time.perf_counter()
    model.learn(args.timesteps, reset_num_timesteps=False)
    total = time.perf_counter() - start
    updates = args.timesteps / (model.n_steps * model.n_envs)
    print(f"{args.algo} on {args.env} with {args.n_envs} envs ({args.vec_env}): {total / updates * 1e6:,.0f} us per update")
    training_rate = model.n_steps * model.n_envs / (totals["training step"] / updates)
    print(f"{args.timesteps / total:,.0f} steps/s; the training step alone: {training_rate:,.0f} samples/s")
    for label, seconds in totals.items():
        print(f"{label:24s} {seconds / updates * 1e6:8,.0f} us")


if __name__ == "__main__":
    main()
