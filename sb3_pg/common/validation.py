"""Argument checks shared by the algorithms: each raises a ``ValueError`` that names the argument
and the values it accepts, at construction time."""

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

SUPPORTED_ACTION_SPACES: tuple[type[spaces.Space], ...] = (
    spaces.Box,
    spaces.Discrete,
    spaces.MultiDiscrete,
    spaces.MultiBinary,
)
SUPPORTED_OBSERVATION_SPACES: tuple[type[spaces.Space], ...] = (
    spaces.Box,
    spaces.Discrete,
    spaces.MultiDiscrete,
    spaces.MultiBinary,
    spaces.Dict,
)


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    """:raises ValueError: if ``value`` is not one of ``allowed`` (of the same type: 1 is not True)."""
    if not any(value == a and _is_bool(value) == _is_bool(a) for a in allowed):
        raise ValueError(f"`{name}` must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}")


def check_bool(name: str, value: Any) -> None:
    """:raises ValueError: if ``value`` is not a boolean (1 and 0 are refused: they are not flags)."""
    check_choice(name, value, (True, False))


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """Whether ``value`` is a finite real number (not a boolean)."""
    # NumPy scalars count (np.float32(0.99), np.int64(5)), as SB3 takes them; booleans do not
    return isinstance(value, numbers.Real) and not _is_bool(value) and math.isfinite(value)


def check_range(name: str, value: Any, low: float, high: float = math.inf) -> None:
    """:raises ValueError: if ``value`` is not a finite number in ``[low, high]``."""
    if not is_real(value) or not low <= value <= high:
        bounds = f"in [{low}, {high}]" if math.isfinite(high) else f">= {low}"
        raise ValueError(f"`{name}` must be a number {bounds}; got {value!r}")


def check_positive(name: str, value: Any) -> None:
    """:raises ValueError: if ``value`` is not a finite number > 0."""
    if not is_real(value) or value <= 0:
        raise ValueError(f"`{name}` must be a number > 0; got {value!r}")


def check_positive_int(name: str, value: Any) -> None:
    """:raises ValueError: if ``value`` is not an integer >= 1 (NumPy integers included)."""
    if _is_bool(value) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"`{name}` must be an integer >= 1; got {value!r}")


def check_net_arch(policy_kwargs: dict[str, Any] | None) -> None:
    """:raises ValueError: if ``policy_kwargs["net_arch"]`` is not a list of layer sizes or a dict of them."""
    net_arch = (policy_kwargs or {}).get("net_arch")
    if net_arch is None:
        return

    def sizes(value: Any) -> bool:
        return isinstance(value, list) and all(
            isinstance(v, numbers.Integral) and not _is_bool(v) and int(v) > 0 for v in value
        )

    def as_dict(value: Any) -> bool:
        return isinstance(value, dict) and set(value) <= {"pi", "vf"} and all(sizes(v) for v in value.values())

    # SB3's spelling before v1.8, [dict(pi=..., vf=...)]: SB3 still takes the dict (with a deprecation
    # warning, from the policy) and ignores the rest of the list, and so do we
    old_spelling = isinstance(net_arch, list) and len(net_arch) > 0 and isinstance(net_arch[0], dict)
    if not (sizes(net_arch) or as_dict(net_arch) or (old_spelling and as_dict(net_arch[0]))):
        raise ValueError(
            "`policy_kwargs['net_arch']` must be a list of layer sizes ([64, 64]) or a dict of them "
            f"(dict(pi=[64, 64], vf=[64, 64])); got {net_arch!r}"
        )


def check_learning_rate(name: str, value: Any) -> None:
    """
    A learning rate is a number >= 0 or a schedule (a callable of the progress remaining, from 1 to 0)
    whose value at the start is a number >= 0.

    :raises ValueError: otherwise
    """
    if callable(value):
        schedule: Callable[[float], Any] = value
        for progress in (1.0, 0.5, 0.0):  # the start, the middle and the end of training
            rate = schedule(progress)
            if not is_real(rate) or rate < 0:
                raise ValueError(
                    f"`{name}` must be a number >= 0 or a schedule returning one; the schedule gave {rate!r} at {progress}"
                )
        return
    check_range(name, value, 0.0)


def check_tensorboard(tensorboard_log: Any) -> None:
    """
    :raises ImportError: if ``tensorboard_log`` is set and tensorboard is not installed (SB3 finds
        out only in ``learn``, with a message that names neither the argument nor the extra)
    """
    from stable_baselines3.common import logger

    if tensorboard_log is not None and logger.SummaryWriter is None:
        raise ImportError(
            f"`tensorboard_log` ({tensorboard_log!r}) needs tensorboard, which is not installed:"
            ' pip install "sb3-pg[tensorboard]"'
        )


def check_spaces(observation_space: spaces.Space, action_space: spaces.Space) -> None:
    """:raises ValueError: if SB3's actor-critic policies cannot handle the spaces."""
    if not isinstance(action_space, SUPPORTED_ACTION_SPACES):
        allowed = ", ".join(s.__name__ for s in SUPPORTED_ACTION_SPACES)
        raise ValueError(f"`env` has an unsupported action space {action_space}; supported action spaces: {allowed}")
    if not isinstance(observation_space, SUPPORTED_OBSERVATION_SPACES):
        allowed = ", ".join(s.__name__ for s in SUPPORTED_OBSERVATION_SPACES)
        raise ValueError(f"`env` has an unsupported observation space {observation_space}; supported: {allowed}")
    if isinstance(observation_space, spaces.Dict) and any(isinstance(s, spaces.Dict) for s in observation_space.values()):
        raise ValueError(f"`env` has a nested Dict observation space {observation_space}; only one level of Dict is supported")


class BufferKwargsError(TypeError, ValueError):
    """A bad ``rollout_buffer_kwargs``: a ``TypeError`` with the wording SB3's buffers raise (the
    exception SB3 users catch), and a ``ValueError`` as every other argument check of sb3_pg."""


def check_buffer_kwargs(buffer_class: type, kwargs: dict[str, Any], set_by_algorithm: dict[str, Any]) -> dict[str, Any]:
    """
    :param buffer_class: the rollout buffer class
    :param kwargs: ``rollout_buffer_kwargs``
    :param set_by_algorithm: the buffer arguments the algorithm sets from its own arguments, with their values
    :return: the buffer's keyword arguments: ``kwargs`` with the algorithm's values (a model being
        loaded has them in its saved ``rollout_buffer_kwargs`` already)
    :raises BufferKwargsError: if ``kwargs`` sets an argument the algorithm sets, to another value, or one
        the buffer class does not take
    """
    taken = set(inspect.signature(buffer_class).parameters) - {"self", "args", "kwargs"}
    own = {"buffer_size", "observation_space", "action_space", "device", "gae_lambda", "gamma", "n_envs", *set_by_algorithm}
    for key, value in kwargs.items():
        expected = set_by_algorithm.get(key)
        # A saved model's kwargs went through JSON, which turns tuples into lists
        if key in set_by_algorithm and (value == expected or (isinstance(expected, tuple) and list(expected) == value)):
            continue
        name = buffer_class.__name__
        if key in own:
            raise BufferKwargsError(
                f"`rollout_buffer_kwargs`: {name}.__init__() got multiple values for keyword argument {key!r}: "
                "the algorithm sets it (pass it to the algorithm instead)"
            )
        if key not in taken:
            allowed = ", ".join(sorted(taken - own)) or "nothing"
            raise BufferKwargsError(
                f"`rollout_buffer_kwargs`: {name}.__init__() got an unexpected keyword argument {key!r}, "
                f"which {name} does not take; it takes {allowed}"
            )
    return {**kwargs, **set_by_algorithm}
