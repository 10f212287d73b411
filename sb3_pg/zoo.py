"""RL Zoo (``rl_zoo3``) with sb3_pg's algorithms, without editing RL Zoo: ``sb3-pg zoo train|enjoy``.

RL Zoo's algorithm registry (``rl_zoo3.ALGOS``) and its Optuna sampler and converter registries
(``rl_zoo3.hyperparams_opt``) are its ways in: :func:`register` fills them before RL Zoo's ``train()``
or ``enjoy()`` parses arguments (``--algo`` choices are fixed then); the samplers and converters are
:mod:`sb3_pg.tuning`'s search spaces. RL Zoo has no way in for its ``ExperimentManager`` or its argument
list, so :func:`zoo_main` gives them to ``rl_zoo3.train.train()`` for the duration of the call only
(a scoped ``unittest.mock.patch``): :class:`ZooExperimentManager` reads ``lin_<x>`` schedules for
``critic_learning_rate`` too, evaluates our maskable algorithms under the env's action masks, and
gives the training envs our native vector envs (``--vec-env gymnasium``, ``gymnasium-async``,
``gymnasium-native``, ``envpool``: see :mod:`sb3_pg.vec_envs`), with ``VecMonitor`` writing RL
Zoo's ``monitor.csv``; evaluation stays on RL Zoo's ``DummyVecEnv``.

Config files are read and checked by :mod:`sb3_pg.configs` (never executed) before RL Zoo sees them.
"""

import argparse
import functools
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import gymnasium as gym
import rl_zoo3
import rl_zoo3.train
from rl_zoo3 import hyperparams_opt
from rl_zoo3.exp_manager import ExperimentManager
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from sb3_pg.common.yaml_text import yaml_value
from sb3_pg.configs import (
    ZooConfigError,
    config_path,
    parse_policy_kwargs,
    schedule,
    schedules_as_text,
    validate_config,
    validate_entry,
)
from sb3_pg.evaluation import eval_callback_class
from sb3_pg.registry import ALGORITHMS
from sb3_pg.vec_envs import VEC_ENV_KINDS, check_vec_env, make_vec_env_of

OUR_SCHEDULE_KEYS = ("critic_learning_rate",)  # ours; RL Zoo converts learning_rate itself


# The --vec-env kinds RL Zoo does not have: ZooExperimentManager makes them
NATIVE_VEC_ENVS = tuple(kind for kind in VEC_ENV_KINDS if kind not in ("dummy", "subproc"))


def _native_vec_env(
    kind: str, env_id: str, env_kwargs: dict[str, Any], log_dir: str | None, env_fns: list[Callable[[], gym.Env]]
) -> VecEnv:
    """A ``vec_env_cls`` for SB3's ``make_vec_env``: ``len(env_fns)`` envs of ``kind`` (the per-env
    constructors are not needed), with ``VecMonitor`` writing ``log_dir/vec.monitor.csv``."""
    env = make_vec_env_of(kind, env_id, len(env_fns), env_kwargs=env_kwargs, monitor=False)
    return VecMonitor(env, os.path.join(log_dir, "vec") if log_dir else None)


class ZooExperimentManager(ExperimentManager):
    """RL Zoo's experiment manager, with ``lin_<x>`` schedules for our extra learning rate too,
    evaluations under the env's action masks for our maskable algorithms, and training envs of
    :data:`native_vec_env` when it is set."""

    #: the training envs' kind (one of :data:`NATIVE_VEC_ENVS`), in the subclass :func:`manager_class`
    #: makes for ``sb3-pg zoo train --vec-env``; None: RL Zoo's own (``dummy`` or ``subproc``)
    native_vec_env: ClassVar[str | None] = None

    def create_envs(self, n_envs: int, eval_env: bool = False, no_log: bool = False) -> VecEnv:
        kind = self.native_vec_env
        if kind is None or eval_env:
            return super().create_envs(n_envs, eval_env, no_log)
        if self.env_wrapper is not None:
            raise ValueError(f"--vec-env {kind}: the config's env_wrapper wraps single envs; use --vec-env dummy or subproc")
        log_dir = None if no_log else self.save_path
        # RL Zoo's create_envs goes on as always (normalization, frame stacking, ...) on our VecEnv
        saved = self.vec_env_class
        self.vec_env_class = functools.partial(_native_vec_env, kind, self.env_name.gym_id, self.env_kwargs, log_dir)  # type: ignore[assignment]
        try:
            return super().create_envs(n_envs, eval_env, no_log)
        finally:
            self.vec_env_class = saved

    def create_callbacks(self) -> None:
        super().create_callbacks()
        spec = ALGORITHMS.get(self.algo)
        if spec is None or eval_callback_class(spec.algo) is EvalCallback:
            return
        masked = eval_callback_class(spec.algo)
        self.callbacks = [
            masked(
                c.eval_env,
                callback_on_new_best=c.callback_on_new_best,
                n_eval_episodes=c.n_eval_episodes,
                eval_freq=c.eval_freq,
                log_path=os.path.dirname(c.log_path) if c.log_path else None,
                best_model_save_path=c.best_model_save_path,
                deterministic=c.deterministic,
            )
            if type(c) is EvalCallback
            else c
            for c in self.callbacks
        ]

    @staticmethod
    def _preprocess_schedules(hyperparams: dict[str, Any]) -> dict[str, Any]:
        hyperparams = ExperimentManager._preprocess_schedules(hyperparams)
        for key in OUR_SCHEDULE_KEYS:
            if isinstance(hyperparams.get(key), str):
                hyperparams[key] = schedule(hyperparams[key])
        return hyperparams


def manager_class(native_vec_env: str | None) -> type[ZooExperimentManager]:
    """:class:`ZooExperimentManager` making training envs of ``native_vec_env`` (None: RL Zoo's own)."""
    if native_vec_env is None:
        return ZooExperimentManager
    return type("ZooExperimentManager", (ZooExperimentManager,), {"native_vec_env": native_vec_env})


def _converter(kwargs_from_params: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """RL Zoo's converter (``--trial-id``): a trial's arguments as a config entry holds them, a linear
    schedule as ``lin_<x>`` (RL Zoo's ``_preprocess_schedules`` takes text or numbers only)."""

    def convert(params: dict[str, Any]) -> dict[str, Any]:
        return schedules_as_text(kwargs_from_params(params))

    return convert


def register() -> None:
    """Add our algorithms, their samplers and converters to RL Zoo's registries (idempotent)."""
    from sb3_pg.search_space import SEARCH_SPACES, sample_zoo_params

    for name, spec in ALGORITHMS.items():
        rl_zoo3.ALGOS[name] = spec.algo
        # RL Zoo's registries are typed after their first function; ours have the same call signature
        sampler: Any = sample_zoo_params(name)
        converter: Any = _converter(SEARCH_SPACES[name].kwargs_from_params)
        hyperparams_opt.HYPERPARAMS_SAMPLER[name] = sampler
        hyperparams_opt.HYPERPARAMS_CONVERTER[name] = converter


def _known_options() -> argparse.ArgumentParser:
    """The RL Zoo options ``sb3-pg zoo`` reads itself (``parse_known_args``: RL Zoo's parser reads all of them)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--algo")
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("-conf", "--conf-file", dest="conf_file")
    parser.add_argument("--vec-env", dest="vec_env")
    parser.add_argument("-params", "--hyperparams", dest="hyperparams", nargs="+", default=[])
    parser.add_argument("-f", "--folder", default="rl-trained-agents")
    return parser


class ZooUsageError(ValueError):
    """Bad ``sb3-pg zoo`` input, found before RL Zoo runs; the message is one line."""


def prepare(command: str, argv: list[str]) -> tuple[list[str], str | None]:
    """
    Check the arguments of ``sb3-pg zoo COMMAND`` for our algorithms and fill in what RL Zoo needs.

    :return: the arguments for RL Zoo, and the native vector env kind to train with (None: RL Zoo's own)
    :raises ZooUsageError: naming the option
    """
    known, _ = _known_options().parse_known_args(argv)
    argv = list(argv)
    native = None
    if command == "train" and known.vec_env in NATIVE_VEC_ENVS:
        try:
            check_vec_env("--vec-env", known.vec_env, known.env)
        except ValueError as error:
            raise ZooUsageError(str(error)) from None
        native = known.vec_env
        argv = _with_dummy_vec_env(argv)  # RL Zoo's parser knows dummy and subproc only
    if command == "train" and known.algo in ALGORITHMS:
        conf = known.conf_file
        if conf is None:
            conf = str(config_path(known.algo))
            argv += ["--conf-file", conf]
        try:
            if conf.endswith((".yml", ".yaml")):
                config = validate_config(known.algo, conf, build=False)
                if known.env not in config and "default" not in config:
                    raise ZooConfigError(f"argument --conf-file: {conf} has no entry for {known.env} and no default entry")
            validate_params(known.algo, known.env, known.hyperparams)
        except ZooConfigError as error:
            raise ZooUsageError(str(error)) from None
    if command == "enjoy" and not (Path(known.folder) / (known.algo or "")).is_dir():
        raise ZooUsageError(f"argument -f: no trained {known.algo or ''} agents in {known.folder!r}")
    return argv, native


def _with_dummy_vec_env(argv: list[str]) -> list[str]:
    """``argv`` with ``--vec-env``'s value (``--vec-env KIND`` or ``--vec-env=KIND``) made ``dummy``."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--vec-env" and i + 1 < len(out):
            out[i + 1] = "dummy"
        elif arg.startswith("--vec-env="):
            out[i] = "--vec-env=dummy"
    return out


def zoo_main(command: str, argv: list[str]) -> int:
    """
    ``sb3-pg zoo train|enjoy [rl_zoo3 arguments]``: RL Zoo's own commands with our algorithms registered.

    For our algorithms ``--conf-file`` defaults to ``zoo_configs/<algo>.yml``, which is validated
    first; SB3's algorithms keep RL Zoo's own configs.

    :raises ZooUsageError: bad input, before RL Zoo runs
    """
    register()
    argv, native = prepare(command, argv)
    module = importlib.import_module(f"rl_zoo3.{command}")
    with mock.patch.object(sys, "argv", [f"sb3-pg zoo {command}", *argv]):
        if command == "train":
            with mock.patch.object(rl_zoo3.train, "ExperimentManager", manager_class(native)):
                module.train()
        else:
            module.enjoy()
    return 0


def validate_params(algo: str, env_id: str, params: list[str]) -> None:
    """
    Check ``-params key:value ...`` (RL Zoo's overrides) as entries of a config file are checked.

    :raises ZooConfigError: naming the key
    """
    entry: dict[str, Any] = {"n_timesteps": 1}
    for item in params:
        key, sep, text = item.partition(":")
        if not sep:
            raise ZooConfigError(f"-params {item!r}: expected key:value")
        entry[key] = parse_policy_kwargs(text) if key == "policy_kwargs" else yaml_value(text)
    if len(entry) > 1:
        validate_entry(algo, "-params", env_id, entry, build=False)
