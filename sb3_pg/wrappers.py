"""Gymnasium wrappers an RL Zoo entry can name in its ``env_wrapper`` (``sb3_pg.wrappers.<Class>``)."""

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# Where tanh is 1 to float64 precision: the agent's actions are bounded there (SB3 needs finite bounds)
SATURATION = 20.0


class TanhSquashedActions(gym.ActionWrapper):
    """
    Actions squashed by ``tanh`` into the env's bounds: the agent acts in ``R^n`` and the env receives
    ``low + (tanh(u) + 1) / 2 * (high - low)``.

    With SB3's Gaussian policies this is Tianshou's ``action_bound_method="tanh"`` (its MuJoCo
    REINFORCE): the policy's log-probability is the Gaussian's of ``u``, without the ``tanh``
    Jacobian, and the deterministic action is ``tanh`` of the mean. The agent's action space is
    ``[-20, 20]^n``: SB3 needs finite bounds, and clipping to these changes no action the env receives
    (``tanh(20)`` is 1 to float64 precision).

    :param env: an env with a bounded ``Box`` action space
    :raises ValueError: if its action space is not a bounded ``Box``
    """

    def __init__(self, env: gym.Env):
        space = env.action_space
        if not (isinstance(space, spaces.Box) and space.is_bounded("both")):
            raise ValueError(f"TanhSquashedActions needs a bounded Box action space; got {space!r}")
        super().__init__(env)
        self._low = space.low.astype(np.float64)
        self._half_range = (space.high.astype(np.float64) - self._low) / 2.0
        self._dtype = space.dtype
        self.action_space = spaces.Box(-SATURATION, SATURATION, shape=space.shape, dtype=space.dtype)

    def action(self, action: Any) -> np.ndarray:
        squashed = self._low + (np.tanh(np.asarray(action, dtype=np.float64)) + 1.0) * self._half_range
        return squashed.astype(self._dtype)
