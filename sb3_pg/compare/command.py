"""The ``sb3-pg compare`` command."""

import argparse
import importlib.util
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.trial import TrialState
from tqdm.auto import tqdm

from sb3_pg.cli_args import (
    HelpFormatter,
    add_vec_env_argument,
    budget_or_rl_zoo,
    check_action_masks,
    check_env_id,
    configure_command_process,
    positive_int,
)
from sb3_pg.common.output_paths import check_writable_folder
from sb3_pg.compare.algos import ALGO_NAMES, MODES, RL_ZOO_BUDGET, rl_zoo_a2c_budget
from sb3_pg.compare.queue import (
    CompareSettings,
    Fingerprints,
    Run,
    enqueue_missing,
    grid_study_name,
    grid_trials,
    open_grid,
    run_of,
    run_worker,
)
from sb3_pg.compare.tianshou_runner import TIANSHOU_ALGOS, settings_for
from sb3_pg.variants import VARIANTS
from sb3_pg.vec_envs import check_vec_env
from tuning.storage import check_storage, is_rdb_url, open_storage, study_exists

if TYPE_CHECKING:  # the report module loads matplotlib: only when a report is written
    from sb3_pg.compare import report


def add_compare_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    compare = commands.add_parser(
        "compare", help="compare algorithms with SB3's A2C: report, curves, speed", formatter_class=HelpFormatter
    )
    compare.add_argument("--envs", nargs="+", default=["CartPole-v1"], metavar="ENV_ID", help="Gymnasium env ids")
    compare.add_argument(
        "--algos",
        nargs="+",
        default=["reinforce", "pg_a2c", "sb3_a2c"],
        metavar="ALGO",
        help=f"any of {', '.join(ALGO_NAMES)}",
    )
    compare.add_argument("--seeds", type=int, default=3, help="seeds per algorithm and env (S .. S+N-1, S: --first-seed)")
    compare.add_argument(
        "--first-seed", type=int, default=0, help="the first seed (a grid on held-out seeds: seeds never used for tuning)"
    )
    compare.add_argument(
        "--timesteps",
        type=budget_or_rl_zoo,
        default=None,
        help="env steps per run, or rl-zoo: each env at RL Zoo's A2C budget (its a2c.yml n_timesteps) for every"
        " algorithm (default: each config's own n_timesteps; 100k in equal mode)",
    )
    compare.add_argument(
        "--mode",
        choices=MODES,
        default="tuned",
        help="tuned: each algorithm's tuned RL Zoo entry; equal: the same shared hyperparameters (SB3's A2C defaults)",
    )
    add_vec_env_argument(compare)
    compare.add_argument("--eval-freq", type=positive_int, default=10_000, help="env steps between evaluations")
    compare.add_argument("--eval-episodes", type=positive_int, default=10, help="deterministic episodes per evaluation")
    compare.add_argument(
        "--storage", default=None, help="postgresql://... to share the runs between machines (default: OUT/runs.log)"
    )
    compare.add_argument("--out", type=Path, default=Path("compare_runs"), help="output folder: report, figures, results.csv")
    compare.add_argument("--n-workers", type=positive_int, default=1, help="worker processes on this machine")
    compare.add_argument("--no-progress-bar", action="store_true", help="no progress bar (for logs)")
    compare.add_argument(
        "--report-only",
        action="store_true",
        help="write the report of the grid's finished runs in the store, without queueing or training any"
        " (for runs still under way, or a grid whose cells ran with different --seeds)",
    )
    compare.set_defaults(run=compare_command, command_parser=compare)


def validate(args: argparse.Namespace) -> None:
    """Bad input: a ValueError naming the argument, before anything is created."""
    unknown = [algo for algo in args.algos if algo not in ALGO_NAMES]
    if unknown:
        raise ValueError(f"argument --algos: unknown {unknown}; choose from {', '.join(ALGO_NAMES)}")
    peers = [algo for algo in args.algos if algo in TIANSHOU_ALGOS]
    if peers and importlib.util.find_spec("tianshou") is None:
        raise ValueError(
            f'argument --algos: {", ".join(peers)} need Tianshou: pip install "sb3-pg[tianshou]" '
            '(in a clone: pip install -e ".[tianshou]")'
        )
    for env_id in args.envs:
        check_env_id("--envs", env_id)
        if args.timesteps == RL_ZOO_BUDGET:
            rl_zoo_a2c_budget(env_id)
        check_vec_env("--vec-env", args.vec_env, env_id)
        for algo in args.algos:
            if algo in VARIANTS:
                check_action_masks("--envs", env_id, algo, VARIANTS[algo].algo)
            elif algo in TIANSHOU_ALGOS:
                settings_for(algo, env_id)
    if args.seeds < 1:
        raise ValueError(f"argument --seeds: must be >= 1; got {args.seeds}")
    check_writable_folder("--out", args.out)
    if args.storage:
        check_storage(args.storage)
    if args.report_only:
        store = args.storage or str(args.out / "runs.log")
        if not is_rdb_url(store) and not Path(store).expanduser().is_file():
            raise ValueError(f"argument --report-only: no store of runs at {store}; give the --storage (or --out) they used")


def _worker_process(storage: str, settings: CompareSettings) -> None:
    configure_command_process()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    run_worker(open_grid(storage, settings), settings)


def _grid_runs(study: optuna.Study, fingerprints: Fingerprints, wanted: set[Run]) -> "list[report.Run]":
    """The stored runs of the grid with their current set-ups (any state)."""
    from sb3_pg.compare import report

    return [r for r in report.collect(grid_trials(study, fingerprints)) if (r.algo, r.env_id, r.seed) in wanted]


def _write_report(runs: "list[report.Run]", settings: CompareSettings, args: argparse.Namespace) -> None:
    """Write the report of ``runs`` to ``--out`` and print its summary and where it is."""
    from sb3_pg.compare import report

    path = report.write_report(runs, args.algos, args.envs, settings, args.out)
    print(report.summary(runs, args.algos, args.envs))
    print(f"report: {path}; figures and results.csv in {args.out}{os.sep}")


def _report_only(study: optuna.Study, settings: CompareSettings, wanted: set[Run], args: argparse.Namespace) -> int:
    """The report of the grid's finished runs (those with its current set-ups); nothing queued or trained."""
    found = _grid_runs(study, Fingerprints(settings), wanted)
    runs = [r for r in found if r.state in ("complete", "failed")]
    print(
        f"{len(wanted)} runs: {len(runs)} finished, {len(found) - len(runs)} queued or running,"
        f" {len(wanted) - len(found)} not queued with the current set-ups; the report has the finished ones"
    )
    _write_report(runs, settings, args)
    return 0


def compare_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        validate(args)
    except ValueError as error:
        parser.error(str(error))
    settings = CompareSettings(args.mode, args.timesteps, args.eval_freq, args.eval_episodes, args.vec_env)
    storage = args.storage or str(args.out / "runs.log")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    grid = [(algo, env_id, seed) for env_id in args.envs for algo in args.algos for seed in seeds]
    wanted = set(grid)
    if args.report_only:
        if not study_exists(open_storage(storage), grid_study_name(settings)):
            parser.error(f"argument --report-only: {storage} holds no runs with these settings ({grid_study_name(settings)})")
        return _report_only(open_grid(storage, settings), settings, wanted, args)
    study = open_grid(storage, settings)
    fingerprints = Fingerprints(settings)
    queued = enqueue_missing(study, grid, fingerprints)
    states = [t.state for t in grid_trials(study, fingerprints) if run_of(t) in wanted]
    done = states.count(TrialState.COMPLETE)
    print(
        f"{len(grid)} runs: {done} done, {len(grid) - done - queued} queued before or running, {queued} queued now ({storage})"
    )

    helpers = [
        multiprocessing.get_context("spawn").Process(target=_worker_process, args=(storage, settings))
        for _ in range(args.n_workers - 1)
    ]
    for helper in helpers:
        helper.start()
    with tqdm(total=len(grid), desc="runs", unit="run", disable=args.no_progress_bar) as bar:

        def show() -> None:
            finished = [t for t in grid_trials(study, fingerprints) if run_of(t) in wanted]
            bar.n = sum(t.state.is_finished() for t in finished)
            bar.refresh()

        show()
        run_worker(study, settings, on_run_end=show)
        # Wait for the runs other workers still have
        while any(t.state == TrialState.RUNNING for t in grid_trials(study, fingerprints)) and helpers:
            time.sleep(1.0)
            show()
        for helper in helpers:
            helper.join()
        show()

    runs = _grid_runs(study, fingerprints, wanted)
    _write_report(runs, settings, args)
    failed = [r for r in runs if r.state == "failed"]
    if failed:
        # A script or CI must be able to tell: exit status 1 (the report lists each failure)
        print(f"{len(failed)} of {len(runs)} runs failed (see the report)", file=sys.stderr)
        return 1
    return 0
