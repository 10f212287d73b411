"""``sb3-pg compare``: our algorithms beside SB3's and Tianshou's on the same envs, seeds, budget and
evaluation; runs stored as they finish, a report of the grid (:mod:`sb3_pg.compare`; the ``extra``
extra, and the ``tianshou`` extra for Tianshou's algorithms)."""

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sb3_pg.cli.options import (
    RL_ZOO_BUDGET,
    TOOLS_MODULES,
    HelpFormatter,
    add_eval_episodes,
    add_n_workers,
    add_progress_bar,
    add_timesteps,
    add_vec_env,
    positive_int,
    progress_bar_wanted,
    require_extra,
)
from sb3_pg.common.output_paths import check_writable_folder
from sb3_pg.common.process import configure_process
from sb3_pg.configs import check_env_wrapper, rl_zoo_a2c_budget
from sb3_pg.envs import check_action_masks, check_env_id
from sb3_pg.experiment import MODES, run_config
from sb3_pg.registry import COMPARE_NAMES, PEERS, VARIANTS
from sb3_pg.vec_envs import check_vec_env

INTERRUPTED = 130

if TYPE_CHECKING:  # the tools' modules: imported once the extra is known to be there
    import optuna

    from sb3_pg.compare import report
    from sb3_pg.compare.queue import CompareSettings, Fingerprints, Run


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    compare = commands.add_parser(
        "compare", help="compare algorithms with SB3's A2C: report, curves, speed", formatter_class=HelpFormatter
    )
    compare.add_argument("--envs", nargs="+", default=["CartPole-v1"], metavar="ENV_ID", help="Gymnasium env ids")
    compare.add_argument(
        "--algos",
        nargs="+",
        default=["reinforce", "pg_a2c", "sb3_a2c"],
        metavar="ALGO",
        help=f"any of {', '.join(COMPARE_NAMES)}",
    )
    compare.add_argument("--seeds", type=int, default=3, help="seeds per algorithm and env (S .. S+N-1, S: --first-seed)")
    compare.add_argument(
        "--first-seed", type=int, default=0, help="the first seed (a grid on held-out seeds: seeds never used for tuning)"
    )
    add_timesteps(
        compare,
        "env steps per run, or rl-zoo: each env at RL Zoo's A2C budget (its a2c.yml n_timesteps) for every"
        " algorithm (default: each config's own n_timesteps; 100k in equal mode)",
        rl_zoo=True,
    )
    compare.add_argument(
        "--mode",
        choices=MODES,
        default="tuned",
        help="tuned: each algorithm's tuned RL Zoo entry; equal: the same shared hyperparameters (SB3's A2C defaults)",
    )
    add_vec_env(compare)
    compare.add_argument("--eval-freq", type=positive_int, default=10_000, help="env steps between evaluations")
    add_eval_episodes(compare, 10)
    compare.add_argument(
        "--storage", default=None, help="postgresql://... to share the runs between machines (default: OUT/runs.log)"
    )
    compare.add_argument("--out", type=Path, default=Path("compare_runs"), help="output folder: report, figures, results.csv")
    add_n_workers(compare, "worker processes on this machine")
    add_progress_bar(compare)
    compare.add_argument(
        "--report-only",
        action="store_true",
        help="write the report of the grid's finished runs in the store, without queueing or training any"
        " (for runs still under way, or a grid whose cells ran with different --seeds)",
    )
    compare.set_defaults(run=run, command_parser=compare)


def validate(args: argparse.Namespace) -> None:
    """Bad input: a ValueError naming the argument, before anything is created."""
    unknown = [algo for algo in args.algos if algo not in COMPARE_NAMES]
    if unknown:
        raise ValueError(f"argument --algos: unknown {unknown}; choose from {', '.join(COMPARE_NAMES)}")
    if any(algo in PEERS and PEERS[algo].library == "tianshou" for algo in args.algos):
        require_extra("tianshou", "tianshou")
    for env_id in args.envs:
        _check_env(args, env_id)
    if args.seeds < 1:
        raise ValueError(f"argument --seeds: must be >= 1; got {args.seeds}")
    check_writable_folder("--out", args.out)
    _check_store(args)


def _check_env(args: argparse.Namespace, env_id: str) -> None:
    """The env, its budget and VecEnv, and each algorithm on it."""
    check_env_id("--envs", env_id)
    if args.timesteps == RL_ZOO_BUDGET:
        rl_zoo_a2c_budget(env_id)
    check_vec_env("--vec-env", args.vec_env, env_id)
    for algo in args.algos:
        if algo in VARIANTS:
            check_action_masks("--envs", env_id, algo, VARIANTS[algo].algo)
        if algo in VARIANTS or PEERS[algo].library == "sb3":
            config = run_config(algo, env_id, args.mode)
            if config.env_wrapper is not None:
                check_vec_env("--vec-env", args.vec_env, env_id, wrapped=True)
                check_env_wrapper(f"{config.source}, entry for {env_id}", config.env_wrapper, env_id)
        if algo in PEERS and PEERS[algo].library == "tianshou":
            from sb3_pg.compare.tianshou_runner import settings_for

            settings_for(algo, env_id)


def _check_store(args: argparse.Namespace) -> None:
    """``--storage`` is a storage, and ``--report-only`` has runs to report."""
    from sb3_pg.storage import check_storage, is_rdb_url

    if args.storage:
        check_storage(args.storage)
    if args.report_only:
        store = args.storage or str(args.out / "runs.log")
        if not is_rdb_url(store) and not Path(store).expanduser().is_file():
            raise ValueError(f"argument --report-only: no store of runs at {store}; give the --storage (or --out) they used")


def _worker_process(storage: str, settings: "CompareSettings", runs: "set[Run]") -> None:
    import optuna

    from sb3_pg.compare.queue import open_grid, run_worker

    configure_process()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        run_worker(open_grid(storage, settings), settings, runs)
    except KeyboardInterrupt:  # Ctrl-C reaches every process of the command: the main one says what is kept
        pass


def _grid_runs(study: "optuna.Study", fingerprints: "Fingerprints", wanted: "set[Run]") -> "list[report.Run]":
    """The stored runs of the grid with their current set-ups (any state)."""
    from sb3_pg.compare import report
    from sb3_pg.compare.queue import grid_trials

    return [r for r in report.collect(grid_trials(study, fingerprints)) if (r.algo, r.env_id, r.seed) in wanted]


def _write_report(runs: "list[report.Run]", settings: "CompareSettings", args: argparse.Namespace) -> None:
    """Write the report of ``runs`` to ``--out`` and print its summary and where it is."""
    from sb3_pg.compare import report

    path = report.write_report(runs, args.algos, args.envs, settings, args.out)
    print(report.summary(runs, args.algos, args.envs))
    print(f"report: {path}; figures and results.csv in {args.out}{os.sep}")


def _report_only(study: "optuna.Study", settings: "CompareSettings", wanted: "set[Run]", args: argparse.Namespace) -> int:
    """The report of the grid's finished runs (those with its current set-ups); nothing queued or trained."""
    from sb3_pg.compare.queue import Fingerprints

    found = _grid_runs(study, Fingerprints(settings), wanted)
    runs = [r for r in found if r.state in ("complete", "failed")]
    print(
        f"{len(wanted)} runs: {len(runs)} finished, {len(found) - len(runs)} queued or running,"
        f" {len(wanted) - len(found)} not queued with the current set-ups; the report has the finished ones"
    )
    _write_report(runs, settings, args)
    return 0


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    require_extra("extra", *TOOLS_MODULES)
    try:
        validate(args)
    except ValueError as error:
        parser.error(str(error))
    from sb3_pg.compare.queue import CompareSettings

    settings = CompareSettings(args.mode, args.timesteps, args.eval_freq, args.eval_episodes, args.vec_env)
    storage = args.storage or str(args.out / "runs.log")
    try:
        return _run_grid(args, parser, settings, storage)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the finished runs are stored in {storage}; the same command goes on with the others")
        return INTERRUPTED


def _run_grid(args: argparse.Namespace, parser: argparse.ArgumentParser, settings: "CompareSettings", storage: str) -> int:
    import optuna
    from optuna.trial import TrialState
    from tqdm.auto import tqdm

    from sb3_pg.compare.queue import Fingerprints, enqueue_missing, grid_study_name, grid_trials, open_grid, run_of, run_worker
    from sb3_pg.storage import open_storage, study_exists

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
        multiprocessing.get_context("spawn").Process(target=_worker_process, args=(storage, settings, wanted))
        for _ in range(args.n_workers - 1)
    ]
    for helper in helpers:
        helper.start()
    with tqdm(total=len(grid), desc="runs", unit="run", disable=not progress_bar_wanted(args.progress_bar)) as bar:

        def show() -> None:
            finished = [t for t in grid_trials(study, fingerprints) if run_of(t) in wanted]
            bar.n = sum(t.state.is_finished() for t in finished)
            bar.refresh()

        show()
        run_worker(study, settings, wanted, on_run_end=show)
        # Wait for the runs other workers still have; a dead worker's run is queued again, and run here
        while helpers and any(t.state == TrialState.RUNNING and run_of(t) in wanted for t in grid_trials(study, fingerprints)):
            time.sleep(1.0)
            run_worker(study, settings, wanted, on_run_end=show)
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
