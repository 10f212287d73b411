"""A2C's ``scale_critic_targets``: the critic learns ``V / sigma``, sigma the running standard deviation
of its targets; checked against Tianshou's ``return_scaling`` (``ActorCriticOnPolicyAlgorithm.
_add_returns_and_advantages``), written out with Tianshou's own GAE and running statistics."""

from typing import Any

import numpy as np
import pytest
import torch as th
from envs import ScriptedEnv
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_pg import A2C, RecurrentA2C
from sb3_pg.common.buffers import PGRolloutBuffer

# Episodes of several lengths, ended both ways, with rewards far from unit scale
EPISODES = [
    ([30.0, -12.0, 55.0], "terminated"),
    ([4.0, 80.0, -20.0, 10.0, 7.0], "truncated"),
    ([-40.0], "terminated"),
    ([15.0, 25.0], "truncated"),
    ([60.0, 5.0, -5.0, 0.0], "terminated"),
]


def scripted_vec_env() -> DummyVecEnv:
    """Two envs out of step with each other (the second starts one episode later)."""

    def make(offset: int) -> ScriptedEnv:
        return ScriptedEnv(EPISODES[offset:] + EPISODES[:offset])

    return DummyVecEnv([lambda: make(0), lambda: make(1)])


class TianshouReturnScaling(BaseCallback):
    """
    Records each rollout's raw steps and, at its end, computes what Tianshou's A2C with
    ``return_scaling=True`` computes from the same critic outputs:

    ``v_s, v_s_ <- v_s * sqrt(var + 1e-8), v_s_ * sqrt(var + 1e-8)``;
    ``returns, adv = GAE(v_s, v_s_)`` (``v_s_`` masked where an episode terminated; an episode's end
    or the rollout's cut stops the sums); ``targets = returns / sqrt(var + 1e-8)``; then the running
    statistics take ``returns``.
    """

    def __init__(self, gamma: float, gae_lambda: float):
        super().__init__()
        self.gamma, self.gae_lambda = gamma, gae_lambda
        self.gae = pytest.importorskip("tianshou.algorithm.algorithm_base")._gae
        self.rms = pytest.importorskip("tianshou.utils.statistics").RunningMeanStd()
        self.checked = 0
        self.scales: list[float] = []

    def _on_rollout_start(self) -> None:
        self.steps: list[dict[str, Any]] = []
        if self.checked:
            self.check_statistics()

    def _on_step(self) -> bool:
        values = self.locals["values"]
        self.steps.append(
            {
                # Copied now: the rollout adds the truncations' bootstrap to `rewards` in place later
                "rewards": np.array(self.locals["rewards"], dtype=np.float64),
                "dones": np.array(self.locals["dones"]),
                "infos": [dict(info) for info in self.locals["infos"]],
                "values": np.asarray(values.detach().cpu() if isinstance(values, th.Tensor) else values, np.float64).ravel(),
            }
        )
        return True

    def _value(self, obs: np.ndarray) -> float:
        with th.no_grad():
            return float(self.model.policy.predict_values(self.model.policy.obs_to_tensor(obs)[0]).item())

    def _on_rollout_end(self) -> None:
        buffer: RolloutBuffer = self.locals["rollout_buffer"]
        last_obs = self.locals["new_obs"]
        n_steps, n_envs = len(self.steps), buffer.n_envs
        scale = np.sqrt(self.rms.var + 1e-8)
        self.scales.append(float(scale))
        all_returns, all_advantages = np.zeros((n_steps, n_envs)), np.zeros((n_steps, n_envs))
        for env in range(n_envs):
            v_s = np.array([step["values"][env] for step in self.steps])
            rew = np.array([step["rewards"][env] for step in self.steps])
            v_next, end_flag = np.zeros(n_steps), np.zeros(n_steps, dtype=bool)
            for t, step in enumerate(self.steps):
                info = step["infos"][env]
                if step["dones"][env]:
                    end_flag[t] = True
                    if info.get("TimeLimit.truncated", False):  # terminated: value_mask leaves 0
                        v_next[t] = self._value(info["terminal_observation"])
                elif t + 1 < n_steps:
                    v_next[t] = v_s[t + 1]
                else:  # the rollout's cut: bootstrapped (Tianshou's unfinished_index)
                    end_flag[t] = True
                    v_next[t] = self._value(last_obs[env])
            v_s, v_next = v_s * scale, v_next * scale
            advantages = self.gae(v_s, v_next, rew, end_flag, self.gamma, self.gae_lambda)
            all_advantages[:, env], all_returns[:, env] = advantages, advantages + v_s
        targets = all_returns / scale
        self.rms.update(all_returns.ravel())
        np.testing.assert_allclose(buffer.advantages, all_advantages, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(buffer.returns, targets, rtol=1e-5, atol=1e-5)
        self.checked += 1

    def check_statistics(self) -> None:
        """The model's running statistics are Tianshou's (the model adds a rollout's after its end)."""
        np.testing.assert_allclose(self.model.return_rms.var, self.rms.var, rtol=1e-5)
        np.testing.assert_allclose(self.model.return_rms.mean, self.rms.mean, rtol=1e-5, atol=1e-6)
        assert self.model.return_rms.count == self.rms.count


@pytest.mark.parametrize("gae_lambda", [1.0, 0.95, 0.0])
@pytest.mark.parametrize("critic_learning_rate", [None, 1e-3])
def test_scaled_critic_targets_are_tianshous_return_scaling(gae_lambda, critic_learning_rate):
    model = A2C(
        "MlpPolicy",
        scripted_vec_env(),
        n_steps=7,
        gae_lambda=gae_lambda,
        learning_rate=1e-2,  # the critic moves between rollouts: each rollout's values differ
        critic_learning_rate=critic_learning_rate,
        scale_critic_targets=True,
        policy_kwargs=dict(net_arch=[8]),
        seed=0,
    )
    check = TianshouReturnScaling(model.gamma, gae_lambda)
    model.learn(7 * 2 * 6, callback=check)
    assert check.checked == 6
    check.check_statistics()
    # The scale moves away from its start (1: the first rollout is unscaled) to the returns' scale
    assert check.scales[0] == pytest.approx(1.0)
    assert check.scales[-1] > 10


@pytest.mark.parametrize("critic_target", ["td_lambda", "monte_carlo"])
def test_scaled_targets_are_computed_in_reward_units(critic_target):
    """With a scale sigma, advantages and targets are those of the values ``sigma * V``, the targets divided by sigma."""
    rng = np.random.default_rng(0)
    buffer = PGRolloutBuffer(7, spaces.Box(-1, 1, (1,)), spaces.Discrete(2), "cpu", 0.9, 0.99, 2, critic_target)
    for t in range(7):
        value, log_prob = th.tensor(rng.normal(size=2), dtype=th.float32), th.zeros(2)
        buffer.add(np.zeros((2, 1)), np.zeros((2, 1)), rng.normal(10, 20, size=2), np.array([t == 0, t == 3]), value, log_prob)
    sigma = 3.0
    values, last, dones = buffer.values.copy(), th.tensor([0.5, -2.0]), np.array([False, True])
    buffer.value_scale = sigma
    buffer.compute_returns_and_advantage(last, dones)
    scaled_advantages, scaled_returns = buffer.advantages.copy(), buffer.returns.copy()
    np.testing.assert_array_equal(buffer.values, values)  # stored as the critic gave them
    buffer.value_scale, buffer.values = None, values * sigma
    buffer.compute_returns_and_advantage(last * sigma, dones)
    np.testing.assert_allclose(scaled_advantages, buffer.advantages, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(scaled_returns, buffer.returns / sigma, rtol=1e-6, atol=1e-6)


class ScaleAtRolloutEnd(BaseCallback):
    """Checks ``returns * sigma == advantages + sigma * values`` with the rollout's sigma."""

    def __init__(self) -> None:
        super().__init__()
        self.checked = 0

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buffer, sigma = self.locals["rollout_buffer"], self.model._value_scale()  # the rollout's
        np.testing.assert_allclose(buffer.returns * sigma, buffer.advantages + sigma * buffer.values, rtol=1e-5, atol=1e-4)
        self.checked += 1


def test_scaled_critic_targets_on_recurrent_a2c():
    model = RecurrentA2C(
        "MlpLstmPolicy",
        scripted_vec_env(),
        n_steps=7,
        scale_critic_targets=True,
        policy_kwargs=dict(net_arch=[8], lstm_hidden_size=8),
        seed=0,
    )
    check = ScaleAtRolloutEnd()
    model.learn(7 * 2 * 3, callback=check)
    assert check.checked == 3
    assert model.return_rms is not None and model.return_rms.count == 7 * 2 * 3
    assert model._value_scale() is None  # no rollout under way
    assert model._current_value_scale() > 10


def test_scale_critic_targets_set_after_construction_starts_its_statistics():
    model = A2C("MlpPolicy", scripted_vec_env(), n_steps=7, seed=0)
    model.learn(14)
    assert model.return_rms is None
    model.scale_critic_targets = True
    check = TianshouReturnScaling(model.gamma, model.gae_lambda)
    model.learn(7 * 2 * 3, callback=check, reset_num_timesteps=False)
    assert check.checked == 3
    check.check_statistics()


def test_scaled_critic_survives_save_and_load(tmp_path):
    model = A2C("MlpPolicy", scripted_vec_env(), n_steps=7, scale_critic_targets=True, seed=0)
    model.learn(7 * 2 * 4)
    model.save(tmp_path / "model")
    loaded = A2C.load(tmp_path / "model", env=scripted_vec_env())
    assert loaded.scale_critic_targets
    assert loaded.return_rms.count == model.return_rms.count == 7 * 2 * 4
    assert loaded.return_rms.var == pytest.approx(model.return_rms.var)


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_scale_critic_targets_must_be_a_bool(value):
    with pytest.raises(ValueError, match="`scale_critic_targets` must be"):
        A2C("MlpPolicy", scripted_vec_env(), scale_critic_targets=value)
    model = A2C("MlpPolicy", scripted_vec_env(), n_steps=7)
    model.scale_critic_targets = value
    with pytest.raises(ValueError, match="`scale_critic_targets` must be"):
        model.learn(14)


def test_scale_critic_targets_needs_a_buffer_that_scales():
    with pytest.raises(ValueError, match=r"`scale_critic_targets=True` needs a `rollout_buffer_class` derived from PGRollout"):
        A2C("MlpPolicy", scripted_vec_env(), scale_critic_targets=True, rollout_buffer_class=RolloutBuffer)
