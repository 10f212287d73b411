"""How much weight REINFORCE's batches carry: Kish's effective sample size of each update's importance
weights (``train/importance_ess``, as a fraction of the batch's episodes) and the fraction of env
steps trained on (``rollout/trained_fraction``), for both ``stale_episodes`` settings, at the
``zoo_configs/reinforce.yml`` entries and at ``Reinforce``'s defaults with 1 to 64 envs.

Each setting trains once (seed 0) for a fixed budget; one CSV row per setting and ``stale_episodes``,
written as each finishes (a rerun skips the rows already there), and a Markdown table of them.

Usage: python benchmarks/importance_ess.py [--out benchmarks/results/importance_ess]
           [--classic-timesteps 100000] [--mujoco-timesteps 200000] [--only ENV ...]
"""

import argparse
import csv
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback

from sb3_pg import Reinforce
from sb3_pg.experiment import make_envs, run_config

CLASSIC = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", "LunarLander-v3", "MountainCarContinuous-v0"]
MUJOCO = ["HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Swimmer-v5", "Ant-v5"]
DEFAULTS_ENVS = ["CartPole-v1", "Pendulum-v1", "Hopper-v5"]
DEFAULTS_N_ENVS = [1, 4, 16, 64]
MODES = ("drop", "importance")
COLUMNS = [
    "env",
    "setting",
    "n_envs",
    "n_episodes",
    "stale_episodes",
    "timesteps",
    "updates",
    "min_ess",
    "p10_ess",
    "median_ess",
    "updates_below_half",
    "trained_fraction",
]


@dataclass
class Setting:
    env_id: str
    label: str  # "entry" or "defaults"
    n_envs: int
    timesteps: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    normalize: dict[str, Any] | None = None


class RecordEss(BaseCallback):
    """Reads each update's ``train/importance_ess`` (logged by ``train``, read at the next rollout's start)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []

    def read(self) -> None:
        value = self.model.logger.name_to_value.get("train/importance_ess")
        if value is not None:
            self.values.append(float(value))
            del self.model.logger.name_to_value["train/importance_ess"]

    def _on_rollout_start(self) -> None:
        self.read()

    def _on_step(self) -> bool:
        return True


def settings(classic_timesteps: int, mujoco_timesteps: int, only: list[str] | None) -> list[Setting]:
    out = []
    for env_id in CLASSIC + MUJOCO:
        budget = mujoco_timesteps if env_id in MUJOCO else classic_timesteps
        config = run_config("reinforce", env_id, "tuned")
        kwargs = {k: v for k, v in config.kwargs.items() if k != "stale_episodes"}
        out.append(Setting(env_id, "entry", config.n_envs, min(budget, config.n_timesteps), kwargs, config.normalize))
    for env_id in DEFAULTS_ENVS:
        budget = mujoco_timesteps if env_id in MUJOCO else classic_timesteps
        out += [Setting(env_id, "defaults", n_envs, budget) for n_envs in DEFAULTS_N_ENVS]
    return [s for s in out if not only or s.env_id in only]


def measure(setting: Setting, stale_episodes: str) -> dict[str, Any]:
    config = run_config("reinforce", setting.env_id)
    env, eval_env = make_envs(setting.env_id, setting.n_envs, 0, setting.normalize, config.gamma)
    eval_env.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Reinforce("MlpPolicy", env, seed=0, device="cpu", stale_episodes=stale_episodes, **setting.kwargs)
        recorder = RecordEss()
        model.learn(setting.timesteps, callback=recorder)
    recorder.read()
    env.close()
    ess = np.array(recorder.values)
    return {
        "env": setting.env_id,
        "setting": setting.label,
        "n_envs": setting.n_envs,
        "n_episodes": model.n_episodes,
        "stale_episodes": stale_episodes,
        "timesteps": model.num_timesteps,
        "updates": len(ess),
        "min_ess": round(float(ess.min()), 4) if len(ess) else math.nan,
        "p10_ess": round(float(np.quantile(ess, 0.1)), 4) if len(ess) else math.nan,
        "median_ess": round(float(np.median(ess)), 4) if len(ess) else math.nan,
        "updates_below_half": int((ess < 0.5).sum()),
        "trained_fraction": round(model.trained_steps / model.num_timesteps, 4),
    }


def markdown(rows: list[dict[str, str]]) -> str:
    lines = [
        "| env | setting | n_envs | n_episodes | stale_episodes | updates | min ESS | 10% ESS | median ESS"
        " | updates with ESS < 0.5 | trained fraction |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['env']} | {r['setting']} | {r['n_envs']} | {r['n_episodes']} | {r['stale_episodes']} | {r['updates']}"
            f" | {float(r['min_ess']):.3f} | {float(r['p10_ess']):.3f} | {float(r['median_ess']):.3f}"
            f" | {r['updates_below_half']} | {float(r['trained_fraction']):.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/importance_ess"))
    parser.add_argument("--classic-timesteps", type=int, default=100_000)
    parser.add_argument("--mujoco-timesteps", type=int, default=200_000)
    parser.add_argument("--only", nargs="+", default=None, metavar="ENV_ID", help="only these envs")
    args = parser.parse_args()
    th.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "importance_ess.csv"
    done: set[tuple[str, str, str, str]] = set()
    if path.exists():
        with path.open() as file:
            done = {(r["env"], r["setting"], r["n_envs"], r["stale_episodes"]) for r in csv.DictReader(file)}
    else:
        with path.open("w", newline="") as file:
            csv.DictWriter(file, COLUMNS).writeheader()
    for setting in settings(args.classic_timesteps, args.mujoco_timesteps, args.only):
        for mode in MODES:
            if (setting.env_id, setting.label, str(setting.n_envs), mode) in done:
                continue
            row = measure(setting, mode)
            print(row, flush=True)
            with path.open("a", newline="") as file:
                csv.DictWriter(file, COLUMNS).writerow(row)
    with path.open() as file:
        rows = list(csv.DictReader(file))
    (args.out / "importance_ess.md").write_text(markdown(rows))
    print(f"table: {args.out / 'importance_ess.md'}")


if __name__ == "__main__":
    main()
