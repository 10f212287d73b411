"""RL Zoo (``rl_zoo3``) with sb3_pg's algorithms, without editing RL Zoo: ``sb3-pg zoo train|enjoy``.

RL Zoo has no plugin mechanism: its algorithm registry (``rl_zoo3.ALGOS``) and its Optuna sampler
and converter registries (``rl_zoo3.hyperparams_opt``) must be filled before its ``train()`` or
``enjoy()`` parses arguments (``--algo`` choices are fixed then). :func:`register` fills them; the
samplers and converters are ``tuning/``'s search spaces. RL Zoo turns ``lin_<x>`` strings into
schedules only for a few keys; :class:`ZooExperimentManager` does it for ``critic_learning_rate`` too.
RL Zoo's ``--vec-env`` takes ``dummy`` or ``subproc``; ``sb3-pg zoo train --vec-env`` also takes our
native vector envs (``gymnasium``, ``gymnasium-async``, ``gymnasium-native``, ``envpool``: see
:mod:`sb3_pg.vec_envs`), which :class:`ZooExperimentManager` gives the training envs (evaluation
stays on RL Zoo's ``DummyVecEnv``), with ``VecMonitor`` writing RL Zoo's ``monitor.csv``.

Config files are read with ``yaml.safe_load`` and ``policy_kwargs`` strings (which RL Zoo ``eval``-s)
are parsed here with :func:`parse_policy_kwargs`, which accepts only literals, ``dict(...)`` and
``nn.<Module>`` names: our loaders never execute configuration text.
"""

import ast
import functools
import importlib.resources
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import rl_zoo3
import rl_zoo3.train
import yaml
from rl_zoo3 import hyperparams_opt
from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.utils import SimpleLinearSchedule, linear_schedule
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.vec_env import VecEnv, VecMonitor
from torch import nn

from sb3_pg.a2c import A2C
from sb3_pg.common.yaml_text import yaml_value
from sb3_pg.evaluation import eval_callback_class
from sb3_pg.maskable import MaskableA2C, MaskableReinforce
from sb3_pg.recurrent import RecurrentA2C, RecurrentReinforce
from sb3_pg.reinforce import Reinforce
from sb3_pg.vec_envs import VEC_ENV_KINDS, check_vec_env, make_vec_env_of

# Our algorithms by their RL Zoo name (also the name of their zoo_configs/ file)
OUR_ALGOS: dict[str, type[Reinforce] | type[A2C]] = {
    "reinforce": Reinforce,
    "pg_a2c": A2C,
    "maskable_reinforce": MaskableReinforce,
    "maskable_a2c": MaskableA2C,
    "recurrent_reinforce": RecurrentReinforce,
    "recurrent_a2c": RecurrentA2C,
}
SCHEDULE_KEYS = ("critic_learning_rate",)  # ours; RL Zoo converts learning_rate itself
# Keys of an RL Zoo entry that are not algorithm arguments (RL Zoo's ExperimentManager reads them)
ZOO_KEYS: dict[str, type | tuple[type, ...]] = {
    "n_envs": int,
    "n_timesteps": (int, float),
    "policy": str,
    "normalize": (bool, str, dict),
    "env_wrapper": (str, list, dict),
    "vec_env_wrapper": (str, list, dict),
    "frame_stack": int,
    "callback": (str, list, dict),
    "env_kwargs": dict,
    "eval_env_kwargs": dict,
    "monitor_kwargs": (dict, str),
    "normalize_kwargs": (dict, str),
}


class ZooConfigError(ValueError):
    """An RL Zoo config file, entry or key that is wrong; the message names all three."""


def config_path(algo: str) -> Path:
    """Our config file for ``algo`` (``zoo_configs/<algo>.yml``, shipped with the package)."""
    return Path(str(importlib.resources.files("zoo_configs") / f"{algo}.yml"))


def parse_policy_kwargs(text: str) -> dict[str, Any]:
    """
    Parse a ``policy_kwargs`` string of RL Zoo's format without executing it.

    :param text: for example ``"dict(net_arch=dict(pi=[64], vf=[64]), activation_fn=nn.ReLU)"``
    :return: the keyword arguments
    :raises ValueError: anything but literals, ``dict(...)`` calls and ``nn.<Module>`` names
    """

    def convert(node: ast.AST) -> Any:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
            return {keyword.arg: convert(keyword.value) for keyword in node.keywords if keyword.arg}
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "nn":
            module = getattr(nn, node.attr, None)
            if isinstance(module, type) and issubclass(module, nn.Module):
                return module
            raise ValueError(f"nn.{node.attr} is not a torch.nn module")
        if isinstance(node, ast.Dict):
            return {ast.literal_eval(key): convert(value) for key, value in zip(node.keys, node.values, strict=True) if key}
        if isinstance(node, ast.List | ast.Tuple):
            items = [convert(item) for item in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        return ast.literal_eval(node)  # numbers, strings, booleans, None; anything else raises

    try:
        parsed = convert(ast.parse(text.strip(), mode="eval").body)
    except (SyntaxError, ValueError) as error:
        raise ValueError(f"cannot parse {text!r}: {error}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"{text!r} is not a dict")
    return parsed


def format_policy_kwargs(kwargs: dict[str, Any]) -> str:
    """
    The inverse of :func:`parse_policy_kwargs`: RL Zoo's ``dict(...)`` spelling, ``torch.nn``
    modules as ``nn.<Module>`` (for YAML files and JSON storage, which cannot hold classes).

    :raises ValueError: for a value that spelling cannot express
    """

    def spell(value: Any) -> str:
        if isinstance(value, dict):
            if all(isinstance(key, str) and key.isidentifier() for key in value):
                return "dict(" + ", ".join(f"{key}={spell(item)}" for key, item in value.items()) + ")"
            return "{" + ", ".join(f"{key!r}: {spell(item)}" for key, item in value.items()) + "}"
        if isinstance(value, type) and issubclass(value, nn.Module):
            name = value.__name__
            if getattr(nn, name, None) is value:
                return f"nn.{name}"
        if isinstance(value, list):
            return "[" + ", ".join(spell(item) for item in value) + "]"
        if isinstance(value, tuple):
            return "(" + "".join(f"{spell(item)}, " for item in value).rstrip(" ") + ")"
        if value is None or isinstance(value, (bool, int, float, str)):
            return repr(value)
        raise ValueError(f"`policy_kwargs`: {value!r} has no RL Zoo spelling")

    return spell(kwargs)


def has_classes(value: Any) -> bool:
    """Whether a (nested) value holds a class, which YAML and JSON cannot store."""
    if isinstance(value, dict):
        return any(has_classes(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_classes(item) for item in value)
    return isinstance(value, type)


def load_config(path: Path | str) -> dict[str, dict[str, Any]]:
    """Read an RL Zoo config file safely: a mapping from env id (or ``default``) to entry."""
    path = Path(path)
    if not path.is_file():
        raise ZooConfigError(f"{path}: no such config file")
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ZooConfigError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(config, dict) or not all(isinstance(entry, dict) for entry in config.values()):
        raise ZooConfigError(f"{path}: expected a mapping from env id to a mapping of hyperparameters")
    return config


def model_kwargs(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's algorithm arguments as objects: schedules from ``lin_<x>``, parsed ``policy_kwargs``."""
    kwargs = {key: value for key, value in entry.items() if key not in ZOO_KEYS}
    for key in ("learning_rate", *SCHEDULE_KEYS):
        if isinstance(kwargs.get(key), str):
            kwargs[key] = _schedule(kwargs[key])
    if isinstance(kwargs.get("policy_kwargs"), str):
        kwargs["policy_kwargs"] = parse_policy_kwargs(kwargs["policy_kwargs"])
    return kwargs


def schedule_text(value: Any) -> Any:
    """RL Zoo's spelling of a linear schedule (``lin_<initial value>``, what :func:`model_kwargs` reads
    back); any other value as is."""
    return f"lin_{value.initial_value!r}" if isinstance(value, SimpleLinearSchedule) else value


def schedules_as_text(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments as a config entry holds them: each linear schedule as ``lin_<x>``."""
    return {key: schedule_text(value) for key, value in kwargs.items()}


def _schedule(text: str) -> Any:
    kind, _, value = text.partition("_")
    if kind != "lin":
        raise ValueError(f"unknown schedule {text!r}; use lin_<initial value> or a number")
    return linear_schedule(float(value))


def validate_entry(algo: str, path: Path | str, env_id: str, entry: dict[str, Any], build: bool = True) -> None:
    """
    Check one entry of a config file: known keys, value types, and (``build``) that the model builds.

    :raises ZooConfigError: naming the file, the env entry and the key
    """
    where = f"{path}, entry {env_id!r}"
    algo_class = OUR_ALGOS[algo]
    parameters = inspect.signature(algo_class.__init__).parameters
    accepted = set(parameters) - {"self", "env", "_init_setup_model"}
    for key, value in entry.items():
        if key in ZOO_KEYS:
            types = _types(ZOO_KEYS[key])
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):  # True is an int
                raise ZooConfigError(f"{where}, key {key!r}: expected {_type_names(ZOO_KEYS[key])}, got {value!r}")
            if key in ("n_envs", "n_timesteps") and isinstance(value, int | float) and value < 1:
                raise ZooConfigError(f"{where}, key {key!r}: must be >= 1, got {value!r}")
        elif key not in accepted:
            raise ZooConfigError(f"{where}, key {key!r}: not an argument of {algo_class.__name__} nor an RL Zoo key")
        else:
            _check_type(where, key, value, parameters[key].default)
    if "n_timesteps" not in entry:
        raise ZooConfigError(f"{where}, key 'n_timesteps': missing (RL Zoo needs it even with -n)")
    try:
        kwargs = model_kwargs(entry)
    except ValueError as error:
        raise ZooConfigError(f"{where}: {error}") from None
    if build and env_id != "default":
        env = gym.make(env_id)
        try:
            algo_class(entry.get("policy", algo_class.default_policy()), env, device="cpu", **kwargs)
        except (ValueError, TypeError, AssertionError) as error:
            raise ZooConfigError(f"{where}: {error}") from None
        finally:
            env.close()


def _check_type(where: str, key: str, value: Any, default: Any) -> None:
    if key in ("learning_rate", *SCHEDULE_KEYS) and isinstance(value, str):
        return  # a schedule such as lin_7e-4, parsed by model_kwargs
    if key == "policy_kwargs":
        expected: Any = (dict, str)
    elif default is None or default is inspect.Parameter.empty:
        return
    elif isinstance(default, bool):
        expected = bool
    elif isinstance(default, int):
        expected = int
    elif isinstance(default, float):
        expected = (int, float)
    else:
        expected = type(default)
    if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
        raise ZooConfigError(f"{where}, key {key!r}: expected {_type_names(expected)}, got {value!r}")


def _types(types: Any) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: Any) -> str:
    return " or ".join(t.__name__ for t in _types(types))


def validate_config(algo: str, path: Path | str, build: bool = True) -> dict[str, dict[str, Any]]:
    """Load and check every entry of a config file; return the config."""
    config = load_config(path)
    for env_id, entry in config.items():
        validate_entry(algo, path, env_id, entry, build)
    return config


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

    #: the training envs' kind (one of :data:`NATIVE_VEC_ENVS`), set by ``sb3-pg zoo train --vec-env``;
    #: None: RL Zoo's own (``dummy`` or ``subproc``)
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
        algo = OUR_ALGOS.get(self.algo)
        if algo is None or eval_callback_class(algo) is EvalCallback:
            return
        masked = eval_callback_class(algo)
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
        for key in SCHEDULE_KEYS:
            if isinstance(hyperparams.get(key), str):
                hyperparams[key] = _schedule(hyperparams[key])
        return hyperparams


def _converter(kwargs_from_params: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """RL Zoo's converter (``--trial-id``): a trial's arguments as a config entry holds them, a linear
    schedule as ``lin_<x>`` (RL Zoo's ``_preprocess_schedules`` takes text or numbers only)."""

    def convert(params: dict[str, Any]) -> dict[str, Any]:
        return schedules_as_text(kwargs_from_params(params))

    return convert


def register() -> None:
    """Add our algorithms, their samplers and converters, and our schedule keys to RL Zoo (idempotent)."""
    from tuning.search_space import SEARCH_SPACES, sample_zoo_params

    for name, algo in OUR_ALGOS.items():
        rl_zoo3.ALGOS[name] = algo
        # RL Zoo's registries are typed after their first function; ours have the same call signature
        hyperparams_opt.HYPERPARAMS_SAMPLER[name] = sample_zoo_params(name)  # type: ignore[assignment]
        hyperparams_opt.HYPERPARAMS_CONVERTER[name] = _converter(SEARCH_SPACES[name].kwargs_from_params)  # type: ignore[assignment]
    rl_zoo3.train.ExperimentManager = ZooExperimentManager  # type: ignore[misc]


def zoo_main(argv: list[str]) -> int:
    """
    ``sb3-pg zoo train|enjoy [rl_zoo3 arguments]``: RL Zoo's own commands with our algorithms registered.

    For our algorithms ``--conf-file`` defaults to ``zoo_configs/<algo>.yml``, which is validated
    first; SB3's algorithms keep RL Zoo's own configs.
    """
    if not argv or argv[0] not in ("train", "enjoy"):
        print("usage: sb3-pg zoo {train,enjoy} [rl_zoo3 arguments]", file=sys.stderr)
        return 2
    command, rest = argv[0], list(argv[1:])
    register()
    algo = _option(rest, "--algo")
    vec_env = _option(rest, "--vec-env")
    if command == "train" and vec_env in NATIVE_VEC_ENVS:
        try:
            check_vec_env("--vec-env", vec_env, _option(rest, "--env") or "CartPole-v1")
        except ValueError as error:
            print(f"sb3-pg zoo: error: {error}", file=sys.stderr)
            return 2
        rest = _with_option(rest, "--vec-env", "dummy")  # RL Zoo's parser knows dummy and subproc only
    else:
        vec_env = None
    if command == "train" and algo in OUR_ALGOS:
        conf = _option(rest, "--conf-file", "-conf")
        if conf is None:
            conf = str(config_path(algo))
            rest += ["--conf-file", conf]
        try:
            if conf.endswith((".yml", ".yaml")):
                validate_config(algo, conf, build=False)
            validate_params(algo, _option(rest, "--env") or "default", _values(rest, "-params", "--hyperparams"))
        except ZooConfigError as error:
            print(f"sb3-pg zoo: error: {error}", file=sys.stderr)
            return 2
    if command == "enjoy":
        folder, algo_folder = _option(rest, "-f", "--folder") or "rl-trained-agents", algo or ""
        if not (Path(folder) / algo_folder).is_dir():
            print(f"sb3-pg zoo: error: argument -f: no trained {algo_folder} agents in {folder!r}", file=sys.stderr)
            return 2
    module = importlib.import_module(f"rl_zoo3.{command}")
    saved_argv = sys.argv
    sys.argv = [f"rl_zoo3.{command}", *rest]
    ZooExperimentManager.native_vec_env = vec_env
    try:
        getattr(module, command)()
    finally:
        sys.argv = saved_argv
        ZooExperimentManager.native_vec_env = None
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


def _values(argv: list[str], *names: str) -> list[str]:
    """The values after an option that takes several (``-params a:1 b:2``), up to the next option."""
    for i, arg in enumerate(argv):
        if arg in names:
            values = []
            for value in argv[i + 1 :]:
                if value.startswith("-") and not value[1:2].isdigit():
                    break
                values.append(value)
            return values
    return []


def _with_option(argv: list[str], name: str, value: str) -> list[str]:
    """``argv`` with the value of ``name`` (``--name value`` or ``--name=value``) replaced."""
    replaced = list(argv)
    for i, arg in enumerate(replaced):
        if arg == name and i + 1 < len(replaced):
            replaced[i + 1] = value
        elif arg.startswith(f"{name}="):
            replaced[i] = f"{name}={value}"
    return replaced


def _option(argv: list[str], *names: str) -> str | None:
    """The value of an option in an argument list (``--name value`` or ``--name=value``)."""
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(f"{name}="):
                return arg.split("=", 1)[1]
    return None
