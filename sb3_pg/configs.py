"""RL Zoo's hyperparameter files, read without RL Zoo: our tuned entries (``sb3_pg/zoo_configs/``),
a user's ``--conf-file``, entries checked key by key, ``lin_<x>`` schedules and ``policy_kwargs``
strings parsed without executing them. ``sb3-pg train`` needs only this; ``sb3-pg zoo`` hands the
same files to RL Zoo itself.

Config files are read with ``yaml.safe_load`` and ``policy_kwargs`` strings (which RL Zoo ``eval``-s)
are parsed here with :func:`parse_policy_kwargs`, which accepts only literals, ``dict(...)`` and
``nn.<Module>`` names: our loaders never execute configuration text.
"""

import ast
import importlib
import importlib.resources
import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml
from torch import nn

from sb3_pg.registry import ALGORITHMS

SCHEDULE_KEYS = ("learning_rate", "critic_learning_rate")  # the keys lin_<x> schedules are read for
# Keys of an RL Zoo entry that are not algorithm arguments (RL Zoo's ExperimentManager reads them)
ZOO_KEYS: dict[str, type | tuple[type, ...]] = {
    "n_envs": int,
    "n_timesteps": (int, float),
    "policy": str,
    "normalize": (bool, str, dict),
    "env_wrapper": (str, list, dict, type(None)),
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


class LinearSchedule:
    """
    RL Zoo's ``lin_<x>``: ``x * progress_remaining``, from ``x`` at the start of training to 0 at the
    end (the same arithmetic as ``rl_zoo3.utils.SimpleLinearSchedule``, so that runs match RL Zoo's).

    :param initial_value: the value at the start
    """

    def __init__(self, initial_value: float):
        self.initial_value = initial_value

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.initial_value

    def __repr__(self) -> str:
        return f"LinearSchedule({self.initial_value!r})"


# The keys RL Zoo's own _preprocess_schedules reads lin_<x> for (SB3's algorithms' entries)
RL_ZOO_SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf", "delta_std")


def rl_zoo_config_path(zoo_name: str) -> Path:
    """
    The config file RL Zoo ships for one of its algorithms (``a2c``, ``ppo``, ...).

    :raises ValueError: without RL Zoo (the ``extra`` extra)
    """
    spec = importlib.util.find_spec("rl_zoo3")
    if spec is None or spec.origin is None:
        raise ValueError(
            'RL Zoo\'s config files need rl_zoo3: pip install "sb3-pg[extra]" (in a clone: pip install -e ".[extra]")'
        )
    return Path(spec.origin).parent / "hyperparams" / f"{zoo_name}.yml"


def rl_zoo_a2c_budget(env_id: str) -> int:
    """
    RL Zoo's training budget for A2C on ``env_id``: the ``n_timesteps`` of its entry in the
    ``a2c.yml`` bundled with RL Zoo (or of the same env's in another version, :func:`entry_key`).

    :raises ValueError: if RL Zoo's ``a2c.yml`` has no entry for the env
    """
    config = load_config(rl_zoo_config_path("a2c"))
    key = entry_key(config, env_id, other_versions=True)
    if key not in config or "n_timesteps" not in config[key]:
        known = ", ".join(sorted(key for key in config if "n_timesteps" in config[key]))
        raise ValueError(f"argument --timesteps: RL Zoo's a2c.yml has no budget for {env_id}; it has {known}")
    return int(float(config[key]["n_timesteps"]))


def config_path(algo: str) -> Path:
    """Our config file for ``algo`` (``zoo_configs/<algo>.yml``, shipped in the package as ``sb3_pg.zoo_configs``)."""
    return Path(str(importlib.resources.files("sb3_pg.zoo_configs") / f"{algo}.yml"))


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


def env_wrapper(spec: Any) -> Callable[[gym.Env], gym.Env] | None:
    """
    RL Zoo's ``env_wrapper`` as a function wrapping one env, read as ``rl_zoo3.utils.get_wrapper_class``
    reads it: ``"module.Class"``, ``{"module.Class": {kwargs}}``, or a list of them applied in order.

    :param spec: the entry's value, or None for no wrapper
    :raises ValueError: a value of another form, or a class that cannot be imported
    """
    if spec is None:
        return None
    wrappers: list[tuple[type, dict[str, Any]]] = []
    for item in spec if isinstance(spec, list) else [spec]:
        if isinstance(item, dict) and len(item) == 1:
            name, kwargs = next(iter(item.items()))  # RL Zoo needs the arguments as a mapping, {} for none
        else:
            name, kwargs = item, {}
        if not isinstance(name, str) or "." not in name or not isinstance(kwargs, dict):
            raise ValueError(f"expected module.Class, {{module.Class: {{arguments}}}} or a list of them; got {item!r}")
        module_name, class_name = name.rsplit(".", 1)
        try:
            wrapper_class = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            raise ValueError(f"cannot import {name}: {error}") from None
        wrappers.append((wrapper_class, kwargs))

    def wrap(env: gym.Env) -> gym.Env:
        for wrapper_class, kwargs in wrappers:
            env = wrapper_class(env, **kwargs)
        return env

    return wrap


def check_env_wrapper(where: str, spec: Any, env_id: str | None = None) -> None:
    """
    Check RL Zoo's ``env_wrapper`` ``spec`` before any work: its form and imports, and with an
    ``env_id``, that it wraps that env (built once).

    :param where: the file (or option) and entry, for the message
    :raises ZooConfigError: naming ``where`` and the key, if a wrapper cannot be imported or built
    """
    try:
        wrap = env_wrapper(spec)
        if wrap is None or env_id is None:
            return
        env = gym.make(env_id)
        try:
            wrap(env).close()
        finally:
            env.close()
    except (ValueError, TypeError) as error:
        raise ZooConfigError(f"{where}, key 'env_wrapper': {error}") from None


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


def schedule(text: str) -> LinearSchedule:
    """
    :param text: ``lin_<initial value>``
    :raises ValueError: for another spelling
    """
    kind, _, value = text.partition("_")
    if kind != "lin":
        raise ValueError(f"unknown schedule {text!r}; use lin_<initial value> or a number")
    try:
        return LinearSchedule(float(value))
    except ValueError:
        raise ValueError(f"unknown schedule {text!r}; use lin_<initial value> or a number") from None


def with_schedules(kwargs: dict[str, Any], keys: tuple[str, ...] = SCHEDULE_KEYS) -> dict[str, Any]:
    """Keyword arguments with each ``lin_<x>`` of ``keys`` made a :class:`LinearSchedule` (what RL
    Zoo's ``_preprocess_schedules`` does, for our ``critic_learning_rate`` too)."""
    return {key: schedule(value) if key in keys and isinstance(value, str) else value for key, value in kwargs.items()}


def model_kwargs(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's algorithm arguments as objects: schedules from ``lin_<x>``, parsed ``policy_kwargs``."""
    kwargs = with_schedules({key: value for key, value in entry.items() if key not in ZOO_KEYS})
    if isinstance(kwargs.get("policy_kwargs"), str):
        kwargs["policy_kwargs"] = parse_policy_kwargs(kwargs["policy_kwargs"])
    return kwargs


def linear_initial_value(value: Any) -> float | None:
    """The initial value of a linear schedule (ours, or RL Zoo's ``SimpleLinearSchedule``); None for anything else."""
    initial = getattr(value, "initial_value", None)
    return float(initial) if callable(value) and initial is not None else None


def schedule_text(value: Any) -> Any:
    """RL Zoo's spelling of a linear schedule (ours or RL Zoo's: ``lin_<initial value>``, what
    :func:`model_kwargs` reads back); any other value as is."""
    initial = linear_initial_value(value)
    return value if initial is None else f"lin_{value.initial_value!r}"


def schedules_as_text(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments as a config entry holds them: each linear schedule as ``lin_<x>``."""
    return {key: schedule_text(value) for key, value in kwargs.items()}


def entry_key(config: dict[str, Any], env_id: str, other_versions: bool = False) -> str:
    """
    The key of ``env_id``'s entry in an RL Zoo config: ``env_id`` itself, or with ``other_versions``
    and no entry of its own, the newest entry of the same env in an older version (RL Zoo has not
    caught up with Gymnasium's MuJoCo v5: ``HalfCheetah-v5`` reads its ``HalfCheetah-v4``; an env
    with only newer entries, such as ``CartPole-v0``, has none); ``env_id`` when there is none.
    """
    if env_id in config or not other_versions:
        return env_id
    name, _, version = env_id.rpartition("-v")
    if not name or not version.isdigit():
        return env_id
    older = []
    for key in config:
        other, _, other_version = key.rpartition("-v")
        if other == name and other_version.isdigit() and int(other_version) < int(version):
            older.append(int(other_version))
    return f"{name}-v{max(older)}" if older else env_id


def validate_entry(algo: str, path: Path | str, env_id: str, entry: dict[str, Any], build: bool = True) -> None:
    """
    Check one entry of a config file: known keys, value types, and (``build``) that the model builds.

    :raises ZooConfigError: naming the file, the env entry and the key
    """
    where = f"{path}, entry {env_id!r}"
    algo_class = ALGORITHMS[algo].algo
    parameters = inspect.signature(algo_class.__init__).parameters
    accepted = set(parameters) - {"self", "env", "_init_setup_model"}
    for key, value in entry.items():
        if key in ZOO_KEYS:
            _check_zoo_key(where, key, value)
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


def _check_zoo_key(where: str, key: str, value: Any) -> None:
    """One of RL Zoo's own keys (:data:`ZOO_KEYS`): its type, and its value where it has a range."""
    types = _types(ZOO_KEYS[key])
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):  # True is an int
        raise ZooConfigError(f"{where}, key {key!r}: expected {_type_names(ZOO_KEYS[key])}, got {value!r}")
    if key in ("n_envs", "n_timesteps") and isinstance(value, int | float) and value < 1:
        raise ZooConfigError(f"{where}, key {key!r}: must be >= 1, got {value!r}")
    if key == "normalize" and isinstance(value, str):
        _check_normalize(where, value)
    if key == "env_wrapper":
        check_env_wrapper(where, value)


def _check_normalize(where: str, text: str) -> None:
    """RL Zoo's ``normalize`` as a string is ``VecNormalize``'s arguments: ``"dict(norm_obs=True, norm_reward=False)"``."""
    try:
        parse_policy_kwargs(text)
    except ValueError:
        raise ZooConfigError(
            f"{where}, key 'normalize': expected true, false or VecNormalize arguments such as "
            f"dict(norm_obs=True, norm_reward=False); got {text!r}"
        ) from None


def _check_type(where: str, key: str, value: Any, default: Any) -> None:
    if key in SCHEDULE_KEYS and isinstance(value, str):
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
