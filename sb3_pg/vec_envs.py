"""Native vector environments as SB3 ``VecEnv`` s: Gymnasium's ``VectorEnv`` s and EnvPool.

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

:class:`EnvPoolVecEnv` does the same over EnvPool (``pip install "sb3-pg[envpool]"``), whose envs
run in C++ threads; EnvPool's own SB3 example never sets ``TimeLimit.truncated``, so SB3 bootstraps
no timeout through it. Here finished envs are reset at once by id (``reset(env_id)``).

Infos are built without a Python loop over the envs at steps where none finished: only the envs a
Gymnasium info key marks get an entry.
"""

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

VECTORIZATION_MODES = ("vector_entry_point", "sync", "async")


class _NativeVecEnv(VecEnv):
    """What both adapters share: SB3's infos at an episode's end, with Monitor's statistics."""

    def __init__(self, num_envs: int, observation_space: gym.Space, action_space: gym.Space, monitor: bool):
        super().__init__(num_envs, observation_space, action_space)
        self.monitor = monitor
        self._actions: np.ndarray | None = None
        self._episode_returns = np.zeros(num_envs)
        self._episode_lengths = np.zeros(num_envs, dtype=np.int64)
        self._start_time = time.time()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def _start_episodes(self) -> None:
        self._episode_returns[:] = 0.0
        self._episode_lengths[:] = 0

    def _count(self, rewards: np.ndarray) -> None:
        self._episode_returns += rewards
        self._episode_lengths += 1

    def _end_episodes(
        self,
        finished: list[int],
        terminal: VecEnvObs,
        terminations: np.ndarray,
        truncations: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """The infos of the finished envs as SB3's ``DummyVecEnv`` + ``Monitor`` give them."""
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

    def _monitor_wrapped(self, wrapper_class: type[gym.Wrapper]) -> bool:
        return self.monitor and issubclass(Monitor, wrapper_class)  # this adapter gives Monitor's statistics itself


class GymnasiumVecEnv(_NativeVecEnv):
    """
    An SB3 ``VecEnv`` over a Gymnasium ``VectorEnv``.

    :param vector_env: the vector env (``gym.make_vec(...)``, ``SyncVectorEnv``, ``AsyncVectorEnv``,
        or an env's own vector implementation)
    :param monitor: add ``Monitor``'s episode statistics (``infos[i]["episode"]``) at each episode's end
    """

    def __init__(self, vector_env: gym.vector.VectorEnv, monitor: bool = True):
        autoreset_mode = AutoresetMode(vector_env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP))
        if autoreset_mode != AutoresetMode.SAME_STEP and not _is_gymnasium_sync_or_async(vector_env):
            raise ValueError(
                f"`vector_env` ({type(vector_env).__name__}) resets finished envs at the next step and has no"
                " partial reset (reset_mask), so SB3's auto-reset cannot be given exactly; use"
                " vectorization_mode='sync' or 'async', or a vector env in the SAME_STEP autoreset mode"
            )
        self.vector_env, self.autoreset_mode = vector_env, autoreset_mode
        super().__init__(vector_env.num_envs, vector_env.single_observation_space, vector_env.single_action_space, monitor)

    def reset(self) -> VecEnvObs:
        seeds: Any = None if all(seed is None for seed in self._seeds) else list(self._seeds)
        if seeds is not None and not _is_gymnasium_sync_or_async(self.vector_env):
            seeds = seeds[0]  # an env's own vector implementation has one generator for all its envs
        options = self._options[0] if all(o == self._options[0] for o in self._options) and self._options[0] else None
        if any(self._options) and options is None:
            raise ValueError("GymnasiumVecEnv: set_options must give every env the same options")
        observations, infos = self.vector_env.reset(seed=seeds, options=options)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = self._split_infos(infos)
        self._start_episodes()
        return observations

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, terminations, truncations, gym_infos = self.vector_env.step(self._actions)
        dones = np.logical_or(terminations, truncations)
        rewards = np.asarray(rewards, dtype=np.float32)
        infos = self._split_infos(gym_infos)
        self._count(rewards)
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
        self._end_episodes(finished, terminal, terminations, truncations, infos)
        return observations

    def _split_infos(self, infos: dict[str, Any], indices: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """Gymnasium's dict of arrays (``key`` with its mask ``_key``) as SB3's list of dicts, one per env
        (or one per env of ``indices``)."""
        chosen = range(self.num_envs) if indices is None else [int(i) for i in indices]
        split: list[dict[str, Any]] = [{} for _ in chosen]
        keys = [key for key in infos if not key.startswith("_") and key not in ("final_obs", "final_info")]
        if not keys:  # most steps: nothing to split
            return split
        position = {env: k for k, env in enumerate(chosen)}
        for key in keys:
            value, mask = infos[key], infos.get(f"_{key}")
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
        if hasattr(self.vector_env, "get_attr"):
            values = self.vector_env.get_attr(attr_name)
            return [values[i] for i in chosen]
        # An env's own vector implementation: one object for all its envs, as EnvPool's pools
        if not hasattr(self.vector_env, attr_name):
            raise AttributeError(f"{type(self.vector_env).__name__} has no attribute {attr_name!r}")
        return [getattr(self.vector_env, attr_name) for _ in chosen]

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
        if self._monitor_wrapped(wrapper_class):
            return [True for _ in chosen]
        envs = getattr(self.vector_env, "envs", None)  # SyncVectorEnv
        if envs is not None:
            return [_is_wrapped(envs[i], wrapper_class) for i in chosen]
        # An env's own vector implementation cuts its episodes at its max_episode_steps, if it has one
        limited = getattr(self.vector_env.unwrapped, "max_episode_steps", None) is not None
        return [limited and issubclass(gym.wrappers.TimeLimit, wrapper_class) for _ in chosen]

    def _vector_method(self, name: str) -> Any:
        method = getattr(self.vector_env, name, None)
        if method is None:
            raise AttributeError(f"{type(self.vector_env).__name__} has no {name}(): only sync and async vector envs do")
        return method


class EnvPoolVecEnv(_NativeVecEnv):
    """
    An SB3 ``VecEnv`` over an EnvPool pool (its ``gymnasium`` API, synchronous stepping).

    :param pool: ``envpool.make(task_id, env_type="gymnasium", num_envs=N, ...)``
    :param monitor: add ``Monitor``'s episode statistics (``infos[i]["episode"]``) at each episode's end

    Seeds: ``seed(s)`` reseeds env ``i`` with ``s + i`` at the next reset (EnvPool fixes seeds when it
    makes a pool and ignores ``reset(seed=...)``, so the pool is made again, with the same options).
    EnvPool's envs are its own C++ implementations, so their episodes are not Gymnasium's step for
    step. Each env ends its episodes at EnvPool's ``max_episode_steps`` (a time-limit truncation), so
    ``env_is_wrapped(TimeLimit)`` is True; attributes other than the pool's (``spec``,
    ``render_mode``, ...) cannot be read per env.
    """

    def __init__(self, pool: Any, monitor: bool = True):
        self.pool = pool
        self._fresh = True  # no reset yet: its envs are at the start of their seeds' streams
        super().__init__(pool.num_envs, pool.observation_space, pool.action_space, monitor)
        self._all_ids = np.arange(pool.num_envs, dtype=np.int32)

    def reset(self) -> VecEnvObs:
        if not any(seed is None for seed in self._seeds):
            seeds = [int(seed) for seed in self._seeds]  # type: ignore[arg-type]
            # EnvPool ignores reset(seed=...): its seeds are fixed when a pool is made, so make it
            # again, unless it was just made with these seeds
            if not (self._fresh and seeds == _pool_seeds(self.pool)):
                self.pool = _reseeded(self.pool, seeds)
        observations, _ = self.pool.reset(self._all_ids)
        self._fresh = False
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._start_episodes()
        return observations

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, terminations, truncations, _ = self.pool.step(self._actions, self._all_ids)
        dones = np.logical_or(terminations, truncations)
        rewards = np.asarray(rewards, dtype=np.float32)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        self._count(rewards)
        if dones.any():
            finished = np.flatnonzero(dones).tolist()
            terminal = np.array(observations, copy=True)
            reset_observations, _ = self.pool.reset(np.asarray(finished, dtype=np.int32))
            observations = np.array(observations, copy=True)
            observations[finished] = reset_observations  # EnvPool returns the reset envs' rows only
            self._end_episodes(finished, terminal, terminations, truncations, infos)
        return observations, rewards, dones, infos

    def close(self) -> None:
        self.pool.close()

    def render(self, mode: str | None = None) -> np.ndarray | None:
        frames = self.pool.render()
        return None if frames is None else np.asarray(frames[0])

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if not hasattr(self.pool, attr_name):
            raise AttributeError(f"EnvPoolVecEnv: the pool has no attribute {attr_name!r} (EnvPool has no per-env objects)")
        return [getattr(self.pool, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError("EnvPoolVecEnv: EnvPool's envs are C++ objects; their attributes cannot be set")

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        raise AttributeError(f"EnvPoolVecEnv: EnvPool's envs are C++ objects; {method_name}() cannot be called on them")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        limited = issubclass(gym.wrappers.TimeLimit, wrapper_class)  # EnvPool cuts at max_episode_steps
        return [self._monitor_wrapped(wrapper_class) or limited for _ in self._get_indices(indices)]


def _pool_seeds(pool: Any) -> list[int]:
    """The seeds of an EnvPool pool's envs (``seed + i``, unless it was made with one seed per env)."""
    config = pool.config
    return list(config["env_seed"]) or [config["seed"] + i for i in range(pool.num_envs)]


def _reseeded(pool: Any, seeds: list[int]) -> Any:
    """A new EnvPool pool as ``pool`` (same task, same options), env ``i`` seeded with ``seeds[i]``;
    ``pool`` is closed."""
    spec_class = type(pool.spec)
    config = {**pool.config, "seed": seeds[0], "env_seed": seeds}
    new_pool = type(pool)(spec_class(spec_class.gen_config(**config)))
    pool.close()
    return new_pool


def _is_gymnasium_sync_or_async(vector_env: gym.vector.VectorEnv) -> bool:
    """Whether ``vector_env`` is Gymnasium's sync or async vector env (under any vector wrappers): those
    reset only the masked envs with ``reset(options={"reset_mask": ...})`` and take one seed per env;
    an env's own vector implementation may ignore the mask and has one generator."""
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


class CartPoleSameStepVectorEnv(CartPoleVectorEnv):
    """
    Gymnasium's own vector CartPole (``CartPoleVectorEnv``: every env stepped as one array operation)
    in the ``SAME_STEP`` autoreset mode, so that :class:`GymnasiumVecEnv` can give it SB3's semantics.

    Gymnasium's version resets a finished env at the *next* step (``NEXT_STEP``: that step ignores
    its action and returns the new episode's first observation with reward 0) and has no partial
    reset. Here the finished envs are reset within the step that finishes them, with the same
    draw Gymnasium's version makes one step later (uniform in ``[low, high]`` from the vector env's
    generator); their last observations are ``infos["final_obs"]``, masked by ``infos["_final_obs"]``,
    as Gymnasium's sync vector env gives them in this mode. The dynamics, rewards, terminations and
    time-limit truncations are Gymnasium's, unchanged.
    """

    metadata = {**CartPoleVectorEnv.metadata, "autoreset_mode": AutoresetMode.SAME_STEP}  # noqa: RUF012 (Gymnasium's)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        observations, rewards, terminations, truncations, infos = super().step(action)
        dones = terminations | truncations
        if not dones.any():
            return observations, rewards, terminations, truncations, infos
        assert self.state is not None
        final_obs = np.full(self.num_envs, None, dtype=object)
        for i in np.flatnonzero(dones):
            final_obs[i] = observations[i].copy()
        self.state[:, dones] = self.np_random.uniform(low=self.low, high=self.high, size=(4, int(dones.sum())))
        self.steps[dones] = 0
        self.prev_done[:] = False  # reset already: the next step is a real step for every env
        observations[dones] = self.state[:, dones].T
        infos = {**infos, "final_obs": final_obs, "_final_obs": dones, "final_info": {}, "_final_info": dones}
        return observations, rewards, terminations, truncations, infos


# Envs' own vector implementations that reset at the next step, and their same-step versions
SAME_STEP_VECTOR_ENVS: dict[str, Any] = {
    "gymnasium.envs.classic_control.cartpole:CartPoleVectorEnv": CartPoleSameStepVectorEnv,
}


def _native_vector_env_problem(env_id: str) -> str | None:
    """Why ``env_id`` has no vector implementation that can give SB3's auto-reset, or None if it has one."""
    entry_point = gym.spec(env_id).vector_entry_point
    if entry_point is None:
        return f"{env_id!r} has no vector implementation of its own (vector_entry_point)"
    creator: Any = entry_point
    if isinstance(entry_point, str):
        try:
            creator = SAME_STEP_VECTOR_ENVS.get(entry_point) or gym.envs.registration.load_env_creator(entry_point)
        except ImportError as error:
            return f"{env_id!r}'s vector implementation cannot be imported ({error})"
    metadata = getattr(creator, "metadata", {})
    if AutoresetMode(metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)) != AutoresetMode.SAME_STEP:
        return f"{env_id!r}'s vector implementation resets finished envs at the next step, with no partial reset"
    return None


def make_native_vector_env(env_id: str, n_envs: int, **env_kwargs: Any) -> gym.vector.VectorEnv:
    """
    ``env_id``'s own vector implementation (``gym.make_vec(..., vectorization_mode=
    "vector_entry_point")``), in its same-step version where it resets at the next step
    (:data:`SAME_STEP_VECTOR_ENVS`).

    :raises ValueError: naming ``env_id`` if it has no vector implementation that can give SB3's
        auto-reset
    """
    problem = _native_vector_env_problem(env_id)
    if problem is not None:
        raise ValueError(f"`env`: {problem}, so SB3's auto-reset cannot be given exactly; use the sync or async mode")
    spec = gym.spec(env_id)
    if isinstance(spec.vector_entry_point, str) and spec.vector_entry_point in SAME_STEP_VECTOR_ENVS:
        spec = dataclasses.replace(spec, vector_entry_point=SAME_STEP_VECTOR_ENVS[spec.vector_entry_point])
    return gym.make_vec(spec, num_envs=n_envs, vectorization_mode="vector_entry_point", **env_kwargs)


def make_gymnasium_vec_env(
    env_id: str,
    n_envs: int,
    seed: int | None = None,
    vectorization_mode: str = "sync",
    env_kwargs: dict[str, Any] | None = None,
    monitor: bool = True,
    wrapper_class: Callable[[gym.Env], gym.Env] | None = None,
) -> GymnasiumVecEnv:
    """
    ``gym.make_vec`` wrapped for SB3, seeded as ``make_vec_env`` seeds (env ``i`` with ``seed + i``).

    :param vectorization_mode: ``"vector_entry_point"`` (the env's own vector implementation, where it
        has one that can give SB3's auto-reset: :func:`make_native_vector_env`; it has one generator
        for all its envs, seeded with ``seed``), ``"sync"`` or ``"async"`` (one process per env)
    :param wrapper_class: applied to each env (``"sync"`` and ``"async"`` only), or None
    """
    if vectorization_mode not in VECTORIZATION_MODES:
        raise ValueError(f"`vectorization_mode` must be one of {', '.join(VECTORIZATION_MODES)}; got {vectorization_mode!r}")
    if vectorization_mode == "vector_entry_point":
        if wrapper_class is not None:
            raise ValueError("`wrapper_class`: the env's own vector implementation has no single envs to wrap")
        vector_env = make_native_vector_env(env_id, n_envs, **(env_kwargs or {}))
    else:
        wrappers = None if wrapper_class is None else [wrapper_class]  # an env_wrapper may return any Env
        vector_env = gym.make_vec(
            env_id,
            num_envs=n_envs,
            vectorization_mode=vectorization_mode,
            wrappers=wrappers,  # type: ignore[arg-type]
            **(env_kwargs or {}),
        )
    env = GymnasiumVecEnv(vector_env, monitor)
    if seed is not None:
        env.seed(seed)
    return env


def make_envpool_vec_env(
    env_id: str, n_envs: int, seed: int | None = None, monitor: bool = True, **envpool_kwargs: Any
) -> EnvPoolVecEnv:
    """
    An EnvPool pool for ``env_id`` wrapped for SB3, seeded as ``make_vec_env`` seeds.

    :param monitor: add ``Monitor``'s episode statistics (:class:`EnvPoolVecEnv`)
    :param envpool_kwargs: ``envpool.make``'s options (``max_episode_steps``, ...)

    :raises ImportError: without EnvPool (``pip install "sb3-pg[envpool]"``)
    """
    try:
        import envpool
    except ImportError:
        raise ImportError('EnvPool is not installed: pip install "sb3-pg[envpool]"') from None
    if env_id not in envpool.list_all_envs():
        raise ValueError(f"EnvPool has no env {env_id!r}")
    pool = envpool.make(env_id, env_type="gymnasium", num_envs=n_envs, seed=0 if seed is None else seed, **envpool_kwargs)
    env = EnvPoolVecEnv(pool, monitor)
    if seed is not None:
        env.seed(seed)
    return env


# An RL Zoo env_wrapper: one env in, the wrapped env out (sb3_pg.configs.env_wrapper)
Wrap = Callable[[gym.Env], gym.Env]
# A VecEnvKind's make: (env_id, n_envs, seed, env_kwargs, monitor, wrapper_class)
MakeVecEnv = Callable[[str, int, int | None, dict[str, Any] | None, bool, Wrap | None], VecEnv]


def _make_sb3(vec_env_cls: type[VecEnv]) -> MakeVecEnv:
    def make(
        env_id: str,
        n_envs: int,
        seed: int | None,
        env_kwargs: dict[str, Any] | None,
        monitor: bool,
        wrapper_class: Wrap | None,
    ) -> VecEnv:
        from stable_baselines3.common.env_util import make_vec_env

        if monitor:
            return make_vec_env(
                env_id,
                n_envs=n_envs,
                seed=seed,
                env_kwargs=env_kwargs,
                vec_env_cls=vec_env_cls,  # type: ignore[arg-type]
                wrapper_class=wrapper_class,
            )

        def make_env() -> gym.Env:
            env = gym.make(env_id, **(env_kwargs or {}))
            return env if wrapper_class is None else wrapper_class(env)

        vec_env = vec_env_cls([make_env for _ in range(n_envs)])  # type: ignore[call-arg,arg-type]
        vec_env.seed(seed)
        return vec_env

    return make


def _make_gymnasium(mode: str) -> MakeVecEnv:
    def make(
        env_id: str,
        n_envs: int,
        seed: int | None,
        env_kwargs: dict[str, Any] | None,
        monitor: bool,
        wrapper_class: Wrap | None,
    ) -> VecEnv:
        return make_gymnasium_vec_env(env_id, n_envs, seed, mode, env_kwargs, monitor, wrapper_class)

    return make


def _make_envpool(
    env_id: str, n_envs: int, seed: int | None, env_kwargs: dict[str, Any] | None, monitor: bool, wrapper_class: Wrap | None
) -> VecEnv:
    assert wrapper_class is None, "EnvPool's envs cannot be wrapped (VecEnvKind.wraps)"
    return make_envpool_vec_env(env_id, n_envs, seed, monitor, **(env_kwargs or {}))


def _no_problem(env_id: str) -> str | None:
    return None


def _envpool_problem(env_id: str) -> str | None:
    try:
        import envpool
    except ImportError:
        return 'envpool is not installed: pip install "sb3-pg[envpool]"'
    if env_id not in envpool.list_all_envs():
        return f"EnvPool has no env {env_id!r}"
    return None


def _native_problem(env_id: str) -> str | None:
    problem = _native_vector_env_problem(env_id)
    return None if problem is None else f"gymnasium-native: {problem}; use gymnasium or gymnasium-async"


@dataclass(frozen=True)
class VecEnvKind:
    """One kind of training ``VecEnv``: what ``--vec-env NAME`` makes, how, and when it cannot."""

    name: str
    help: str
    make: MakeVecEnv
    problem: Callable[[str], str | None] = _no_problem  # why it cannot make an env id, or None
    wraps: bool = True  # whether it can apply an RL Zoo env_wrapper to each env


# The one list of kinds: --vec-env's choices and help, make_vec_env_of and check_vec_env read it
VEC_ENV_KINDS: dict[str, VecEnvKind] = {
    kind.name: kind
    for kind in (
        VecEnvKind("dummy", "SB3's DummyVecEnv (with Monitor), as RL Zoo's", _make_sb3(DummyVecEnv)),
        VecEnvKind("subproc", "SB3's SubprocVecEnv: one process per env", _make_sb3(SubprocVecEnv)),
        VecEnvKind("gymnasium", "Gymnasium's sync vector env", _make_gymnasium("sync")),
        VecEnvKind("gymnasium-async", "Gymnasium's async vector env: one process per env", _make_gymnasium("async")),
        VecEnvKind(
            "gymnasium-native",
            "the env's own vector implementation, all envs stepped as one array operation (CartPole)",
            _make_gymnasium("vector_entry_point"),
            _native_problem,
            wraps=False,
        ),
        VecEnvKind("envpool", "EnvPool's C++ envs (the envpool extra)", _make_envpool, _envpool_problem, wraps=False),
    )
}


def vec_env_help() -> str:
    """``--vec-env``'s help, from :data:`VEC_ENV_KINDS`."""
    return "training VecEnv: " + "; ".join(f"{kind.name}: {kind.help}" for kind in VEC_ENV_KINDS.values())


def check_vec_env(option: str, kind: str, env_id: str, wrapped: bool = False) -> None:
    """
    :param wrapped: whether the envs get an RL Zoo ``env_wrapper``
    :raises ValueError: naming ``option`` if ``kind`` is not a kind or cannot make ``env_id`` (EnvPool
        missing, or without that env; no native vector implementation; an env_wrapper it cannot
        apply), before any work
    """
    if kind not in VEC_ENV_KINDS:
        raise ValueError(f"argument {option}: unknown kind {kind!r}; choose from {', '.join(VEC_ENV_KINDS)}")
    problem = VEC_ENV_KINDS[kind].problem(env_id)
    if problem is None and wrapped and not VEC_ENV_KINDS[kind].wraps:
        problem = wrapping_problem(kind)
    if problem is not None:
        raise ValueError(f"argument {option}: {problem}")


def make_vec_env_of(
    kind: str,
    env_id: str,
    n_envs: int,
    seed: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    monitor: bool = True,
    wrapper_class: Wrap | None = None,
) -> VecEnv:
    """
    ``n_envs`` copies of ``env_id`` in the ``VecEnv`` of ``kind`` (:data:`VEC_ENV_KINDS`), each seeded
    as ``make_vec_env`` seeds, made with ``env_kwargs``, each wrapped by ``wrapper_class`` if given,
    and with ``Monitor``'s episode statistics unless ``monitor`` is False. ``dummy`` and ``subproc``
    wrap over ``Monitor``, as ``make_vec_env`` (and RL Zoo) do, so the statistics are the env's own;
    the Gymnasium kinds count them on the wrapped envs' output (the same unless a wrapper changes
    rewards or episode ends):

    - ``"dummy"``, ``"subproc"``: SB3's ``DummyVecEnv`` / ``SubprocVecEnv`` (with ``Monitor``), as RL Zoo's ``--vec-env``;
    - ``"gymnasium"``, ``"gymnasium-async"``: Gymnasium's sync / async vector env (:class:`GymnasiumVecEnv`);
    - ``"gymnasium-native"``: the env's own vector implementation, all envs stepped as one array
      operation (CartPole-v1: :class:`CartPoleSameStepVectorEnv`), seeded with one generator;
    - ``"envpool"``: EnvPool's C++ envs (:class:`EnvPoolVecEnv`).
    """
    if kind not in VEC_ENV_KINDS:
        raise ValueError(f"`vec_env` must be one of {', '.join(VEC_ENV_KINDS)}; got {kind!r}")
    if wrapper_class is not None and not VEC_ENV_KINDS[kind].wraps:
        raise ValueError(wrapping_problem(kind))
    return VEC_ENV_KINDS[kind].make(env_id, n_envs, seed, env_kwargs, monitor, wrapper_class)


def wrapping_problem(kind: str) -> str:
    """Why the ``VecEnv`` of ``kind`` cannot apply an env_wrapper."""
    wrapping = ", ".join(name for name, k in VEC_ENV_KINDS.items() if k.wraps)
    return f"{kind} has no single envs to apply the config's env_wrapper to; use one of {wrapping}"
