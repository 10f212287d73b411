"""Wall-clock time to solve CartPole-v1: ``pg_a2c`` with many envs on the native vector env
(``gymnasium-native``: 64 envs with its tuned entry, 256 with SB3's defaults and a larger learning
rate), against SB3's A2C with RL Zoo's entry (8 ``DummyVecEnv`` envs, ``ent_coef: 0.0``, SB3's
defaults otherwise).

Usage: python benchmarks/solve_time.py [--seeds 0 1 2] [--cases sb3_a2c pg_a2c_native_64 pg_a2c_native_256]
                                       [--timesteps 500000] [--eval-freq 10000] [--out benchmarks/results/solve-time.json]

Each run trains for ``--timesteps`` (RL Zoo's CartPole-v1 budget) with a deterministic evaluation
(10 episodes, a separate ``DummyVecEnv``) every ``--eval-freq`` env steps. The clock runs while the
algorithm trains and stops during evaluations, which cost the same for both. "Solved" is the first
evaluation from which every later one stays at or above 475 (``sb3_pg.compare.stats.
steps_to_threshold``); the time to solve is the training time up to that evaluation. A run that
does not hold 475 to the end has no time. One torch thread; the runs alternate the cases.
"""

import argparse
import copy
import json
import statistics
import time
from pathlib import Path
from typing import Any

import stable_baselines3 as sb3
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv

from sb3_pg import A2C
from sb3_pg.compare.stats import steps_to_threshold
from sb3_pg.configs import config_path, load_config, model_kwargs
from sb3_pg.vec_envs import make_vec_env_of

THRESHOLD = 475.0
ENV_ID = "CartPole-v1"
# Each case: (algorithm, VecEnv kind, n_envs, hyperparameters)
CASES: dict[str, tuple[type[BaseAlgorithm], str, int, dict[str, Any]]] = {
    # RL Zoo's a2c.yml CartPole-v1 entry
    "sb3_a2c": (sb3.A2C, "dummy", 8, {"ent_coef": 0.0}),
    # zoo_configs/pg_a2c.yml's CartPole-v1 entry, with 64 envs (it was tuned with 8)
    "pg_a2c_native_64": (A2C, "gymnasium-native", 64, model_kwargs(load_config(config_path("pg_a2c"))[ENV_ID])),
    # SB3's A2C defaults (as RL Zoo's entry: ent_coef 0) with 256 envs, and a learning rate for the
    # 256 x 5 = 1280-step batches
    "pg_a2c_native_256": (A2C, "gymnasium-native", 256, {"ent_coef": 0.0, "learning_rate": 5e-3}),
}


class TimedEvaluations(BaseCallback):
    """Evaluate every ``eval_freq`` env steps, with the training clock stopped meanwhile."""

    def __init__(self, eval_env: VecEnv, eval_freq: int):
        super().__init__()
        self.eval_env, self.eval_freq = eval_env, eval_freq
        self.next_evaluation = eval_freq
        self.training_seconds = 0.0
        self.records: list[dict[str, float]] = []
        self._resumed = 0.0

    def _on_training_start(self) -> None:
        self._resumed = time.perf_counter()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_evaluation:
            self.training_seconds += time.perf_counter() - self._resumed
            mean, _ = evaluate_policy(self.model, self.eval_env, n_eval_episodes=10, deterministic=True, warn=False)
            self.records.append({"steps": self.num_timesteps, "seconds": self.training_seconds, "mean": float(mean)})  # type: ignore[arg-type]
            self.next_evaluation += self.eval_freq
            self._resumed = time.perf_counter()
        return True


def run(case: str, seed: int, timesteps: int, eval_freq: int) -> dict[str, Any]:
    algo, kind, n_envs, kwargs = CASES[case]
    env = make_vec_env_of(kind, ENV_ID, n_envs, seed)
    callback = TimedEvaluations(make_vec_env(ENV_ID, n_envs=1, seed=10_000 + seed), eval_freq)
    model = algo("MlpPolicy", env, seed=seed, **copy.deepcopy(kwargs))  # SB3's A2C adds to policy_kwargs
    model.learn(timesteps, callback=callback)
    records = callback.records
    solved_steps = steps_to_threshold([int(r["steps"]) for r in records], [r["mean"] for r in records], THRESHOLD)
    solved_seconds = next((r["seconds"] for r in records if r["steps"] == solved_steps), None)
    env.close()
    return {
        "case": case,
        "seed": seed,
        "vec_env": kind,
        "n_envs": n_envs,
        "hyperparameters": kwargs,
        "solved_steps": None if solved_seconds is None else int(solved_steps),
        "solved_seconds": solved_seconds,
        "training_seconds": callback.training_seconds,
        "final_mean": records[-1]["mean"] if records else None,
        "evaluations": records,
    }


def summary(results: list[dict[str, Any]]) -> str:
    lines = ["| case | VecEnv | n_envs | runs solved | median seconds to solve | per seed | median steps to solve |"]
    lines.append("|---|---|---|---|---|---|---|")
    for case in dict.fromkeys(r["case"] for r in results):
        runs = [r for r in results if r["case"] == case]
        solved = [r for r in runs if r["solved_seconds"] is not None]
        seconds = ", ".join("-" if r["solved_seconds"] is None else f"{r['solved_seconds']:.1f}" for r in runs)
        median_s = f"{statistics.median(r['solved_seconds'] for r in solved):.1f}" if solved else "-"
        median_steps = f"{statistics.median(r['solved_steps'] for r in solved):,.0f}" if solved else "-"
        lines.append(
            f"| {case} | {runs[0]['vec_env']} | {runs[0]['n_envs']} | {len(solved)}/{len(runs)} | {median_s} "
            f"| {seconds} | {median_steps} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--timesteps", type=int, default=500_000)
    parser.add_argument("--eval-freq", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/solve-time.json"))
    args = parser.parse_args()
    if args.out.exists():
        parser.error(f"argument --out: {str(args.out)!r} exists; choose a new path")
    th.set_num_threads(1)
    results = []
    for seed in args.seeds:
        for case in args.cases:  # alternate the cases
            results.append(run(case, seed, args.timesteps, args.eval_freq))
            print(summary(results[-1:]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"\n{summary(results)}")


if __name__ == "__main__":
    main()
