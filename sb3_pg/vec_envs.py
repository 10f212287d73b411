"""Gymnasium's native vector environments as SB3 ``VecEnv`` s.

SB3 steps its envs one by one in Python (``DummyVecEnv``) or in subprocesses (``SubprocVecEnv``);
``gymnasium.vector.VectorEnv`` s step many at once (``gym.make_vec(..., vectorization_mode=
"vector_entry_point")`` steps CartPole-v1 as one array operation). SB3 declined to support them
(DLR-RM/stable-baselines3#1745). :class:`GymnasiumVecEnv` gives any of them SB3's semantics exactly:

- **Auto-reset as SB3 does it**: a finished env is reset within the same ``step``; the observation
  returned is the new episode's first, the last one is ``infos[i]["terminal_observation"]``, and
  ``infos[i]["TimeLimit.truncated"]`` says a time limit cut it (so SB3 bootstraps the timeout).
  Gymnasium's three autoreset modes are handled: ``SAME_STEP`` (its ``final_obs``), and
  ``NEXT_STEP`` and ``DISABLED`` (the finished envs are reset at once with ``reset_mask``, so the
  next ``step`` is a real step for every env, as in SB3).
- **Episode statistics as** ``Monitor`` **/** ``VecMonitor`` **give them**: ``infos[i]["episode"]
  = {"r", "l", "t"}`` at each episode's end, so ``rollout/ep_rew_mean`` and ``evaluate_policy`` work.
- **Seeding as SB3's**: ``seed(s)`` seeds env ``i`` with ``s + i`` at the next reset, as
  ``DummyVecEnv`` does, so the same seeds give the same episodes (``tests/test_vec_envs.py``).
- ``get_attr``, ``set_attr`` and ``env_method`` go to Gymnasium's ``get_attr``, ``set_attr`` and
  ``call`` (sync and async vector envs); a vector env that has none says so.

Infos are built without a Python loop over the envs at steps where none finished: only the envs a
Gymnasium info key marks get an entry.
"""

import time
from collections.abc import Iterable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

VECTORIZATION_MODES = ("vector_entry_point", "sync", "async")


class GymnasiumVecEnv(VecEnv):
    """
    An SB3 ``VecEnv`` over a Gymnasium ``VectorEnv``.

    :param vector_env: the vector env (``gym.make_vec(...)``, ``SyncVectorEnv``, ``AsyncVectorEnv``,
        or an env's own vector implementation)
    :param monitor: add ``Monitor``'s episode statistics (``infos[i]["episode"]``) at each episode's end
    """

    def __init__(self, vector_env: gym.vector.VectorEnv, monitor: bool = True):
        self.vector_env = vector_env
        super().__init__(vector_env.num_envs, vector_env.single_observation_space, vector_env.single_action_space)
        self.autoreset_mode = AutoresetMode(vector_env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP))
        if self.autoreset_mode != AutoresetMode.SAME_STEP and not _has_partial_reset(vector_env):
            raise ValueError(
                f"`vector_env` ({type(vector_env).__name__}) resets finished envs at the next step and has no"
                " partial reset (reset_mask), so SB3's auto-reset cannot be given exactly; use"
                " vectorization_mode='sync' or 'async', or a vector env in the SAME_STEP autoreset mode"
            )
        self.monitor = monitor
        self._actions: np.ndarray | None = None
        self._episode_returns = np.zeros(self.num_envs)
        self._episode_lengths = np.zeros(self.num_envs, dtype=np.int64)
        self._start_time = time.time()

    def reset(self) -> VecEnvObs:
        seeds: Any = None if all(seed is None for seed in self._seeds) else list(self._seeds)
        options = self._options[0] if all(o == self._options[0] for o in self._options) and self._options[0] else None
        if any(self._options) and options is None:
            raise ValueError("GymnasiumVecEnv: set_options must give every env the same options")
        observations, infos = self.vector_env.reset(seed=seeds, options=options)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = self._split_infos(infos)
        self._episode_returns[:] = 0.0
        self._episode_lengths[:] = 0
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, terminations, truncations, gym_infos = self.vector_env.step(self._actions)
        dones = np.logical_or(terminations, truncations)
        rewards = np.asarray(rewards, dtype=np.float32)
        infos = self._split_infos(gym_infos)
        self._episode_returns += rewards
        self._episode_lengths += 1
        if dones.any():
            observations = self._finish_episodes(observations, dones, terminations, truncations, gym_infos, infos)
        return observations, rewards, dones, infos

    def _finish_episodes(
        self,
        observations: VecEnvObs,
        dones: np.ndarray,
        terminations: np.ndarray,
        truncations: np.ndarray,
        gym_infos: dict[str, Any],
        infos: list[dict[str, Any]],
    ) -> VecEnvObs:
        """SB3's auto-reset: the terminal observations into the infos, the finished envs reset now."""
        finished = np.flatnonzero(dones).tolist()
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            terminal, final_infos = gym_infos["final_obs"], gym_infos.get("final_info", {})
            for i, final_info in zip(finished, self._split_infos(final_infos, finished), strict=True):
                infos[int(i)].update(final_info)
        else:  # NEXT_STEP or DISABLED: reset them now, so that the next step is a real step for every env
            terminal = _copy(observations)
            reset_observations, reset_infos = self.vector_env.reset(options={"reset_mask": dones})
            observations = _where(dones, reset_observations, observations)
            for i, reset_info in zip(finished, self._split_infos(reset_infos, finished), strict=True):
                self.reset_infos[i] = reset_info
        for i in finished:
            infos[i]["terminal_observation"] = _index(terminal, i)
            infos[i]["TimeLimit.truncated"] = bool(truncations[i] and not terminations[i])
            if self.monitor:
                infos[i]["episode"] = {
                    "r": round(float(self._episode_returns[i]), 6),
                    "l": int(self._episode_lengths[i]),
                    "t": round(time.time() - self._start_time, 6),
                }
        self._episode_returns[finished] = 0.0
        self._episode_lengths[finished] = 0
        return observations

    def _split_infos(self, infos: dict[str, Any], indices: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """Gymnasium's dict of arrays (``key`` with its mask ``_key``) as SB3's list of dicts, one per env
        (or one per env of ``indices``)."""
        chosen = list(range(self.num_envs)) if indices is None else [int(i) for i in indices]
        split: list[dict[str, Any]] = [{} for _ in chosen]
        position = {env: k for k, env in enumerate(chosen)}
        for key, value in infos.items():
            if key.startswith("_") or key in ("final_obs", "final_info"):
                continue
            mask = infos.get(f"_{key}")
            marked = range(self.num_envs) if mask is None else np.flatnonzero(mask).tolist()
            for env in marked:
                if env in position:
                    split[position[env]][key] = (
                        self._split_infos(value, [env])[0] if isinstance(value, dict) else _index(value, env)
                    )
        return split

    def close(self) -> None:
        self.vector_env.close()

    def render(self, mode: str | None = None) -> np.ndarray | None:
        frames = self.vector_env.render()
        return None if frames is None else np.asarray(frames[0] if isinstance(frames, tuple | list) else frames)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        chosen = list(self._get_indices(indices))
        envs = getattr(self.vector_env, "envs", None)  # SyncVectorEnv: each env at hand, as DummyVecEnv's
        if envs is not None:
            return [envs[i].get_wrapper_attr(attr_name) for i in chosen]
        values = self._vector_method("get_attr")(attr_name)
        return [values[i] for i in chosen]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        chosen = list(self._get_indices(indices))
        envs = getattr(self.vector_env, "envs", None)
        if envs is not None:
            for i in chosen:
                setattr(envs[i], attr_name, value)  # as DummyVecEnv does
        elif len(chosen) == self.num_envs:
            self._vector_method("set_attr")(attr_name, [value] * self.num_envs)
        else:
            name = type(self.vector_env).__name__
            raise ValueError(f"GymnasiumVecEnv.set_attr: {name} sets every env at once; indices must be None")

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        chosen = list(self._get_indices(indices))
        if len(chosen) < self.num_envs:
            raise ValueError(f"GymnasiumVecEnv.env_method: Gymnasium calls {method_name!r} on every env; indices must be None")
        return list(self._vector_method("call")(method_name, *method_args, **method_kwargs))

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        chosen = self._get_indices(indices)
        if self.monitor and issubclass(Monitor, wrapper_class):
            return [True for _ in chosen]  # this adapter gives Monitor's episode statistics itself
        envs = getattr(self.vector_env, "envs", None)  # SyncVectorEnv
        if envs is None:
            return [False for _ in chosen]
        return [_is_wrapped(envs[i], wrapper_class) for i in chosen]

    def _vector_method(self, name: str) -> Any:
        method = getattr(self.vector_env, name, None)
        if method is None:
            raise AttributeError(f"{type(self.vector_env).__name__} has no {name}(): only sync and async vector envs do")
        return method


def _has_partial_reset(vector_env: gym.vector.VectorEnv) -> bool:
    """Whether ``reset(options={"reset_mask": ...})`` resets only the masked envs: Gymnasium's sync and
    async vector envs (under any vector wrappers) do; an env's own vector implementation may ignore it."""
    while isinstance(vector_env, gym.vector.VectorWrapper):
        vector_env = vector_env.env
    return isinstance(vector_env, gym.vector.SyncVectorEnv | gym.vector.AsyncVectorEnv)


def _is_wrapped(env: gym.Env, wrapper_class: type[gym.Wrapper]) -> bool:
    while isinstance(env, gym.Wrapper):
        if isinstance(env, wrapper_class):
            return True
        env = env.env
    return False


def _index(value: Any, i: int) -> Any:
    if isinstance(value, dict):
        return {key: _index(item, i) for key, item in value.items()}
    return value[i]


def _copy(observations: VecEnvObs) -> VecEnvObs:
    if isinstance(observations, dict):
        return {key: np.array(value, copy=True) for key, value in observations.items()}
    return np.array(observations, copy=True)


def _where(mask: np.ndarray, new: VecEnvObs, old: VecEnvObs) -> VecEnvObs:
    if isinstance(old, dict):
        assert isinstance(new, dict)
        return {key: np.asarray(_where(mask, new[key], value)) for key, value in old.items()}
    assert isinstance(old, np.ndarray) and isinstance(new, np.ndarray)
    shaped = mask.reshape((-1,) + (1,) * (old.ndim - 1))
    return np.where(shaped, new, old)


def make_gymnasium_vec_env(
    env_id: str,
    n_envs: int,
    seed: int | None = None,
    vectorization_mode: str = "sync",
    env_kwargs: dict[str, Any] | None = None,
) -> GymnasiumVecEnv:
    """
    ``gym.make_vec`` wrapped for SB3, seeded as ``make_vec_env`` seeds (env ``i`` with ``seed + i``).

    :param vectorization_mode: ``"vector_entry_point"`` (the env's own vector implementation, where it
        has one), ``"sync"`` or ``"async"`` (one process per env)
    """
    if vectorization_mode not in VECTORIZATION_MODES:
        raise ValueError(f"`vectorization_mode` must be one of {', '.join(VECTORIZATION_MODES)}; got {vectorization_mode!r}")
    vector_env = gym.make_vec(env_id, num_envs=n_envs, vectorization_mode=vectorization_mode, **(env_kwargs or {}))
    env = GymnasiumVecEnv(vector_env)
    if seed is not None:
        env.seed(seed)
    return env
