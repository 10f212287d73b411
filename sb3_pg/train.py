"""The ``sb3-pg train`` command: one of our algorithms (or a named variant) on a Gymnasium env, with
its tuned RL Zoo entry by default, the overrides RL Zoo users know (``--conf-file``,
``--hyperparams``), periodic evaluation with best-model saving, TensorBoard, and a final
deterministic evaluation on a separate env."""

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import torch as th
import yaml
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, sync_envs_normalization

from sb3_pg.cli_args import HelpFormatter, add_vec_env_argument, check_action_masks, check_env_id, key_value, positive_int
from sb3_pg.common.output_paths import check_new_file, check_writable_folder
from sb3_pg.compare.algos import RunConfig, run_config, zoo_name_of
from sb3_pg.compare.runner import make_envs
from sb3_pg.evaluation import eval_callback_class, evaluate_policy
from sb3_pg.variants import VARIANTS
from sb3_pg.vec_envs import check_vec_env
from sb3_pg.zoo import ZOO_KEYS, ZooConfigError, config_path, load_config, validate_entry

# RL Zoo keys this command applies itself; the others (wrappers, frame stacking, callbacks) need RL Zoo
APPLIED_ZOO_KEYS = ("n_envs", "n_timesteps", "policy", "normalize")


def add_train_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    train = commands.add_parser(
        "train",
        help="train an algorithm on an env (its tuned zoo_configs/ entry by default) and print its evaluation return",
        formatter_class=HelpFormatter,
    )
    train.add_argument("--algo", choices=sorted(VARIANTS), default="reinforce", help="algorithm or named variant")
    train.add_argument("--env", default="CartPole-v1", help="Gymnasium env id")
    train.add_argument(
        "--conf-file",
        type=Path,
        default=None,
        help="RL Zoo config file to take the env's entry (or its default entry) from"
        " (default: zoo_configs/pg_a2c.yml or zoo_configs/reinforce.yml)",
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
    train.add_argument(
        "--timesteps", type=positive_int, default=None, help="training budget in env steps (default: the entry's n_timesteps)"
    )
    train.add_argument(
        "--n-envs", type=positive_int, default=None, help="parallel training envs (default: the entry's n_envs)"
    )
    train.add_argument(
        "--seed", type=int, default=0, help="seed of the model and the training envs (evaluation env: seed + 10000)"
    )
    add_vec_env_argument(train)
    train.add_argument("--eval-freq", type=int, default=25_000, help="env steps between evaluations during training; 0: none")
    train.add_argument("--eval-episodes", type=positive_int, default=20, help="deterministic episodes per evaluation")
    train.add_argument(
        "--save",
        type=Path,
        default=None,
        help="where to save the trained model (.zip); with --eval-freq the best one goes to NAME_best.zip beside it, "
        "and with normalize the VecNormalize statistics to NAME_vecnormalize.pkl",
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
    train.add_argument(
        "--progress-bar",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when the output is a terminal)",
    )
    train.set_defaults(run=train_command, command_parser=train)


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
        self.model.save(self.path)
        normalization = self.model.get_vec_normalize_env()
        if normalization is not None:
            normalization.save(str(statistics_path(self.path)))
        return True


def resolve_config(args: argparse.Namespace) -> tuple[RunConfig, dict[str, Any]]:
    """The run's set-up from the config entry and the overrides, checked as ``sb3-pg zoo`` checks
    entries, and the entry as written (overrides applied), to show.

    :raises ValueError: naming the option, the file, the entry and the key
    """
    zoo_name = zoo_name_of(args.algo)
    path = args.conf_file or config_path(zoo_name)
    try:
        config = load_config(path)
    except ZooConfigError as error:
        raise ZooConfigError(f"argument --conf-file: {error}") from None
    env_key = args.env if args.env in config else "default"
    overrides = dict(args.hyperparams)
    if overrides:  # named as the option, before the file's entry is checked with them
        validate_entry(zoo_name, "argument --hyperparams", env_key, {"n_timesteps": 1, **overrides}, build=False)
    entry = {**config.get(env_key, {}), **overrides}
    entry.setdefault("n_timesteps", args.timesteps or 100_000)
    for key in entry:
        if key in ZOO_KEYS and key not in APPLIED_ZOO_KEYS:
            where = "argument --hyperparams" if key in overrides else path
            raise ZooConfigError(f"{where}, entry {env_key!r}, key {key!r}: applied by RL Zoo only: use sb3-pg zoo train")
    validate_entry(zoo_name, path, env_key, entry, build=False)
    return run_config(args.algo, args.env, "tuned", conf_file=path, hyperparams=overrides), entry


def check_device(device: str) -> None:
    if device == "auto":
        return
    try:
        th.device(device)
    except RuntimeError:
        raise ValueError(f"argument --device: not a torch device: {device!r}; use auto, cpu, cuda or cuda:N") from None


def describe(args: argparse.Namespace, config: RunConfig, entry: dict[str, Any], n_envs: int, timesteps: int) -> str:
    """What is about to be trained, as RL Zoo prints it: the source, and the entry as written with
    the overrides and the named variant's changes applied."""
    overrides = " ".join(f"{key}={value}" for key, value in args.hyperparams)
    run = {"n_envs": n_envs, "n_timesteps": timesteps, "policy": config.policy}
    shown = _readable({**entry, **run, **VARIANTS[args.algo].kwargs})
    text = yaml.safe_dump(shown, sort_keys=False, default_flow_style=None).rstrip()
    source = config.source + (f", with --hyperparams {overrides}" if overrides else "")
    lines = [f"{args.algo} on {args.env}, hyperparameters from {source}:"]
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


def train_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        check_env_id("--env", args.env)
        check_device(args.device)
        check_vec_env("--vec-env", args.vec_env, args.env)
        check_action_masks("--env", args.env, args.algo, VARIANTS[args.algo].algo)
        if args.eval_freq < 0:
            raise ValueError(f"argument --eval-freq: must be >= 0; got {args.eval_freq}")
        config, entry = resolve_config(args)
        evaluate = args.eval_freq > 0
        # Before training: never lose a trained model to a path that cannot take it
        for path in saved_paths(args.save, config.normalize is not None, evaluate) if args.save else []:
            check_new_file("--save", path)
        if args.tensorboard_log is not None:
            if importlib.util.find_spec("tensorboard") is None:
                raise ValueError('argument --tensorboard-log: needs tensorboard: pip install "sb3-pg[tensorboard]"')
            check_writable_folder("--tensorboard-log", args.tensorboard_log)
    except ValueError as error:
        parser.error(str(error))
    assert config.algo_class is not None  # one of ours
    n_envs = args.n_envs or config.n_envs
    timesteps = args.timesteps or config.n_timesteps
    print(describe(args, config, entry, n_envs, timesteps), flush=True)
    env, eval_env = make_envs(config, args.env, args.seed, n_envs, args.vec_env)
    try:
        model = config.algo_class(
            config.policy,
            env,
            seed=args.seed,
            verbose=args.verbose,
            device=args.device,
            tensorboard_log=None if args.tensorboard_log is None else str(args.tensorboard_log),
            **config.kwargs,
        )
    except (ValueError, TypeError) as error:  # the entry and the overrides together: still before any training
        env.close()
        eval_env.close()
        parser.error(str(error))
    callback = _evaluation_callback(args, eval_env, n_envs, config.algo_class) if evaluate else None
    progress_bar = sys.stdout.isatty() if args.progress_bar is None else args.progress_bar
    start = time.perf_counter()
    log_interval = {} if args.log_interval is None else {"log_interval": args.log_interval}
    model.learn(timesteps, callback=callback, progress_bar=progress_bar, tb_log_name=args.algo, **log_interval)
    train_seconds = time.perf_counter() - start
    if isinstance(env, VecNormalize):
        sync_envs_normalization(env, eval_env)  # the final evaluation sees the observations as the policy does
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True)
    print(f"{args.algo} on {args.env}: {model.num_timesteps} steps in {train_seconds:.0f} s on {model.device}")
    print(f"deterministic evaluation over {args.eval_episodes} episodes: {mean:.1f} +/- {std:.1f}")
    if isinstance(callback, EvalCallback) and callback.best_mean_reward > -float("inf"):
        print(f"best evaluation during training: {callback.best_mean_reward:.1f}")
    if args.save is not None:
        model.save(args.save)
        if isinstance(env, VecNormalize):
            env.save(str(statistics_path(args.save)))
        print(f"saved to {args.save}")
    env.close()
    eval_env.close()
    return 0


def _evaluation_callback(args: argparse.Namespace, eval_env: VecEnv, n_envs: int, model_class: type) -> EvalCallback:
    on_new_best = None if args.save is None else SaveBestModel(best_model_path(args.save))
    # EvalCallback counts calls (one per vec env step), RL Zoo's conversion from env steps
    return eval_callback_class(model_class)(
        eval_env,
        callback_on_new_best=on_new_best,
        n_eval_episodes=args.eval_episodes,
        eval_freq=max(args.eval_freq // n_envs, 1),
        deterministic=True,
        verbose=args.verbose,
    )
