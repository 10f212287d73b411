"""Gymnasium ids for the envs our tools need beyond Gymnasium's own, registered on ``import sb3_pg``.

- ``InvalidActionIdentity-v0``: sb3-contrib's masked identity task (``InvalidActionEnvDiscrete``:
  the observation is one of 70 actions, reward 1 for taking it, 100 steps; at every step 55 of the
  other actions are invalid and ``action_masks()`` says which), the task sb3-contrib's own
  ``MaskablePPO`` test learns. Here its draws come from the env's seeded generator, so that
  ``reset(seed=...)`` makes a run repeatable (sb3-contrib's version draws from NumPy's global one).
"""

import gymnasium as gym
import numpy as np
from sb3_contrib.common.envs import InvalidActionEnvDiscrete

INVALID_ACTION_IDENTITY = "InvalidActionIdentity-v0"


def in_env_family(env_id: str, family: str) -> bool:
    """
    Whether a registered env belongs to one of Gymnasium's env families, read from its entry point
    (``gymnasium.envs.mujoco.ant_v5:AntEnv`` is in ``"mujoco"``).

    :param env_id: a Gymnasium env id (an unregistered one is in no family)
    :param family: ``"mujoco"``, ``"box2d"``, ``"classic_control"``, ...
    """
    return env_id in gym.registry and f"envs.{family}" in str(gym.registry[env_id].entry_point)


class SeededInvalidActionEnvDiscrete(InvalidActionEnvDiscrete):
    """sb3-contrib's ``InvalidActionEnvDiscrete``, drawing its target and invalid actions from ``self.np_random``."""

    def _choose_next_state(self) -> None:
        self.state = int(self.np_random.integers(int(self.action_space.n)))  # type: ignore[attr-defined]
        others = np.delete(self.possible_actions, self.state)
        self.invalid_actions = self.np_random.choice(others, self.n_invalid_actions, replace=False).tolist()


def register_envs() -> None:
    """Register our env ids with Gymnasium (idempotent)."""
    if INVALID_ACTION_IDENTITY not in gym.registry:
        gym.register(
            INVALID_ACTION_IDENTITY,
            entry_point=SeededInvalidActionEnvDiscrete,  # type: ignore[arg-type]
            max_episode_steps=100,
            kwargs={"dim": 70, "ep_length": 100, "n_invalid_actions": 55},
        )
