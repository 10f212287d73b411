"""Gymnasium ids for the envs our tools need beyond Gymnasium's own, registered on ``import sb3_pg``.

- ``InvalidActionIdentity-v0``: sb3-contrib's masked identity task (``InvalidActionEnvDiscrete``:
  the observation is one of 70 actions, reward 1 for taking it, 100 steps; at every step 55 of the
  other actions are invalid and ``action_masks()`` says which), the task sb3-contrib's own
  ``MaskablePPO`` test learns. Here its draws come from the env's seeded generator, so that
  ``reset(seed=...)`` makes a run repeatable (sb3-contrib's version draws from NumPy's global one).
"""

import difflib
import importlib.util

import gymnasium as gym
import numpy as np
from sb3_contrib.common.envs import InvalidActionEnvDiscrete

INVALID_ACTION_IDENTITY = "InvalidActionIdentity-v0"
# Gymnasium env families that need an extra, and the extra that brings them
FAMILY_EXTRAS = {"box2d": ("Box2D", "box2d"), "mujoco": ("mujoco", "mujoco")}


def install_hint(extra: str) -> str:
    """How to install an extra, from the package index or in a clone."""
    return f'pip install "sb3-pg[{extra}]" (in a clone: pip install -e ".[{extra}]")'


def ensure_registered(env_id: str) -> None:
    """Register RL Zoo's envs (``CartPoleNoVel-v1``, ...) when ``env_id`` is not a Gymnasium id and RL Zoo is
    installed: RL Zoo registers them on import, and our tools take the ids RL Zoo users know."""
    if env_id not in gym.registry and importlib.util.find_spec("rl_zoo3") is not None:
        import rl_zoo3.import_envs  # noqa: F401


def check_env_id(option: str, env_id: str) -> None:
    """
    :raises ValueError: naming ``option`` if ``env_id`` is not a registered Gymnasium env (with the
        closest registered ids), or if the env needs an extra that is not installed (with the
        ``pip install`` line that brings it)
    """
    ensure_registered(env_id)
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise ValueError(f"argument {option}: unknown Gymnasium env id {env_id!r}{hint}")
    for family, (module, extra) in FAMILY_EXTRAS.items():
        if in_env_family(env_id, family) and importlib.util.find_spec(module) is None:
            raise ValueError(f"argument {option}: {env_id} needs {module}: {install_hint(extra)}")


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
