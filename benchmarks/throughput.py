"""Training throughput of sb3_pg's A2C and REINFORCE beside SB3's A2C, on the same work.

Usage: python benchmarks/throughput.py [--envs CartPole-v1 LunarLander-v3 Pendulum-v1] [--n-envs 1 8]
                                       [--vec-envs dummy] [--repetitions 5] [--out benchmarks/results/throughput.json]

Native vector envs at scale: --envs CartPole-v1 --n-envs 8 64 256 1024 --vec-envs dummy gymnasium-native;
EnvPool's MuJoCo: --envs HalfCheetah-v5 --n-envs 8 64 --vec-envs dummy envpool.

For each env, number of envs and ``VecEnv`` kind (``sb3_pg.vec_envs.make_vec_env_of``), in one
process, alternating the cases (of every kind) over ``--repetitions`` rounds: bare vec-env steps
with random actions, the "act-only" ceiling (env + one SB3 policy forward per step), SB3's A2C,
sb3_pg's A2C (both with SB3's default A2C hyperparameters; also with ``exact_rollouts=True``, the
torch rollout path that reproduces SB3's random stream) and sb3_pg's REINFORCE (defaults). Prints
median steps/s, min-max and the ratio of medians to SB3's A2C (on ``dummy`` at the same number of
envs, where it was measured); the median time per step outside the vec env's ``step`` (the
framework's own time: where the env's cost depends on the policy each case has learned, as in
LunarLander, this compares the algorithms on the same footing) and its ratio, SB3's A2C's over
each case's; the peak resident memory of a training run of each algorithm, each in a fresh
process; and each env's goals: ``pg_a2c`` on every native kind against SB3's A2C at its best on
``dummy``, and against the kind's own random-action rate. One torch thread throughout. Results are
written to ``--out`` as each number of envs finishes.
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
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv

from sb3_pg import A2C, Reinforce
from sb3_pg.vec_envs import VEC_ENV_KINDS, check_vec_env, make_vec_env_of

ALGOS: dict[str, Callable[..., OnPolicyAlgorithm]] = {
    "sb3_a2c": sb3.A2C,
    "pg_a2c": A2C,
    "pg_a2c_exact": partial(A2C, exact_rollouts=True),  # SB3's random stream: torch rollouts
    "reinforce": Reinforce,
}
CASES = ["env_only", "act_only", *ALGOS]


def steps_per_repetition(n_envs: int) -> int:
    return max(20_000, 100 * n_envs) if n_envs > 1 else 4_000


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


def env_only(env_id: str, n_envs: int, n_steps: int, kind: str = "dummy") -> Measure:
    env = make_vec_env_of(kind, env_id, n_envs, seed=0)
    clock = EnvClock(env)
    env.reset()
    env.action_space.seed(0)
    cycle = 16  # steps of random actions drawn beforehand, used in turn
    actions = np.stack([env.action_space.sample() for _ in range(cycle * n_envs)])

    def run() -> int:
        for i in range(n_steps // n_envs):
            start = (i % cycle) * n_envs
            env.step(actions[start : start + n_envs])
        return n_steps

    return lambda: clock.measure(run)


def act_only(env_id: str, n_envs: int, n_steps: int, kind: str = "dummy") -> Measure:
    env = make_vec_env_of(kind, env_id, n_envs, seed=0)
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


def training(algo: str, env_id: str, n_envs: int, n_steps: int, kind: str = "dummy") -> Measure:
    env = make_vec_env_of(kind, env_id, n_envs, seed=0)
    clock = EnvClock(env)
    model = ALGOS[algo]("MlpPolicy", env, seed=0)
    model.learn(min(n_steps, 2_000))  # warm up

    def run() -> int:
        before = model.num_timesteps
        model.learn(n_steps, reset_num_timesteps=False)
        return model.num_timesteps - before

    return lambda: clock.measure(run)


def peak_memory_mb(algo: str, env_id: str, n_envs: int, n_steps: int, kind: str = "dummy") -> float:
    """
    Peak resident memory of a fresh process that trains ``algo`` for ``n_steps``: the process's own
    high-water mark, ``VmHWM`` in ``/proc/self/status``. (Not ``getrusage``'s ``ru_maxrss``: Linux
    carries the parent's peak over into a child across ``exec``, so every child would report this
    benchmark process's peak.)
    """
    code = (
        "import torch as th; th.set_num_threads(1);"
        "from benchmarks.throughput import ALGOS; from sb3_pg.vec_envs import make_vec_env_of;"
        f"env = make_vec_env_of({kind!r}, {env_id!r}, {n_envs}, seed=0);"
        f"ALGOS[{algo!r}]('MlpPolicy', env, seed=0).learn({n_steps});"
        "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent
    )
    return int(out.stdout.split()[-1]) / 1024  # kB


def run(env_id: str, n_envs: int, repetitions: int, kinds: tuple[str, ...] = ("dummy",)) -> list[dict[str, Any]]:
    """One result per VecEnv kind; the cases of every kind alternate in each round."""
    n_steps = steps_per_repetition(n_envs)
    measures: dict[tuple[str, str], Measure] = {}
    for kind in kinds:
        measures[kind, "env_only"] = env_only(env_id, n_envs, n_steps, kind)
        measures[kind, "act_only"] = act_only(env_id, n_envs, n_steps, kind)
        for algo in ALGOS:
            measures[kind, algo] = training(algo, env_id, n_envs, n_steps, kind)
    rates: dict[tuple[str, str], list[float]] = {key: [] for key in measures}
    framework_us: dict[tuple[str, str], list[float]] = {key: [] for key in measures}
    for _ in range(repetitions):
        for key, measure in measures.items():  # alternate the cases in every round
            rate, outside_env = measure()
            rates[key].append(rate)
            framework_us[key].append(outside_env)
    return [
        {
            "env": env_id,
            "n_envs": n_envs,
            "vec_env": kind,
            "steps_per_repetition": n_steps,
            "rates": {case: rates[kind, case] for case in CASES},
            "framework_us_per_step": {case: framework_us[kind, case] for case in CASES},
            "peak_memory_mb": {algo: peak_memory_mb(algo, env_id, n_envs, 2 * n_steps, kind) for algo in ALGOS},
        }
        for kind in kinds
    ]


def _reference(results: list[dict[str, Any]], result: dict[str, Any], key: str) -> float:
    """SB3's A2C's median for ``result``'s env and number of envs: on ``dummy`` where it was measured."""
    same = [r for r in results if r["env"] == result["env"] and r["n_envs"] == result["n_envs"]]
    reference = next((r for r in same if r["vec_env"] == "dummy"), result)
    return statistics.median(reference[key]["sb3_a2c"])


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| env | n_envs | VecEnv | case | median steps/s | min-max | ratio to sb3_a2c on dummy "
        "| us/step outside the env | sb3_a2c's over this | peak memory MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        reference = _reference(results, result, "rates")
        reference_us = _reference(results, result, "framework_us_per_step")
        for case in CASES:
            values = result["rates"][case]
            median = statistics.median(values)
            outside_env = statistics.median(result["framework_us_per_step"][case])
            memory = result["peak_memory_mb"].get(case)
            lines.append(
                f"| {result['env']} | {result['n_envs']} | {result['vec_env']} | {case} | {median:,.0f} "
                f"| {min(values):,.0f}-{max(values):,.0f} | {median / reference:.2f}x | {outside_env:,.1f} "
                f"| {reference_us / outside_env:.2f}x | {'' if memory is None else f'{memory:.0f}'} |"
            )
    return "\n".join(lines)


def goals(results: list[dict[str, Any]]) -> str:
    """Per env: SB3's A2C at its best on ``dummy`` over the numbers of envs measured, and ``pg_a2c``
    on every other kind against it, against that kind's own random-action rate, and against
    ``pg_a2c`` on ``dummy`` with the same number of envs."""
    lines = []
    for env_id in dict.fromkeys(r["env"] for r in results):
        dummy = {r["n_envs"]: r for r in results if r["env"] == env_id and r["vec_env"] == "dummy"}
        if not dummy:
            continue
        best = max(dummy.values(), key=lambda r: statistics.median(r["rates"]["sb3_a2c"]))
        best_rate = statistics.median(best["rates"]["sb3_a2c"])
        lines.append(f"{env_id}: SB3's A2C at its best on dummy: {best_rate:,.0f} steps/s ({best['n_envs']} envs)")
        for r in results:
            if r["env"] != env_id or r["vec_env"] == "dummy":
                continue
            ours, native = statistics.median(r["rates"]["pg_a2c"]), statistics.median(r["rates"]["env_only"])
            line = (
                f"  pg_a2c on {r['vec_env']} x{r['n_envs']}: {ours:,.0f} steps/s = {ours / best_rate:.2f}x that,"
                f" {ours / native:.0%} of the env's own random-action rate ({native:,.0f})"
            )
            if r["n_envs"] in dummy:
                line += f", {ours / statistics.median(dummy[r['n_envs']]['rates']['pg_a2c']):.2f}x pg_a2c on dummy"
            lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=["CartPole-v1", "LunarLander-v3", "Pendulum-v1"])
    parser.add_argument("--n-envs", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--vec-envs", nargs="+", choices=VEC_ENV_KINDS, default=["dummy"])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/throughput.json"))
    args = parser.parse_args()
    if args.out.exists():
        parser.error(f"argument --out: {str(args.out)!r} exists; choose a new path")
    for env_id in args.envs:
        for kind in args.vec_envs:
            try:
                check_vec_env("--vec-envs", kind, env_id)
            except ValueError as error:
                parser.error(str(error))
    th.set_num_threads(1)
    results: list[dict[str, Any]] = []
    for env_id in args.envs:
        for n_envs in args.n_envs:
            results += run(env_id, n_envs, args.repetitions, tuple(args.vec_envs))
            print(table(results[-len(args.vec_envs) :]), flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=1))  # the results so far
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{table(results)}\n\n{goals(results)}\n\npeak RSS of this benchmark process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
