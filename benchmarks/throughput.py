"""Training throughput of sb3_pg's A2C and REINFORCE beside SB3's A2C, on the same work.

Usage: python benchmarks/throughput.py [--envs CartPole-v1 LunarLander-v3 Pendulum-v1] [--n-envs 1 8]
                                       [--repetitions 5] [--out results/throughput.json]

For each env and number of envs, in one process, alternating the cases over ``--repetitions``
rounds: bare vec-env steps with random actions, the "act-only" ceiling (env + one SB3 policy
forward per step), SB3's A2C, sb3_pg's A2C (both with SB3's default A2C hyperparameters; also with
``exact_rollouts=True``, the torch rollout path that reproduces SB3's random stream) and sb3_pg's
REINFORCE (defaults). Prints median steps/s, min-max and the ratio of medians to SB3's
A2C; the median time per step outside the vec env's ``step`` (the framework's own time: where the
env's cost depends on the policy each case has learned, as in LunarLander, this compares the
algorithms on the same footing) and its ratio, SB3's A2C's over each case's; then the peak
resident memory of a training run of each algorithm, each in a fresh process. One torch thread
throughout.
"""

import argparse
import functools
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import stable_baselines3 as sb3
import torch as th
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv

from sb3_pg import A2C, Reinforce

ALGOS: dict[str, Callable[..., OnPolicyAlgorithm]] = {
    "sb3_a2c": sb3.A2C,
    "pg_a2c": A2C,
    "pg_a2c_exact": partial(A2C, exact_rollouts=True),  # SB3's random stream: torch rollouts
    "reinforce": Reinforce,
}
CASES = ["env_only", "act_only", *ALGOS]


def steps_per_repetition(n_envs: int) -> int:
    return 20_000 if n_envs > 1 else 4_000


# A measurement: (steps per second, microseconds per step outside the vec env's ``step``)
Measure = Callable[[], tuple[float, float]]


def time_method(owner: Any, name: str, totals: dict[str, float], label: str) -> None:
    """Wrap ``owner.name`` so that each call adds its duration (seconds) to ``totals[label]``."""
    method: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(method)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + time.perf_counter() - start

    setattr(owner, name, timed)


class EnvClock:
    """Adds up the time a vec env spends in ``step_wait`` (the envs' own steps and resets)."""

    def __init__(self, env: VecEnv):
        self.totals: dict[str, float] = {"env": 0.0}
        time_method(env, "step_wait", self.totals, "env")

    def measure(self, run: Callable[[], int]) -> tuple[float, float]:
        """:return: steps/s and microseconds per step outside the env, of ``run`` (which returns its steps)"""
        env_before, start = self.totals["env"], time.perf_counter()
        steps = run()
        elapsed = time.perf_counter() - start
        return steps / elapsed, (elapsed - (self.totals["env"] - env_before)) / steps * 1e6


def env_only(env_id: str, n_envs: int, n_steps: int) -> Measure:
    env = make_vec_env(env_id, n_envs=n_envs, seed=0)
    clock = EnvClock(env)
    env.reset()
    env.action_space.seed(0)
    actions = np.stack([env.action_space.sample() for _ in range(256)])

    def run() -> int:
        for i in range(n_steps // n_envs):
            env.step(np.stack([actions[(i + k) % 256] for k in range(n_envs)]))
        return n_steps

    return lambda: clock.measure(run)


def act_only(env_id: str, n_envs: int, n_steps: int) -> Measure:
    env = make_vec_env(env_id, n_envs=n_envs, seed=0)
    clock = EnvClock(env)
    policy = sb3.A2C("MlpPolicy", env, seed=0).policy
    obs = env.reset()

    def run() -> int:
        nonlocal obs
        for _ in range(n_steps // n_envs):
            with th.no_grad():
                actions, _, _ = policy(obs_as_tensor(obs, policy.device))  # type: ignore[arg-type]
            clipped = actions.cpu().numpy()
            if isinstance(env.action_space, spaces.Box):
                clipped = np.clip(clipped, env.action_space.low, env.action_space.high)
            obs, _, _, _ = env.step(clipped)
        return n_steps

    return lambda: clock.measure(run)


def training(algo: str, env_id: str, n_envs: int, n_steps: int) -> Measure:
    env = make_vec_env(env_id, n_envs=n_envs, seed=0)
    clock = EnvClock(env)
    model = ALGOS[algo]("MlpPolicy", env, seed=0)
    model.learn(min(n_steps, 2_000))  # warm up

    def run() -> int:
        before = model.num_timesteps
        model.learn(n_steps, reset_num_timesteps=False)
        return model.num_timesteps - before

    return lambda: clock.measure(run)


def peak_memory_mb(algo: str, env_id: str, n_envs: int, n_steps: int) -> float:
    """
    Peak resident memory of a fresh process that trains ``algo`` for ``n_steps``: the process's own
    high-water mark, ``VmHWM`` in ``/proc/self/status``. (Not ``getrusage``'s ``ru_maxrss``: Linux
    carries the parent's peak over into a child across ``exec``, so every child would report this
    benchmark process's peak.)
    """
    code = (
        "import torch as th; th.set_num_threads(1);"
        "from benchmarks.throughput import ALGOS; from stable_baselines3.common.env_util import make_vec_env;"
        f"ALGOS[{algo!r}]('MlpPolicy', make_vec_env({env_id!r}, n_envs={n_envs}, seed=0), seed=0).learn({n_steps});"
        "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent
    )
    return int(out.stdout.split()[-1]) / 1024  # kB


def run(env_id: str, n_envs: int, repetitions: int) -> dict[str, Any]:
    n_steps = steps_per_repetition(n_envs)
    measures: dict[str, Measure] = {
        "env_only": env_only(env_id, n_envs, n_steps),
        "act_only": act_only(env_id, n_envs, n_steps),
        **{algo: training(algo, env_id, n_envs, n_steps) for algo in ALGOS},
    }
    rates: dict[str, list[float]] = {case: [] for case in CASES}
    framework_us: dict[str, list[float]] = {case: [] for case in CASES}
    for _ in range(repetitions):
        for case in CASES:  # alternate the cases in every round
            rate, outside_env = measures[case]()
            rates[case].append(rate)
            framework_us[case].append(outside_env)
    memory = {algo: peak_memory_mb(algo, env_id, n_envs, 2 * n_steps) for algo in ALGOS}
    return {
        "env": env_id,
        "n_envs": n_envs,
        "steps_per_repetition": n_steps,
        "rates": rates,
        "framework_us_per_step": framework_us,
        "peak_memory_mb": memory,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| env | n_envs | case | median steps/s | min-max | ratio to sb3_a2c "
        "| us/step outside the env | sb3_a2c's over this | peak memory MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        reference = statistics.median(result["rates"]["sb3_a2c"])
        reference_us = statistics.median(result["framework_us_per_step"]["sb3_a2c"])
        for case in CASES:
            values = result["rates"][case]
            median = statistics.median(values)
            outside_env = statistics.median(result["framework_us_per_step"][case])
            memory = result["peak_memory_mb"].get(case)
            lines.append(
                f"| {result['env']} | {result['n_envs']} | {case} | {median:,.0f} | {min(values):,.0f}-{max(values):,.0f} "
                f"| {median / reference:.2f}x | {outside_env:,.1f} | {reference_us / outside_env:.2f}x "
                f"| {'' if memory is None else f'{memory:.0f}'} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=["CartPole-v1", "LunarLander-v3", "Pendulum-v1"])
    parser.add_argument("--n-envs", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("results/throughput.json"))
    args = parser.parse_args()
    th.set_num_threads(1)
    results = []
    for env_id in args.envs:
        for n_envs in args.n_envs:
            results.append(run(env_id, n_envs, args.repetitions))
            print(table(results[-1:]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{table(results)}\n\npeak RSS of this benchmark process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
