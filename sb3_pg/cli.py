"""The ``sb3-pg`` command (also ``python -m sb3_pg``).

``sb3-pg train``: train one of sb3_pg's algorithms (or a named variant) on a Gymnasium env,
evaluate it deterministically on a separate env and print the mean return.
``sb3-pg tune``: an Optuna study over an algorithm's hyperparameters (see ``tuning/``).
``sb3-pg zoo train|enjoy``: RL Zoo's commands with our algorithms (see ``sb3_pg/zoo.py``).
``sb3-pg compare``: a comparison with SB3's A2C (see ``sb3_pg/compare/``).
"""

import argparse
import sys
from pathlib import Path

import torch as th

from sb3_pg import __version__
from sb3_pg.cli_args import HelpFormatter, add_vec_env_argument, configure_command_process, key_value, positive_int
from sb3_pg.train import add_train_parser
from sb3_pg.zoo import OUR_ALGOS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sb3-pg", description="Policy-gradient algorithms for Stable-Baselines3.", formatter_class=HelpFormatter
    )
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True)
    add_train_parser(commands)
    add_tune_parser(commands)
    zoo = commands.add_parser(
        "zoo", add_help=False, help="RL Zoo's train/enjoy with our algorithms registered: sb3-pg zoo train --algo pg_a2c ..."
    )
    zoo.add_argument("zoo_args", nargs=argparse.REMAINDER)
    zoo.set_defaults(run=zoo_command, command_parser=zoo)
    from sb3_pg.compare.command import add_compare_parser

    add_compare_parser(commands)
    return parser


def version_text() -> str:
    """``sb3-pg --version``: ours, and the versions of what it runs on."""
    import stable_baselines3

    return f"sb3-pg {__version__} (stable-baselines3 {stable_baselines3.__version__}, torch {th.__version__})"


def zoo_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from sb3_pg.zoo import zoo_main

    return zoo_main(list(args.zoo_args))


def add_tune_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    tune = commands.add_parser(
        "tune", help="tune an algorithm's hyperparameters with an Optuna study", formatter_class=HelpFormatter
    )
    tune.add_argument("--algo", choices=list(OUR_ALGOS), required=True, help="the algorithm to tune")
    tune.add_argument("--env", required=True, help="Gymnasium env id")
    tune.add_argument("--n-trials", type=int, default=20, help="the study's total of trials, across all workers")
    tune.add_argument("--n-timesteps", type=positive_int, default=30_000, help="training steps per seed and trial")
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
    add_vec_env_argument(tune)
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
    tune.add_argument(
        "--n-workers",
        type=positive_int,
        default=1,
        help="processes on this machine sharing the trials, then the confirmation runs (one per core)",
    )
    tune.add_argument("--no-progress-bar", action="store_true", help="no progress bar (for logs)")
    tune.set_defaults(run=tune_command, command_parser=tune)


def tune_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from tuning import SEARCH_SPACES, TuneSettings, tune

    settings = TuneSettings(
        algo=args.algo,
        env_id=args.env,
        n_timesteps=args.n_timesteps,
        n_seeds=args.n_seeds,
        n_evaluations=args.n_evaluations,
        eval_episodes=args.eval_episodes,
        n_envs=args.n_envs or SEARCH_SPACES[args.algo].n_envs,
        seed=args.seed,
        extra_params=list(args.extra_params),
        fixed=dict(args.fixed),
        normalize=args.normalize,
        vec_env=args.vec_env,
    )
    study_name = args.study_name or f"{args.algo}-{args.env}"
    try:
        tune(
            settings,
            n_trials=args.n_trials,
            out=args.out or Path("tuning_runs") / study_name,
            storage=args.storage,
            study_name=study_name,
            sampler=args.sampler,
            pruner=args.pruner,
            progress_bar=not args.no_progress_bar,
            heartbeat_interval=args.heartbeat_interval,
            warm_start=not args.no_warm_start,
            confirm_top=args.confirm,
            confirm_seeds=args.confirm_seeds,
            n_workers=args.n_workers,
            enqueue=[dict(config) for config in args.enqueue],
        )
    except ValueError as error:  # bad input, found before anything is created
        parser.error(str(error))
    return 0


def main(argv: list[str] | None = None) -> int:
    configure_command_process()
    parser = build_parser()
    args = parser.parse_args(argv)
    # Errors found after parsing print the subcommand's usage, not the top-level one
    return int(args.run(args, args.command_parser))


if __name__ == "__main__":
    sys.exit(main())
