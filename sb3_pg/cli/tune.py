"""``sb3-pg tune``: an Optuna study over an algorithm's hyperparameters (:mod:`sb3_pg.tuning`; the
``extra`` extra). A named variant is tuned as its base algorithm with the variant's change fixed."""

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sb3_pg.cli.options import (
    TOOLS_MODULES,
    HelpFormatter,
    add_n_workers,
    add_progress_bar,
    add_timesteps,
    add_vec_env,
    key_value,
    positive_int,
    progress_bar_wanted,
    require_extra,
)
from sb3_pg.registry import VARIANTS, variants_help

INTERRUPTED = 130


@dataclass
class TuneCommand:
    """What ``sb3-pg tune`` runs: one field per option."""

    algo: str  #: algorithm or named variant
    env: str  #: Gymnasium env id
    n_trials: int = 20  #: the study's total of trials, across all workers
    timesteps: int = 30_000  #: training steps per seed and trial
    n_seeds: int = 1  #: seeds per trial
    n_evaluations: int = 5  #: evaluations per seed (pruning steps)
    eval_episodes: int = 5  #: deterministic episodes per evaluation
    n_envs: int | None = None  #: training envs (default: the search space's)
    sampler: str = "tpe"  #: Optuna sampler
    pruner: str = "median"  #: Optuna pruner
    storage: str | None = None  #: journal file or RDB URL (default: OUT/study.log)
    study_name: str | None = None  #: default: ALGO-ENV
    out: Path | None = None  #: output folder (default: tuning_runs/STUDY_NAME)
    seed: int = 0  #: first training seed, and the sampler's seed
    extra_params: list[str] = field(default_factory=list)  #: optional hyperparameters to search
    fixed: list[tuple[str, Any]] = field(default_factory=list)  #: arguments not searched
    enqueue: list[list[tuple[str, Any]]] = field(default_factory=list)  #: configurations to try first
    normalize: bool = False  #: VecNormalize observations and rewards
    vec_env: str = "dummy"  #: the training envs' VecEnv kind
    heartbeat_interval: int = 10  #: RDB storages: seconds between heartbeats
    no_warm_start: bool = False  #: do not try the known configurations first
    confirm: int = 0  #: held-out confirmation of the K best trials and the warm starts
    confirm_seeds: int = 5  #: held-out seeds per confirmed candidate
    n_workers: int = 1  #: processes on this machine
    progress_bar: bool | None = None  #: a progress bar (default: in a terminal)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "TuneCommand":
        return cls(**{name: getattr(args, name) for name in cls.__dataclass_fields__})


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    tune = commands.add_parser(
        "tune",
        help="tune an algorithm's hyperparameters with an Optuna study (the extra extra)",
        formatter_class=HelpFormatter,
    )
    tune.add_argument("--algo", choices=list(VARIANTS), required=True, help=f"the algorithm to tune: {variants_help()}")
    tune.add_argument("--env", required=True, help="Gymnasium env id")
    tune.add_argument("--n-trials", type=int, default=20, help="the study's total of trials, across all workers")
    add_timesteps(tune, "training steps per seed and trial", default=30_000)
    tune.add_argument("--n-seeds", type=positive_int, default=1, help="seeds per trial (the objective is their mean)")
    tune.add_argument("--n-evaluations", type=positive_int, default=5, help="evaluations per seed (pruning steps)")
    tune.add_argument("--eval-episodes", type=positive_int, default=5, help="deterministic episodes per evaluation")
    tune.add_argument("--n-envs", type=positive_int, default=None, help="training envs (default: reinforce 1, pg_a2c 8)")
    tune.add_argument("--sampler", choices=["tpe", "random"], default="tpe", help="Optuna sampler")
    tune.add_argument(
        "--pruner", choices=["median", "halving", "none"], default="median", help="Optuna pruner (halving: successive halving)"
    )
    tune.add_argument("--storage", default=None, help="postgresql://... for many machines; default: OUT/study.log")
    tune.add_argument("--study-name", default=None, help="default: ALGO-ENV")
    tune.add_argument("--out", type=Path, default=None, help="output folder (default: tuning_runs/STUDY_NAME)")
    tune.add_argument("--seed", type=int, default=0, help="first training seed, and the sampler's seed")
    tune.add_argument("--extra-params", nargs="+", default=[], metavar="NAME", help="optional hyperparameters to search")
    tune.add_argument("--fixed", nargs="+", type=key_value, default=[], metavar="KEY=VALUE", help="arguments not searched")
    tune.add_argument(
        "--enqueue",
        nargs="+",
        action="append",
        type=key_value,
        default=[],
        metavar="KEY=VALUE",
        help="a configuration of your own to try first, after the warm starts, and to confirm with them (values as "
        "--hyperparams; the others the algorithm's defaults); repeat the flag for more",
    )
    tune.add_argument("--normalize", action="store_true", help="VecNormalize observations and rewards (RL Zoo's normalize)")
    add_vec_env(tune)
    tune.add_argument("--heartbeat-interval", type=positive_int, default=10, help="RDB storages: seconds between heartbeats")
    tune.add_argument(
        "--no-warm-start",
        action="store_true",
        help="do not try the known configurations first (default: the algorithm's defaults and its RL Zoo entry for the env)",
    )
    tune.add_argument(
        "--confirm",
        type=int,
        default=0,
        metavar="K",
        help="after the study, re-run its K best trials and the warm starts on held-out seeds at the full budget; "
        "best.yml is the one with the best held-out IQM (default: 0, off)",
    )
    tune.add_argument("--confirm-seeds", type=positive_int, default=5, help="held-out seeds per confirmed candidate")
    add_n_workers(tune, "processes on this machine sharing the trials, then the confirmation runs (one per core)")
    add_progress_bar(tune)
    tune.set_defaults(run=run, command_parser=tune)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    require_extra("extra", *TOOLS_MODULES)
    from sb3_pg.tuning import SEARCH_SPACES, TuneSettings, tune

    command = TuneCommand.from_args(args)
    variant = VARIANTS[command.algo]
    settings = TuneSettings(
        algo=variant.base,
        env_id=command.env,
        n_timesteps=command.timesteps,
        n_seeds=command.n_seeds,
        n_evaluations=command.n_evaluations,
        eval_episodes=command.eval_episodes,
        n_envs=command.n_envs or SEARCH_SPACES[variant.base].n_envs,
        seed=command.seed,
        extra_params=list(command.extra_params),
        fixed={**variant.kwargs, **dict(command.fixed)},  # a named variant: its change is not searched
        normalize=command.normalize,
        vec_env=command.vec_env,
    )
    study_name = command.study_name or f"{command.algo}-{command.env}"
    out = command.out or Path("tuning_runs") / study_name
    try:
        tune(
            settings,
            n_trials=command.n_trials,
            out=out,
            storage=command.storage,
            study_name=study_name,
            sampler=command.sampler,
            pruner=command.pruner,
            progress_bar=progress_bar_wanted(command.progress_bar),
            heartbeat_interval=command.heartbeat_interval,
            warm_start=not command.no_warm_start,
            confirm_top=command.confirm,
            confirm_seeds=command.confirm_seeds,
            n_workers=command.n_workers,
            enqueue=[dict(config) for config in command.enqueue],
        )
    except ValueError as error:  # bad input, found before anything is created
        parser.error(str(error))
    except KeyboardInterrupt:
        storage = command.storage or out / "study.log"
        print(f"\ninterrupted: the finished trials are stored in {storage}; the same command resumes the study")
        return INTERRUPTED
    return 0
