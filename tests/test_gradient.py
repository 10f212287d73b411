"""The REINFORCE update against the exact policy gradient of a small tabular MDP.

The exact gradient comes from enumerating every trajectory of ``LateRewardMDP``; the estimates
are the gradients of ``Reinforce.policy_loss`` on independent batches collected by the algorithm.
"""

import itertools

import numpy as np
import pytest
import torch as th
from envs import LateRewardMDP
from helpers import collect
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_pg import Reinforce

N_BATCHES = 400
N_ENVS = 4


def exact_gradient(model: Reinforce, params: list[th.nn.Parameter]) -> th.Tensor:
    """grad J = grad sum_tau p(tau) R(tau), by enumeration (gamma = 1)."""
    mdp = LateRewardMDP
    objective = th.zeros(())
    for actions in itertools.product((0, 1), repeat=mdp.horizon):
        probability, total_reward, k = th.ones(()), 0.0, 0
        for t, action in enumerate(actions):
            obs = th.as_tensor(mdp.one_hot(t, k))[None]
            log_probs = th.log_softmax(model.policy.get_distribution(obs).distribution.logits, dim=-1)[0]
            probability = probability * log_probs[action].exp()
            total_reward += mdp.step_reward[action]
            k += action
        total_reward += mdp.final_reward[k]
        objective = objective + probability * total_reward
    return th.cat([g.flatten() for g in th.autograd.grad(objective, params)])


def make_model(baseline: str, reward_to_go: bool) -> Reinforce:
    env = DummyVecEnv([LateRewardMDP for _ in range(N_ENVS)])
    model = Reinforce(
        "MlpPolicy",
        env,
        learning_rate=0.0,  # the actor stays put: every batch samples the same policy
        critic_learning_rate=0.05 if baseline == "value" else None,
        n_steps=4,  # not a multiple of the horizon (3): each env runs its second episode to its end
        gamma=1.0,
        baseline=baseline,
        reward_to_go=reward_to_go,
        loss_reduction="episode_mean",
        normalize_advantage=False,
        policy_kwargs=dict(net_arch=dict(pi=[], vf=[])),
        seed=0,
    )
    # A policy far from uniform, so that the gradient has structure
    generator = th.Generator().manual_seed(1)
    with th.no_grad():
        model.policy.action_net.weight.copy_(th.randn(model.policy.action_net.weight.shape, generator=generator))
    if baseline == "value":
        model.learn(3000)  # fit V_phi to the (fixed) policy's returns; the actor's learning rate is 0
    return model


def gradient_estimates(model: Reinforce) -> tuple[np.ndarray, np.ndarray]:
    params = list(model.policy.action_net.parameters())
    exact = exact_gradient(model, params).numpy()
    estimates = []
    for _ in range(N_BATCHES):
        collect(model)
        rollout_data = next(model.rollout_buffer.get())
        policy_loss, _ = model.policy_loss(rollout_data)
        grads = th.autograd.grad(-policy_loss, params)
        estimates.append(th.cat([g.flatten() for g in grads]).numpy())
    return exact, np.array(estimates)


def total_variance(estimates: np.ndarray) -> float:
    return float(((estimates - estimates.mean(axis=0)) ** 2).sum(axis=1).mean())


@pytest.fixture(scope="module")
def estimates() -> dict[tuple[str, bool], tuple[np.ndarray, np.ndarray]]:
    return {
        (baseline, rtg): gradient_estimates(make_model(baseline, rtg))
        for baseline in ("none", "mean", "value")
        for rtg in (True, False)
    }


@pytest.mark.parametrize("reward_to_go", [True, False])
@pytest.mark.parametrize("baseline", ["none", "mean", "value"])
def test_average_update_follows_exact_gradient(estimates, baseline, reward_to_go):
    exact, batch_estimates = estimates[(baseline, reward_to_go)]
    mean = batch_estimates.mean(axis=0)
    cosine = mean @ exact / (np.linalg.norm(mean) * np.linalg.norm(exact))
    norm_ratio = np.linalg.norm(mean) / np.linalg.norm(exact)
    print(f"baseline={baseline} reward_to_go={reward_to_go}: cosine {cosine:.4f}, norm ratio {norm_ratio:.3f}")
    assert cosine > 0.98
    # The estimator is unbiased: the scale matches too
    assert 0.9 < norm_ratio < 1.1


@pytest.mark.parametrize("reward_to_go", [True, False])
@pytest.mark.parametrize("baseline", ["mean", "value"])
def test_baselines_lower_the_variance(estimates, baseline, reward_to_go):
    variance_none = total_variance(estimates[("none", reward_to_go)][1])
    variance = total_variance(estimates[(baseline, reward_to_go)][1])
    print(f"reward_to_go={reward_to_go}: variance none / {baseline} = {variance_none / variance:.2f}")
    assert variance < 0.8 * variance_none


def test_reward_to_go_lowers_the_variance(estimates):
    assert total_variance(estimates[("none", True)][1]) < total_variance(estimates[("none", False)][1])
