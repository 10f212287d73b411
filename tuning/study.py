"""``sb3-pg tune``: create or resume a study, run trials until it has its total, write the outputs."""

import copy
import inspect
import multiprocessing
import os
import socket
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import optuna
from optuna.pruners import BasePruner, MedianPruner, NopPruner, SuccessiveHalvingPruner
from optuna.samplers import BaseSampler, RandomSampler, TPESampler
from tqdm.auto import tqdm

from sb3_pg.common.output_paths import check_writable_folder
from sb3_pg.common.process import configure_process
from sb3_pg.configs import format_policy_kwargs, has_classes
from sb3_pg.envs import check_action_masks, check_env_id
from sb3_pg.search_space import CONTINUOUS_ONLY, SEARCH_SPACES
from sb3_pg.storage import check_storage, is_rdb_url, open_storage, study_exists
from sb3_pg.vec_envs import check_vec_env

from . import confirm as held_out
from . import report
from .budget import Places, places, run_worker
from .objective import TuningObjective
from .warm_start import WARM_START_ATTR, enqueue_warm_starts, enqueued_params

SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "halving", "none")
N_STARTUP_TRIALS = 5  # random trials before TPE models the results, and trials before the median pruner acts
WORKER_SEED_STRIDE = 100_003  # sampler seeds of the processes of one command are this far apart


@dataclass
class TuneSettings:
    """What defines a study; stored with it, so that resuming with other settings is refused."""

    algo: str
    env_id: str
    n_timesteps: int
    n_seeds: int
    n_evaluations: int
    eval_episodes: int
    n_envs: int
    seed: int
    extra_params: list[str] = field(default_factory=list)
    fixed: dict[str, Any] = field(default_factory=dict)
    normalize: bool = False
    vec_env: str = "dummy"


def validate(settings: TuneSettings, storage: str) -> None:
    """
    Check everything before anything is created, so that bad input leaves no partial study.

    :raises ValueError: naming the argument and the allowed values
    """
    if settings.algo not in SEARCH_SPACES:
        raise ValueError(f"argument --algo: unknown algorithm {settings.algo!r}; choose one of {', '.join(SEARCH_SPACES)}")
    check_env_id("--env", settings.env_id)
    check_vec_env("--vec-env", settings.vec_env, settings.env_id)
    space = SEARCH_SPACES[settings.algo]
    check_action_masks("--env", settings.env_id, settings.algo, space.algo)
    unknown = sorted(set(settings.extra_params) - set(space.optional))
    if unknown:
        raise ValueError(f"argument --extra-params: unknown {unknown}; {settings.algo} has {', '.join(space.optional)}")
    accepted = set(inspect.signature(space.algo.__init__).parameters) - {"self", "policy", "env", "seed", "_init_setup_model"}
    unknown = sorted(set(settings.fixed) - accepted)
    if unknown:
        raise ValueError(
            f"argument --fixed: {space.algo.__name__} has no argument {unknown}; it has {', '.join(sorted(accepted))}"
        )
    # Wrong values of fixed arguments (types, ranges, spaces) fail here, not in every trial
    env = gym.make(settings.env_id)
    try:
        continuous_only = [name for name in settings.extra_params if name in CONTINUOUS_ONLY]
        if continuous_only and not isinstance(env.action_space, gym.spaces.Box):
            raise ValueError(
                f"argument --extra-params: {', '.join(continuous_only)} {'needs' if len(continuous_only) == 1 else 'need'}"
                " continuous (Box) actions; "
                f"{settings.env_id} has {env.action_space}"
            )
        try:
            space.algo(
                space.algo.default_policy(), env, device="cpu", **copy.deepcopy(settings.fixed)
            )  # models mutate policy_kwargs
        except (ValueError, TypeError, AssertionError) as error:
            raise ValueError(f"argument --fixed: {error}") from None
    finally:
        env.close()
    check_storage(storage)


def make_sampler(name: str, seed: int) -> BaseSampler:
    if name == "random":
        return RandomSampler(seed=seed)
    return TPESampler(n_startup_trials=N_STARTUP_TRIALS, seed=seed)


def make_pruner(name: str, n_evaluations: int) -> BasePruner:
    if name == "median":
        return MedianPruner(n_startup_trials=N_STARTUP_TRIALS, n_warmup_steps=max(1, n_evaluations // 3))
    if name == "halving":
        return SuccessiveHalvingPruner()
    return NopPruner()


def storable_settings(settings: TuneSettings) -> dict[str, Any]:
    """The settings as the study stores them (JSON): a fixed ``policy_kwargs`` holding classes
    (``activation_fn=nn.ReLU``) in RL Zoo's ``dict(...)`` spelling (:func:`tuning.report.study_settings` reads it back)."""
    stored = asdict(settings)
    fixed = dict(stored["fixed"])
    if has_classes(fixed.get("policy_kwargs")):
        fixed["policy_kwargs"] = format_policy_kwargs(fixed["policy_kwargs"])
    return {**stored, "fixed": fixed}


def load_or_create(
    settings: TuneSettings,
    storage: str,
    study_name: str,
    sampler: str,
    pruner: str,
    heartbeat_interval: int = 10,
    worker: int = 0,
) -> tuple[optuna.Study, bool]:
    """
    Open the study, creating it with ``settings``; refuse to resume one created with other settings.

    :param worker: the index of this process among the ``--n-workers`` of one command (its sampler seed)

    :return: the study, and whether this call created it. Creation is atomic in every storage (a
        unique study name), so of several workers starting together exactly one is told True: the one
        that enqueues the warm starts (two that both saw an empty study would enqueue them twice).
    """
    opened = open_storage(storage, heartbeat_interval)
    existed = study_exists(opened, study_name)
    # Workers of a shared study must not draw the same candidates. On one machine (journal file) the
    # sampler seed is --seed plus the trials the study holds, so a single worker is reproducible; on
    # a shared database workers often start together, so the seed also mixes in host and process id
    offset = len(optuna.load_study(study_name=study_name, storage=opened).trials) if existed else 0
    offset += WORKER_SEED_STRIDE * worker  # the processes of one command start together too
    if is_rdb_url(storage):
        offset += zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode()) % 1_000_003
    options: dict[str, Any] = {
        "storage": opened,
        "study_name": study_name,
        "direction": "maximize",
        "sampler": make_sampler(sampler, settings.seed + offset),
        "pruner": make_pruner(pruner, settings.n_evaluations),
    }
    try:
        study, created = optuna.create_study(**options, load_if_exists=False), True
    except optuna.exceptions.DuplicatedStudyError:
        study, created = optuna.create_study(**options, load_if_exists=True), False
    stored = study.user_attrs.get("settings")
    if stored is not None:  # settings added in later versions take their defaults
        stored = {**{f.name: f.default for f in fields(TuneSettings) if f.default is not MISSING}, **stored}
    if stored is None:
        study.set_user_attr("settings", storable_settings(settings))
    elif stored != storable_settings(settings):
        different = sorted(key for key, value in storable_settings(settings).items() if stored.get(key) != value)
        raise ValueError(
            f"argument --study-name: study {study_name!r} was created with other settings ({', '.join(different)}:"
            f" {', '.join(repr(stored.get(k)) for k in different)}); resume it with them or choose a new --study-name"
        )
    return study, created


def tune(
    settings: TuneSettings,
    n_trials: int,
    out: Path,
    storage: str | None = None,
    study_name: str | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    progress_bar: bool = True,
    heartbeat_interval: int = 10,
    warm_start: bool = True,
    confirm_top: int = 0,
    confirm_seeds: int = 5,
    n_workers: int = 1,
    enqueue: Sequence[Mapping[str, Any]] = (),
) -> optuna.Study:
    """
    Run (or resume) a study until it has ``n_trials`` finished trials, then write its outputs to ``out``.

    :param settings: the study's settings
    :param n_trials: the study's total, across all workers; a rerun with a larger total adds trials
    :param out: the output folder (and the default journal file, ``out/study.log``)
    :param storage: an RDB URL or a journal file path
    :param study_name: defaults to ``<algo>-<env_id>``
    :param sampler: ``"tpe"`` or ``"random"``
    :param pruner: ``"median"``, ``"halving"`` or ``"none"``
    :param progress_bar: show a progress bar of the study's finished trials
    :param heartbeat_interval: RDB storages: seconds between heartbeats; a dead worker's trial is retried after 3
    :param warm_start: a new study first tries the known configurations (:mod:`tuning.warm_start`), so
        that its best is never worse than them on its own objective
    :param confirm_top: with > 0, re-run the best ``confirm_top`` trials and the warm starts on
        held-out seeds (:mod:`tuning.confirm`); ``best.yml`` is then the held-out winner
    :param confirm_seeds: held-out seeds per candidate
    :param n_workers: processes on this machine working on the study, then on the confirmation
        runs (each trains one model at a time: one per core)
    :param enqueue: the user's own configurations (model keyword arguments, RL Zoo's ``lin_<x>``
        schedules, the others the algorithm's defaults), tried after the warm starts and confirmed
        with them; enqueued again on a resumed study unless already there
    :return: the study
    """
    if out.exists() and not out.is_dir():
        raise ValueError(f"argument --out: {out} is a file, not a folder")
    storage = storage or str(out / "study.log")
    study_name = study_name or f"{settings.algo}-{settings.env_id}"
    validate(settings, storage)
    # Refused before anything is created
    user_params = enqueued_params(settings.algo, enqueue, settings.extra_params, settings.fixed)
    if sampler not in SAMPLERS:
        raise ValueError(f"argument --sampler: unknown {sampler!r}; choose one of {', '.join(SAMPLERS)}")
    if pruner not in PRUNERS:
        raise ValueError(f"argument --pruner: unknown {pruner!r}; choose one of {', '.join(PRUNERS)}")
    if n_trials < 1:
        raise ValueError(f"argument --n-trials: must be >= 1; got {n_trials}")
    if n_workers < 1:
        raise ValueError(f"argument --n-workers: must be >= 1; got {n_workers}")
    check_writable_folder("--out", out)  # last: the other checks leave nothing behind
    study, created = load_or_create(settings, storage, study_name, sampler, pruner, heartbeat_interval)
    if (warm_start and created) or user_params:
        known = warm_start and created
        enqueue_warm_starts(study, settings.algo, settings.env_id, settings.extra_params, settings.fixed, user_params, known)
    say_if_only_warm_starts(study, n_trials)
    objective = TuningObjective(**asdict(settings))
    job = _Job(settings, storage, study_name, sampler, pruner, heartbeat_interval)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tqdm(total=n_trials, desc=f"tuning {study_name}", unit="trial", disable=not progress_bar) as bar:

        def show(held: Places) -> None:
            bar.n = min(n_trials, len(held.finished))
            bar.refresh()

        show(places(study.get_trials(deepcopy=False)))
        _in_parallel(job, n_workers, n_trials, None, lambda: run_worker(study, objective, n_trials, on_trial_end=show))
    write_outputs(study, out, storage)
    if confirm_top > 0 and any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        total = held_out.enqueue(study, objective, confirm_top, confirm_seeds)
        _in_parallel(job, n_workers, n_trials, total, lambda: held_out.run_runs(study, objective, total))
        winner = held_out.conclude(study, objective, confirm_top, confirm_seeds, out)
        if winner is None:
            print("no candidate completed every held-out seed: best.yml stays the study's best trial")
        else:
            path = out / "confirmation.csv"
            note = held_out.note(path, winner, confirm_seeds, settings.seed)
            report.write_zoo_yaml(study, out / "best.yml", winner.trial, note)
            print(f"held-out winner: {winner.label}; best hyperparameters (RL Zoo format): {out / 'best.yml'}")
    return study


@dataclass(frozen=True)
class _Job:
    """What a helper process needs to open the study (picklable: helpers are spawned)."""

    settings: TuneSettings
    storage: str
    study_name: str
    sampler: str
    pruner: str
    heartbeat_interval: int


def _helper(job: _Job, worker: int, n_trials: int, confirmation_total: int | None) -> None:
    """A helper process: the study's trials, or (with ``confirmation_total``) the confirmation runs."""
    configure_process()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study, _ = load_or_create(
        job.settings, job.storage, job.study_name, job.sampler, job.pruner, job.heartbeat_interval, worker=worker
    )
    objective = TuningObjective(**asdict(job.settings))
    try:
        if confirmation_total is None:
            run_worker(study, objective, n_trials)
        else:
            held_out.run_runs(study, objective, confirmation_total)
    except KeyboardInterrupt:  # Ctrl-C reaches every process of the command: the main one says what is kept
        pass


def _in_parallel(job: _Job, n_workers: int, n_trials: int, confirmation_total: int | None, work: Callable[[], None]) -> None:
    """Run ``work`` here beside ``n_workers - 1`` helper processes doing the same; wait for them."""
    context = multiprocessing.get_context("spawn")
    helpers = [context.Process(target=_helper, args=(job, i, n_trials, confirmation_total)) for i in range(1, n_workers)]
    for helper in helpers:
        helper.start()
    try:
        work()
    finally:
        for helper in helpers:
            helper.join()
    for helper in helpers:
        if helper.exitcode != 0:  # its trial, if any, was retried here
            print(f"a helper worker exited with status {helper.exitcode}", file=sys.stderr)


def say_if_only_warm_starts(study: optuna.Study, n_trials: int) -> None:
    """Print a line when the study's total leaves no trial to the sampler: its trials are the known configurations."""
    queued = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get(WARM_START_ATTR) is not None]
    if queued and len(queued) >= n_trials:
        names = ", ".join(str(t.user_attrs[WARM_START_ATTR]) for t in queued)
        print(
            f"note: all {n_trials} trials are known configurations ({names}): the study samples no new one;"
            f" give --n-trials above {len(queued)} to search"
        )


def write_outputs(study: optuna.Study, out: Path, storage: str) -> None:
    """Write the YAML, CSV and plots, and print the summary."""
    out.mkdir(parents=True, exist_ok=True)
    print(report.summary(study))
    report.trials_table(study).to_csv(out / "trials.csv", index=False)
    if any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        report.write_zoo_yaml(study, out / "best.yml")
        print(f"best hyperparameters (RL Zoo format): {out / 'best.yml'}")
    else:
        print("no complete trial yet: no best.yml")
    for line in report.write_plots(study, out / "plots"):
        print(f"plot skipped: {line}")
    print(f"all trials: {out / 'trials.csv'}; plots: {out / 'plots'}")
    print(f"browse the study: optuna-dashboard {storage}")
