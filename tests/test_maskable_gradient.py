"""MaskableReinforce's update against the exact policy gradient of the masked policy.

``MaskedStopOrGoMDP`` is ``StopOrGoMDP`` with a third action and a mask that changes with the step,
so the valid actions (and the policy's support) differ from step to step and episodes last 1 to 3
steps. The exact gradient enumerates every trajectory under the masked policy
``pi_m(a|s) = softmax(logits[valid])``; the estimates are the gradients of ``policy_loss`` on the
batches the algorithm collects, through the masks it stored (see ``tests/test_gradient.py``).
"""

from typing import Any

import numpy as np
import pytest
import torch as th
from envs import StopOrGoMDP
from gradient_check import check_unbiased, estimates_until_precise
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.vec_env import DummyVecEnv
from test_gradient import MAX_BATCHES, PRECISION, actor_params

from sb3_pg import MaskableReinforce


class MaskedStopOrGoMDP(StopOrGoMDP):
    """Actions: 0 go on, 1 stop, 2 go on with ``alt_reward``. Step 0 allows 0 and 1; step 1 all three;
    step 2 allows 0 and 2 (stopping is masked; both valid actions end the episode there)."""

    action_space = spaces.Discrete(3)
    alt_reward = (0.0, 1.0, 3.0)
    masks = ((1, 1, 0), (1, 1, 1), (1, 0, 1))

    def action_masks(self) -> np.ndarray:
        return np.array(self.masks[self.t], dtype=bool)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        assert self.masks[self.t][int(action)], "a masked action was taken"
        if int(action) != 2:
            return super().step(action)
        reward = self.alt_reward[self.t]
        self.t += 1
        done = self.t == self.horizon
        return self.one_hot(0 if done else self.t), reward, done, False, {}

    @classmethod
    def trajectories(cls) -> list[list[int]]:  # type: ignore[override]
        """Every valid action sequence."""
        out: list[list[int]] = []

        def extend(prefix: list[int]) -> None:
            t = len(prefix)
            for action in np.flatnonzero(cls.masks[t]):
                path = [*prefix, int(action)]
                if action == 1 or t + 1 == cls.horizon:
                    out.append(path)
                else:
                    extend(path)

        extend([])
        return out


def masked_log_probs(model: MaskableReinforce, t: int) -> th.Tensor:
    logits = model.policy.get_distribution(th.as_tensor(MaskedStopOrGoMDP.one_hot(t))[None]).distribution.logits[0]
    valid = th.as_tensor(MaskedStopOrGoMDP.masks[t], dtype=th.bool)
    return th.where(valid, th.log_softmax(logits.masked_fill(~valid, -th.inf), dim=-1), th.tensor(-th.inf))


def exact_masked_gradient(model: MaskableReinforce) -> np.ndarray:
    """grad sum_tau p_m(tau) R(tau), every trajectory of the masked policy enumerated."""
    mdp, objective = MaskedStopOrGoMDP, th.zeros(())
    for actions in mdp.trajectories():
        log_p, total = th.zeros(()), 0.0
        for t, action in enumerate(actions):
            log_p = log_p + masked_log_probs(model, t)[action]
            total += (mdp.stop_reward, mdp.go_reward, mdp.alt_reward)[[1, 0, 2].index(action)][t]
        objective = objective + log_p.exp() * total
    return th.cat([g.flatten() for g in th.autograd.grad(objective, actor_params(model))]).numpy()


@pytest.mark.parametrize(("baseline", "n_envs"), [("none", 4), ("mean", 4)])
def test_masked_average_update_is_the_exact_gradient_of_the_masked_policy(baseline, n_envs):
    env = DummyVecEnv([lambda: TimeLimit(MaskedStopOrGoMDP(), 10) for _ in range(n_envs)])
    model = MaskableReinforce(
        "MlpPolicy",
        env,
        learning_rate=0.0,
        n_episodes=n_envs,
        gamma=1.0,
        baseline=baseline,
        policy_kwargs=dict(net_arch=dict(pi=[], vf=[])),
        seed=0,
    )
    generator = th.Generator().manual_seed(1)
    actor = [0.3 * th.randn(p.shape, generator=generator) for p in actor_params(model)]
    exact = exact_masked_gradient(_with_actor(model, actor))
    (batch_estimates,), _ = estimates_until_precise(model, exact, actor_params(model), PRECISION, MAX_BATCHES, [actor])
    check_unbiased(batch_estimates, exact, f"masked stop_or_go baseline={baseline} n_envs={n_envs}")


def _with_actor(model: MaskableReinforce, values: list[th.Tensor]) -> MaskableReinforce:
    with th.no_grad():
        for param, value in zip(actor_params(model), values, strict=True):
            param.copy_(value)
    return model
