"""The options several ``sb3-pg`` commands take, each defined once with one spelling, and the argument
types they share. A command adds the ones it takes with the ``add_*`` functions; an older spelling
stays as a hidden alias."""

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

from sb3_pg.common.yaml_text import yaml_value
from sb3_pg.envs import install_hint
from sb3_pg.vec_envs import VEC_ENV_KINDS, vec_env_help

RL_ZOO_BUDGET = "rl-zoo"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with each option's default, unless its help already says it in words or there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        nothing = default is None or default is False or default == [] or default == argparse.SUPPRESS
        if "default" in text or nothing or not action.option_strings:
            return text
        return super()._get_help_string(action)


class MissingExtra(Exception):
    """A command needs an extra that is not installed; the message is the one line to print."""


def require_extra(extra: str, *modules: str) -> None:
    """
    :raises MissingExtra: naming the extra (and how to install it) if one of ``modules`` is missing
    """
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        raise MissingExtra(f"this command needs {', '.join(missing)} (the {extra!r} extra): {install_hint(extra)}")


# The tools' modules, which the core install leaves out (the `extra` extra)
TOOLS_MODULES = ("optuna", "rl_zoo3", "rliable", "pandas", "matplotlib")


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
    if text == RL_ZOO_BUDGET:
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
        from sb3_pg.configs import parse_policy_kwargs  # RL Zoo's spelling, parsed without executing it

        try:
            return key, parse_policy_kwargs(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"{key}: {error}") from None
    return key, yaml_value(value)


def model_path(text: str) -> Path:
    """A model file: SB3 adds ``.zip`` to a path without a suffix when it saves, so the path is named as written."""
    path = Path(text)
    return path if path.suffix else path.with_suffix(".zip")


def add_timesteps(parser: argparse.ArgumentParser, help: str, rl_zoo: bool = False, default: Any = None) -> None:
    """``--timesteps`` (``--n-timesteps``, ``tune``'s older spelling and RL Zoo's, a hidden alias): the training budget."""
    kind = budget_or_rl_zoo if rl_zoo else positive_int
    parser.add_argument("--timesteps", type=kind, default=default, help=help)
    parser.add_argument("--n-timesteps", dest="timesteps", type=kind, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_progress_bar(parser: argparse.ArgumentParser) -> None:
    """``--progress-bar`` / ``--no-progress-bar`` (default: when the output is a terminal)."""
    parser.add_argument(
        "--progress-bar",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when the output is a terminal)",
    )


def progress_bar_wanted(value: bool | None) -> bool:
    """The progress bar's setting: the user's, or on when the output is a terminal."""
    return sys.stdout.isatty() if value is None else value


def add_vec_env(parser: argparse.ArgumentParser) -> None:
    """``--vec-env``, the training envs' ``VecEnv`` (:data:`sb3_pg.vec_envs.VEC_ENV_KINDS`)."""
    parser.add_argument("--vec-env", choices=list(VEC_ENV_KINDS), default="dummy", help=vec_env_help())


def add_n_workers(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--n-workers", type=positive_int, default=1, help=help)


def add_eval_episodes(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--eval-episodes", type=positive_int, default=default, help="deterministic episodes per evaluation")
