"""Hand-built environments for exact tests."""

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class ScriptedEnv(gym.Env):
    """
    Episodes with scripted rewards, cycling through ``episodes``; actions are ignored.

    Each episode is ``(rewards, end)`` with ``end`` ``"terminated"`` or ``"truncated"``. The
    observation is ``[episode number, step in episode]``, so tests can tell the steps apart.
    """

    observation_space = spaces.Box(low=0.0, high=1e6, shape=(2,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, episodes: list[tuple[list[float], str]]):
        self.episodes = episodes
        self.n_episodes = -1
        self.t = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.n_episodes, self.t], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.n_episodes += 1
        self.t = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        rewards, end = self.episodes[self.n_episodes % len(self.episodes)]
        reward = rewards[self.t]
        self.t += 1
        last = self.t == len(rewards)
        return self._obs(), float(reward), last and end == "terminated", last and end == "truncated", {}


class LateRewardMDP(gym.Env):
    """
    A small tabular MDP with a fixed horizon whose reward comes mostly at the end: the exact policy
    gradient is computable by enumerating its ``2 ** horizon`` trajectories.

    State ``(t, k)``: step ``t`` and the number ``k`` of ``1`` actions so far, one-hot encoded.
    Reward: ``step_reward[a]`` at each step, plus ``final_reward[k]`` after the last step.
    """

    horizon = 3
    step_reward = (0.1, -0.1)
    final_reward = (0.0, 0.0, 1.0, 3.0)
    states: ClassVar[list[tuple[int, int]]] = [(t, k) for t in range(horizon) for k in range(t + 1)]
    observation_space = spaces.Box(0.0, 1.0, shape=(len(states),), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self) -> None:
        self.t = 0
        self.k = 0

    @classmethod
    def one_hot(cls, t: int, k: int) -> np.ndarray:
        obs = np.zeros(len(cls.states), dtype=np.float32)
        obs[cls.states.index((t, k))] = 1.0
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t, self.k = 0, 0
        return self.one_hot(0, 0), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        action = int(action)
        reward = self.step_reward[action]
        self.k += action
        self.t += 1
        done = self.t == self.horizon
        if done:
            reward += self.final_reward[self.k]
            return self.one_hot(0, 0), reward, True, False, {}
        return self.one_hot(self.t, self.k), reward, False, False, {}


class StopOrGoMDP(gym.Env):
    """
    A tabular MDP whose episodes vary in length: at step ``t`` action 1 stops (reward
    ``stop_reward[t]``, the episode ends) and action 0 goes on (reward ``go_reward[t]``); the episode
    ends after ``horizon`` steps whatever the actions. The observation is the one-hot step number,
    and the exact policy gradient comes from enumerating its ``2 * horizon - 1`` trajectories.
    """

    horizon = 3
    stop_reward = (3.0, 0.0, 2.0)
    go_reward = (1.0, 2.0, 1.0)
    observation_space = spaces.Box(0.0, 1.0, shape=(horizon,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self) -> None:
        self.t = 0

    @classmethod
    def one_hot(cls, t: int) -> np.ndarray:
        obs = np.zeros(cls.horizon, dtype=np.float32)
        obs[t % cls.horizon] = 1.0
        return obs

    @classmethod
    def trajectories(cls) -> list[list[int]]:
        """Every action sequence: ``go`` k times, then ``stop`` (or ``go``, at the last step)."""
        stops = [[0] * k + [1] for k in range(cls.horizon)]
        return [*stops, [0] * cls.horizon]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self.one_hot(0), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        stop = int(action) == 1
        reward = self.stop_reward[self.t] if stop else self.go_reward[self.t]
        self.t += 1
        done = stop or self.t == self.horizon
        return self.one_hot(0 if done else self.t), reward, done, False, {}


class _CountingEnv(gym.Env):
    """A constant observation and a step counter ``t``; subclasses define ``step``."""

    observation_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self) -> None:
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, dtype=np.float32), {}


class ConstantReturnEnv(_CountingEnv):
    """Every episode: two steps of reward 1, whatever the actions (so every return is the same)."""

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        return np.zeros(2, dtype=np.float32), 1.0, self.t == 2, False, {}


class NeverEndingEnv(_CountingEnv):
    """An env whose episodes never end (no termination, no time limit)."""

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.zeros(2, dtype=np.float32), 1.0, False, False, {}


class NaNRewardEnv(_CountingEnv):
    """Rewards are NaN, so training diverges; counts its open instances to check that envs are closed."""

    n_open: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        NaNRewardEnv.n_open += 1

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        return np.zeros(2, dtype=np.float32), float("nan"), self.t == 10, False, {}

    def close(self) -> None:
        NaNRewardEnv.n_open -= 1


gym.register("NaNReward-v0", entry_point=NaNRewardEnv)


class CrashingEnv(_CountingEnv):
    """Raises after a few steps: a run that crashes."""

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        if self.t > 30:
            raise RuntimeError("CrashingEnv crashed on purpose")
        return np.zeros(2, dtype=np.float32), 1.0, False, False, {}


gym.register("CrashingEnv-v0", entry_point=CrashingEnv)


class OneVectorDict(gym.Wrapper):
    """The wrapped env's observation as the only value of a Dict (SB3's consistency test's set-up)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.observation_space = spaces.Dict({"obs": env.observation_space})

    def reset(self, **kwargs: Any) -> tuple[dict, dict]:
        obs, info = self.env.reset(**kwargs)
        return {"obs": obs}, info

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return {"obs": obs}, float(reward), terminated, truncated, info


class LongStopOrGoMDP(StopOrGoMDP):
    """:class:`StopOrGoMDP` over 8 steps: with a policy that mostly goes on, episodes last several steps."""

    horizon = 8
    stop_reward = (3.0, 0.0, 2.0, 1.0, 0.5, 4.0, 0.0, 1.0)
    go_reward = (1.0, 2.0, 1.0, 0.0, 1.5, 0.5, 2.0, 1.0)
    observation_space = spaces.Box(0.0, 1.0, shape=(horizon,), dtype=np.float32)


class QuadraticRewardEnv(gym.Env):
    """
    A constant observation, one continuous action, reward ``-(a - 1)^2``; after each step the episode
    ends with probability 0.4 (whatever the action), and after 4 steps at the latest. With a Gaussian
    policy of mean ``mu`` and variance ``var``, ``J = E[T] * (-(mu - 1)^2 - var)``, ``E[T] = 2.176``.
    """

    target = 1.0
    end_probability = 0.4
    horizon = 4
    expected_length = 1 + 0.6 + 0.6**2 + 0.6**3  # sum over t < horizon of P(T > t)
    observation_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
    action_space = spaces.Box(-1e6, 1e6, shape=(1,), dtype=np.float32)  # wide: no action is clipped
    observation = np.array([0.5, -0.8], dtype=np.float32)

    def __init__(self) -> None:
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self.observation.copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        reward = -float((np.asarray(action).reshape(-1)[0] - self.target) ** 2)
        done = self.t == self.horizon or bool(self.np_random.random() < self.end_probability)
        return self.observation.copy(), reward, done, False, {}


class InterruptedEnv(_CountingEnv):
    """Episodes of 20 steps; raises KeyboardInterrupt at its 300th step, as Ctrl-C does in the middle of a run."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        self.total += 1
        if self.total == 300:
            raise KeyboardInterrupt
        return np.zeros(2, dtype=np.float32), 1.0, self.t == 20, False, {}


gym.register("InterruptedEnv-v0", entry_point=InterruptedEnv, max_episode_steps=1000)
