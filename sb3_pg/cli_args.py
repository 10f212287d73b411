"""Argument types and checks that every ``sb3-pg`` subcommand shares (one place, imported by each)."""

import argparse
import importlib.util
import os
import tempfile
import warnings
from typing import Any

import gymnasium as gym

from sb3_pg.common.yaml_text import yaml_value
from sb3_pg.envs import in_env_family
from sb3_pg.vec_envs import VEC_ENV_KINDS

# SB3's logger makes a new empty folder, tempdir/SB3-<date and time>, at every learn() without a
# folder of its own; a study makes thousands. The command's processes share this one instead
SB3_LOG_FOLDER = "SB3-sb3-pg"

# Gymnasium env families that need an extra, and the extra that brings it
_EXTRAS = {"box2d": ("Box2D", "box2d"), "mujoco": ("mujoco", "mujoco")}


def configure_command_process() -> None:
    """What every ``sb3-pg`` process sets first: the command's own and the helper processes it spawns."""
    import torch as th

    # One torch thread: faster for small networks, and two threads on two cores stall at times
    th.set_num_threads(1)
    # Optuna calls heartbeats and their retry "experimental" (since 2.8/2.9): used knowingly. rliable
    # passes a RandomState to arch, which arch deprecates: their business, not the user's.
    warnings.filterwarnings("ignore", message=".*is experimental.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module="arch")
    # SB3 writes nothing there unless asked for log files without a folder; a user's own $SB3_LOGDIR wins
    os.environ.setdefault("SB3_LOGDIR", os.path.join(tempfile.gettempdir(), SB3_LOG_FOLDER))


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with each option's default, unless its help already says it in words or there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        nothing = default is None or default is False or default == [] or default == argparse.SUPPRESS
        if "default" in text or nothing or not action.option_strings:
            return text
        return super()._get_help_string(action)


def add_vec_env_argument(parser: argparse.ArgumentParser) -> None:
    """``--vec-env``, the training envs' ``VecEnv`` (:func:`sb3_pg.vec_envs.make_vec_env_of`), as every subcommand takes it."""
    parser.add_argument(
        "--vec-env",
        choices=VEC_ENV_KINDS,
        default="dummy",
        help="training VecEnv: SB3's dummy or subproc, Gymnasium's sync (gymnasium) or async vector env, the env's"
        " own vector implementation (gymnasium-native: CartPole), or EnvPool",
    )


def positive_int(text: str) -> int:
    """An integer >= 1, written as RL Zoo allows (``100000``, ``1e5``, ``100_000``)."""
    try:
        number = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}") from None
    if not number.is_integer() or number < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}")
    return int(number)


def budget_or_rl_zoo(text: str) -> int | str:
    """``--timesteps`` of ``sb3-pg compare``: an integer >= 1, or ``rl-zoo`` (each env at RL Zoo's A2C budget)."""
    if text == "rl-zoo":
        return text
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1 or rl-zoo; got {text!r}") from None


def key_value(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``, the value read as YAML (numbers, booleans, null, lists: never executed as code),
    or for ``policy_kwargs`` RL Zoo's ``dict(...)`` spelling too."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE; got {text!r}")
    if key == "policy_kwargs" and value.strip().startswith("dict("):
        from sb3_pg.zoo import parse_policy_kwargs  # RL Zoo's spelling, parsed without executing it

        try:
            return key, parse_policy_kwargs(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return key, yaml_value(value)


def check_env_id(option: str, env_id: str) -> None:
    """
    :raises ValueError: naming ``option`` if ``env_id`` is not a registered Gymnasium env, or if the
        env needs an extra that is not installed (with the ``pip install`` line that brings it)
    """
    if env_id not in gym.registry:
        raise ValueError(f"argument {option}: unknown Gymnasium env id {env_id!r}")
    for family, (module, extra) in _EXTRAS.items():
        if in_env_family(env_id, family) and importlib.util.find_spec(module) is None:
            raise ValueError(f'argument {option}: {env_id} needs {module}: pip install -e ".[{extra}]"')


def check_action_masks(option: str, env_id: str, algo: str, algo_class: type) -> None:
    """
    :raises ValueError: naming ``option`` if ``algo`` is one of our maskable algorithms and
        ``env_id``'s env has no ``action_masks()`` method
    """
    from sb3_contrib.common.maskable.utils import is_masking_supported

    from sb3_pg.maskable.algorithms import MaskableMixin

    if not issubclass(algo_class, MaskableMixin):
        return
    env = gym.make(env_id)
    try:
        if not is_masking_supported(env):
            raise ValueError(
                f"argument {option}: {env_id} has no action_masks() method, which {algo} needs "
                "(InvalidActionIdentity-v0 has one; or wrap an env in sb3-contrib's ActionMasker)"
            )
    finally:
        env.close()
