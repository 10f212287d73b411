"""Episodes that always end: an algorithm that trains on complete episodes needs a finite limit."""

import gymnasium as gym
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.env_util import is_wrapped
from stable_baselines3.common.type_aliases import GymEnv
from stable_baselines3.common.vec_env import VecEnv

_HOW = (
    "pass `max_episode_steps=N` (episodes are cut there: a time-limit truncation) "
    "or wrap the env in gymnasium.wrappers.TimeLimit"
)


def with_episode_limit(env: GymEnv | str | None, max_episode_steps: int | None) -> GymEnv | str | None:
    """
    The env, with a ``TimeLimit`` of ``max_episode_steps`` when one is given.

    :param env: an env id, a Gymnasium env, a VecEnv, or None (a model being loaded)
    :param max_episode_steps: the longest episode, or None to keep the env's own limit
    :return: the env to train on (an env id is made into an env); :func:`check_episode_limit`
        checks that it has a limit
    :raises ValueError: if ``max_episode_steps`` cannot be applied
    """
    if env is None:
        if max_episode_steps is not None:
            raise ValueError("`max_episode_steps` needs an `env` to apply to")
        return None
    if isinstance(env, str):
        env = gym.make(env)
    if isinstance(env, VecEnv):
        if max_episode_steps is not None:
            raise ValueError(
                "`max_episode_steps` applies to an env id or a gymnasium.Env; for a VecEnv, wrap its envs in "
                "gymnasium.wrappers.TimeLimit when making it (make_vec_env(..., wrapper_class=TimeLimit, "
                "wrapper_kwargs=dict(max_episode_steps=N)))"
            )
        return env
    if max_episode_steps is not None:
        return TimeLimit(env, max_episode_steps)
    return env


def check_episode_limit(env: GymEnv) -> None:
    """
    :raises ValueError: if an env (or any env of a VecEnv) has no ``TimeLimit`` wrapper. A VecEnv
        that cannot say is trusted.
    """
    if isinstance(env, VecEnv):
        try:
            limited = all(env.env_is_wrapped(TimeLimit))
        except Exception:  # a VecEnv that cannot answer (a custom one, or a subprocess that cannot unpickle)
            return
    else:
        limited = is_wrapped(env, TimeLimit)
    if not limited:
        raise ValueError(f"`env` has no episode limit, and REINFORCE trains on complete episodes: {_HOW}")
