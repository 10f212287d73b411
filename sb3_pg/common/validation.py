"""Argument checks shared by the algorithms: each raises a ``ValueError`` that names the argument
and the values it accepts, at construction time."""

import math
from collections.abc import Callable, Sequence
from typing import Any

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
    """:raises ValueError: if ``value`` is not one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}")


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_range(name: str, value: Any, low: float, high: float = math.inf) -> None:
    """:raises ValueError: if ``value`` is not a finite number in ``[low, high]``."""
    if not _is_real(value) or not low <= value <= high:
        bounds = f"[{low}, {high}]" if math.isfinite(high) else f">= {low}"
        raise ValueError(f"`{name}` must be a number in {bounds}; got {value!r}")


def check_positive_int(name: str, value: Any) -> None:
    """:raises ValueError: if ``value`` is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1; got {value!r}")


def check_learning_rate(name: str, value: Any) -> None:
    """
    A learning rate is a number >= 0 or a schedule (a callable of the progress remaining, from 1 to 0)
    whose value at the start is a number >= 0.

    :raises ValueError: otherwise
    """
    if callable(value):
        schedule: Callable[[float], Any] = value
        start = schedule(1.0)
        if not _is_real(start) or start < 0:
            raise ValueError(f"`{name}` must be a number >= 0 or a schedule returning one; the schedule gave {start!r} at 1.0")
        return
    check_range(name, value, 0.0)


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
