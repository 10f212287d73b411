"""``sb3-pg train``: one of our algorithms (or a named variant) on a Gymnasium env, with its tuned RL Zoo
entry by default, the overrides RL Zoo users know (``--conf-file``, ``--hyperparams``), periodic
evaluation with best-model saving, TensorBoard, and a final deterministic evaluation on a separate
env. Ctrl-C stops training and keeps the model trained so far. It needs the core install only."""

import argparse
import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch as th
import yaml
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from sb3_pg.cli.options import (
    HelpFormatter,
    add_progress_bar,
    add_timesteps,
    add_vec_env,
    key_value,
    model_path,
    positive_int,
    progress_bar_wanted,
)
from sb3_pg.common.output_paths import check_new_file, check_writable_folder
from sb3_pg.configs import ZOO_KEYS, ZooConfigError, check_env_wrapper, config_path, load_config, validate_entry
from sb3_pg.envs import check_action_masks, check_env_id, install_hint
from sb3_pg.evaluation import eval_callback_class
from sb3_pg.experiment import EVAL_SEED_OFFSET, RunConfig, evaluate, make_envs, tuned_config
from sb3_pg.registry import VARIANTS, variants_help
from sb3_pg.vec_envs import check_vec_env

# RL Zoo keys this command applies itself; the others (VecEnv wrappers, frame stacking, callbacks) need RL Zoo
APPLIED_ZOO_KEYS = ("n_envs", "n_timesteps", "policy", "normalize", "env_wrapper")
INTERRUPTED = 130  # the exit status of a command stopped by Ctrl-C (128 + SIGINT)


@dataclass
class TrainSettings:
    """What ``sb3-pg train`` runs: one field per option."""

    algo: str = "reinforce"  #: algorithm or named variant (:data:`sb3_pg.registry.VARIANTS`)
    env: str = "CartPole-v1"  #: Gymnasium env id
    conf_file: Path | None = None  #: RL Zoo config file (default: the algorithm's zoo_configs/ file)
    hyperparams: list[tuple[str, Any]] = field(default_factory=list)  #: entries over the config's
    timesteps: int | None = None  #: training budget (default: the entry's n_timesteps)
    n_envs: int | None = None  #: training envs (default: the entry's n_envs)
    seed: int = 0  #: seed of the model and the training envs
    vec_env: str = "dummy"  #: the training envs' VecEnv kind
    eval_freq: int = 25_000  #: env steps between evaluations; 0 for none
    eval_episodes: int = 20  #: deterministic episodes per evaluation
    save: Path | None = None  #: where to save the model (.zip)
    tensorboard_log: Path | None = None  #: TensorBoard log folder
    log_interval: int | None = None  #: updates between logger writes
    verbose: int = 0  #: SB3's verbosity
    device: str = "auto"  #: torch device
    progress_bar: bool | None = None  #: a progress bar (default: in a terminal)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "TrainSettings":
        return cls(**{name: getattr(args, name) for name in cls.__dataclass_fields__})


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    train = commands.add_parser(
        "train",
        help="train an algorithm on an env (its tuned zoo_configs/ entry by default) and print its evaluation return",
        formatter_class=HelpFormatter,
    )
    train.add_argument(
        "--algo", choices=list(VARIANTS), default="reinforce", help=f"algorithm or named variant: {variants_help()}"
    )
    train.add_argument("--env", default="CartPole-v1", help="Gymnasium env id")
    train.add_argument(
        "--conf-file",
        type=Path,
        default=None,
        help="RL Zoo config file to take the env's entry (or its default entry) from"
        " (default: the algorithm's file in sb3_pg/zoo_configs)",
    )
    train.add_argument(
        "--hyperparams",
        nargs="+",
        type=key_value,
        default=[],
        metavar="KEY=VALUE",
        help="override entries of the config (values read as YAML; policy_kwargs also as dict(...)), "
        "for example learning_rate=1e-3 n_envs=4 normalize=true",
    )
    add_timesteps(train, "training budget in env steps (default: the entry's n_timesteps)")
    train.add_argument(
        "--n-envs", type=positive_int, default=None, help="parallel training envs (default: the entry's n_envs)"
    )
    train.add_argument(
        "--seed",
        type=int,
        default=0,
        help=f"seed of the model and the training envs (evaluation env: seed + {EVAL_SEED_OFFSET})",
    )
    add_vec_env(train)
    train.add_argument("--eval-freq", type=int, default=25_000, help="env steps between evaluations during training; 0: none")
    train.add_argument("--eval-episodes", type=positive_int, default=20, help="deterministic episodes per evaluation")
    train.add_argument(
        "--save",
        type=model_path,
        default=None,
        help="where to save the trained model (NAME.zip; .zip is added to a name without a suffix); with --eval-freq the"
        " best one goes to NAME_best.zip beside it, and with normalize the VecNormalize statistics to NAME_vecnormalize.pkl",
    )
    train.add_argument(
        "--tensorboard-log", type=Path, default=None, help="TensorBoard log folder (needs the tensorboard extra)"
    )
    train.add_argument(
        "--log-interval",
        type=positive_int,
        default=None,
        help="updates between writes of the logger (tables, TensorBoard) (default: the algorithm's, as SB3's learn)",
    )
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=0, help="1: SB3's training tables, 2: debug too")
    train.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda, cuda:1, ...")
    add_progress_bar(train)
    train.set_defaults(run=run, command_parser=train)


def best_model_path(save: Path) -> Path:
    """Where ``--eval-freq`` saves the best model: ``NAME_best.zip`` beside ``--save NAME.zip``."""
    return save.with_name(f"{save.stem}_best.zip")


def statistics_path(model: Path) -> Path:
    """Where a model's ``VecNormalize`` statistics go: ``NAME_vecnormalize.pkl`` beside ``NAME.zip``."""
    return model.with_name(f"{model.stem}_vecnormalize.pkl")


def saved_paths(save: Path, normalize: bool, evaluate: bool) -> list[Path]:
    """The files a run writes for ``--save`` (the model, its best version, VecNormalize statistics)."""
    models = [save, best_model_path(save)] if evaluate else [save]
    return (models + [statistics_path(model) for model in models]) if normalize else models


class SaveBestModel(BaseCallback):
    """Called by an ``EvalCallback`` on a new best evaluation: save the model (and its VecNormalize statistics)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def _on_step(self) -> bool:
        save_model(self.model, self.path)  # type: ignore[arg-type]
        return True


def save_model(model: OnPolicyAlgorithm, path: Path) -> None:
    """Save ``model`` to ``path`` and its ``VecNormalize`` statistics beside it, if it normalises."""
    model.save(path)
    normalization = model.get_vec_normalize_env()
    if normalization is not None:
        normalization.save(str(statistics_path(path)))


def resolve_config(settings: TrainSettings) -> tuple[RunConfig, dict[str, Any]]:
    """The run's set-up from the config entry and the overrides, checked as ``sb3-pg zoo`` checks
    entries, and the entry as written (overrides applied), to show.

    :raises ValueError: naming the option, the file, the entry and the key
    """
    zoo_name = VARIANTS[settings.algo].base
    path = settings.conf_file or config_path(zoo_name)
    try:
        config = load_config(path)
    except ZooConfigError as error:
        raise ZooConfigError(f"argument --conf-file: {error}") from None
    if settings.env not in config and "default" not in config:
        raise ZooConfigError(f"argument --conf-file: {path} has no entry for {settings.env} and no default entry")
    env_key = settings.env if settings.env in config else "default"
    overrides = dict(settings.hyperparams)
    if overrides:  # named as the option, before the file's entry is checked with them
        validate_entry(zoo_name, "argument --hyperparams", env_key, {"n_timesteps": 1, **overrides}, build=False)
    entry = {**config[env_key], **overrides}
    entry.setdefault("n_timesteps", settings.timesteps or 100_000)
    for key in entry:
        if key in ZOO_KEYS and key not in APPLIED_ZOO_KEYS:
            where = "argument --hyperparams" if key in overrides else path
            raise ZooConfigError(f"{where}, entry {env_key!r}, key {key!r}: applied by RL Zoo only: use sb3-pg zoo train")
    validate_entry(zoo_name, path, env_key, entry, build=False)
    return tuned_config(settings.algo, settings.env, conf_file=path, hyperparams=overrides), entry


def check_device(device: str) -> None:
    if device == "auto":
        return
    try:
        th.device(device)
    except RuntimeError:
        raise ValueError(f"argument --device: not a torch device: {device!r}; use auto, cpu, cuda or cuda:N") from None


def describe(settings: TrainSettings, config: RunConfig, entry: dict[str, Any], n_envs: int, timesteps: int) -> str:
    """What is about to be trained, as RL Zoo prints it: the source, and the entry as written with
    the overrides and the named variant's changes applied."""
    overrides = " ".join(f"{key}={value}" for key, value in settings.hyperparams)
    run_keys = {"n_envs": n_envs, "n_timesteps": timesteps, "policy": config.policy}
    shown = _readable({**entry, **run_keys, **VARIANTS[settings.algo].kwargs})
    text = yaml.safe_dump(shown, sort_keys=False, default_flow_style=None).rstrip()
    source = config.source + (f", with --hyperparams {overrides}" if overrides else "")
    lines = [f"{settings.algo} on {settings.env}, hyperparameters from {source}:"]
    return "\n".join(lines + [f"  {line}" for line in text.splitlines()])


def _readable(value: Any) -> Any:
    """A hyperparameter as YAML can print it: classes by name (``nn.ReLU``, as RL Zoo writes them)."""
    if isinstance(value, dict):
        return {key: _readable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_readable(item) for item in value]
    if isinstance(value, type):
        return f"nn.{value.__name__}" if value.__module__.startswith("torch.nn") else value.__qualname__
    return value


def _check_progress_bar(value: bool | None) -> bool:
    """SB3's progress bar needs tqdm and rich (the extra extra): on by default only where they are."""
    available = all(importlib.util.find_spec(module) is not None for module in ("tqdm", "rich"))
    if value and not available:
        raise ValueError(f"argument --progress-bar: SB3's progress bar needs tqdm and rich: {install_hint('extra')}")
    return progress_bar_wanted(value) and available


def check(settings: TrainSettings) -> tuple[RunConfig, dict[str, Any], bool]:
    """
    Every check before any work: the env, the device, the VecEnv, the config, the output paths.

    :return: the run's set-up, its entry as written, and whether to show a progress bar
    :raises ValueError: one line naming the option
    """
    check_env_id("--env", settings.env)
    check_device(settings.device)
    check_vec_env("--vec-env", settings.vec_env, settings.env)
    check_action_masks("--env", settings.env, settings.algo, VARIANTS[settings.algo].algo)
    if settings.eval_freq < 0:
        raise ValueError(f"argument --eval-freq: must be >= 0; got {settings.eval_freq}")
    config, entry = resolve_config(settings)
    check_vec_env("--vec-env", settings.vec_env, settings.env, wrapped=config.env_wrapper is not None)
    check_env_wrapper(f"{config.source}, entry for {settings.env}", config.env_wrapper, settings.env)
    # Before training: never lose a trained model to a path that cannot take it
    for path in saved_paths(settings.save, config.normalize is not None, settings.eval_freq > 0) if settings.save else []:
        check_new_file("--save", path)
    if settings.tensorboard_log is not None:
        if importlib.util.find_spec("tensorboard") is None:
            raise ValueError(f"argument --tensorboard-log: needs tensorboard: {install_hint('tensorboard')}")
        check_writable_folder("--tensorboard-log", settings.tensorboard_log)
    return config, entry, _check_progress_bar(settings.progress_bar)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    settings = TrainSettings.from_args(args)
    try:
        config, entry, progress_bar = check(settings)
    except ValueError as error:
        parser.error(str(error))
    assert config.algo_class is not None  # one of ours
    n_envs = settings.n_envs or config.n_envs
    timesteps = settings.timesteps or config.n_timesteps
    print(describe(settings, config, entry, n_envs, timesteps), flush=True)
    env, eval_env = make_envs(
        settings.env, n_envs, settings.seed, config.normalize, config.gamma, settings.vec_env, config.env_wrapper
    )
    try:
        model = config.algo_class(
            config.policy,
            env,
            seed=settings.seed,
            verbose=settings.verbose,
            device=settings.device,
            tensorboard_log=None if settings.tensorboard_log is None else str(settings.tensorboard_log),
            **config.kwargs,
        )
    except (ValueError, TypeError) as error:  # the entry and the overrides together: still before any training
        env.close()
        eval_env.close()
        parser.error(str(error))
    try:
        return _train(settings, model, eval_env, timesteps, progress_bar)
    finally:
        env.close()
        eval_env.close()


def _train(settings: TrainSettings, model: OnPolicyAlgorithm, eval_env: VecEnv, timesteps: int, progress_bar: bool) -> int:
    callback = _evaluation_callback(settings, eval_env, model.n_envs, type(model)) if settings.eval_freq > 0 else None
    log_interval: dict[str, Any] = {} if settings.log_interval is None else {"log_interval": settings.log_interval}
    start = time.perf_counter()
    try:
        model.learn(timesteps, callback=callback, progress_bar=progress_bar, tb_log_name=settings.algo, **log_interval)
    except KeyboardInterrupt:
        # As RL Zoo does: Ctrl-C stops training, and what was trained is kept
        kept = f"; the model trained so far is saved to {settings.save}" if settings.save else " (no --save: nothing kept)"
        if settings.save is not None:
            save_model(model, settings.save)
        print(f"\ninterrupted after {model.num_timesteps} steps{kept}")
        return INTERRUPTED
    train_seconds = time.perf_counter() - start
    mean, std = evaluate(model, eval_env, settings.eval_episodes)
    print(f"{settings.algo} on {settings.env}: {model.num_timesteps} steps in {train_seconds:.0f} s on {model.device}")
    print(f"deterministic evaluation over {settings.eval_episodes} episodes: {mean:.1f} +/- {std:.1f}")
    if isinstance(callback, EvalCallback) and callback.best_mean_reward > -float("inf"):
        print(f"best evaluation during training: {callback.best_mean_reward:.1f}")
    if settings.save is not None:
        save_model(model, settings.save)
        normalized = isinstance(model.get_env(), VecNormalize)
        print(f"saved to {settings.save}" + (f" (statistics: {statistics_path(settings.save)})" if normalized else ""))
    return 0


def _evaluation_callback(settings: TrainSettings, eval_env: VecEnv, n_envs: int, model_class: type) -> EvalCallback:
    on_new_best = None if settings.save is None else SaveBestModel(best_model_path(settings.save))
    # EvalCallback counts calls (one per vec env step), RL Zoo's conversion from env steps
    return eval_callback_class(model_class)(
        eval_env,
        callback_on_new_best=on_new_best,
        n_eval_episodes=settings.eval_episodes,
        eval_freq=max(settings.eval_freq // n_envs, 1),
        deterministic=True,
        verbose=settings.verbose,
    )
