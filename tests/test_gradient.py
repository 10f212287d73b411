"""The REINFORCE update against the exact policy gradient of small tabular MDPs.

The exact gradient comes from enumerating every trajectory; the estimates are the gradients of
``Reinforce.policy_loss`` on the batches the algorithm collects. ``StopOrGoMDP``'s episodes last 1
to 3 steps, so a batch chosen by anything that depends on episode lengths would be biased there.
With several envs, batches carry episodes begun under the previous batch's policy: the tests that
switch the policy between batches check that the importance weights correct them.

Each check is on the magnitude too: the projection of the average update on the exact gradient,
divided by its squared norm, is 1 for an unbiased estimator (the old design gave 0.5 to 0.8).
"""

import functools
import itertools
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from envs import ConstantReturnEnv, LateRewardMDP, StopOrGoMDP
from gradient_check import check_unbiased, estimates, estimates_until_precise, total_variance
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_pg import Reinforce

MAX_BATCHES = 6_000
PRECISION = 0.05  # standard error of the ratio to the exact gradient that a test needs
ALTERNATING_PRECISION = 0.03  # tighter for the importance weights' correction
MAX_ALTERNATING_BATCHES = 4_000  # per actor


def log_probs_of(model: Reinforce, obs: np.ndarray) -> th.Tensor:
    logits = model.policy.get_distribution(th.as_tensor(obs)[None]).distribution.logits
    return th.log_softmax(logits, dim=-1)[0]


def late_reward_trajectories(model: Reinforce) -> list[tuple[th.Tensor, float]]:
    """(probability, return) of every trajectory of LateRewardMDP (gamma = 1)."""
    mdp, out = LateRewardMDP, []
    for actions in itertools.product((0, 1), repeat=mdp.horizon):
        probability, total, k = th.ones(()), 0.0, 0
        for t, action in enumerate(actions):
            probability = probability * log_probs_of(model, mdp.one_hot(t, k))[action].exp()
            total += mdp.step_reward[action]
            k += action
        out.append((probability, total + mdp.final_reward[k]))
    return out


def stop_or_go_trajectories(model: Reinforce) -> list[tuple[th.Tensor, float]]:
    """(probability, return) of every trajectory of StopOrGoMDP (gamma = 1)."""
    mdp, out = StopOrGoMDP, []
    for actions in mdp.trajectories():
        probability, total = th.ones(()), 0.0
        for t, action in enumerate(actions):
            probability = probability * log_probs_of(model, mdp.one_hot(t))[action].exp()
            total += mdp.stop_reward[t] if action == 1 else mdp.go_reward[t]
        out.append((probability, total))
    return out


MDPS: dict[str, tuple[type[gym.Env], Callable[[Reinforce], list[tuple[th.Tensor, float]]]]] = {
    "late_reward": (LateRewardMDP, late_reward_trajectories),
    "stop_or_go": (StopOrGoMDP, stop_or_go_trajectories),
}


def actor_params(model: Reinforce) -> list[th.nn.Parameter]:
    return list(model.policy.action_net.parameters())


def exact_gradient(model: Reinforce, mdp: str) -> np.ndarray:
    """grad J = grad sum_tau p(tau) R(tau), by enumeration."""
    objective = sum(p * r for p, r in MDPS[mdp][1](model))
    return th.cat([g.flatten() for g in th.autograd.grad(objective, actor_params(model))]).numpy()  # type: ignore[arg-type]


def random_actor(model: Reinforce, seed: int, scale: float = 0.3) -> list[th.Tensor]:
    generator = th.Generator().manual_seed(seed)
    return [scale * th.randn(p.shape, generator=generator) for p in actor_params(model)]


def set_actor(model: Reinforce, values: list[th.Tensor]) -> None:
    with th.no_grad():
        for param, value in zip(actor_params(model), values, strict=True):
            param.copy_(value)


def make_model(mdp: str, baseline: str, reward_to_go: bool, n_envs: int, n_episodes: int, **kwargs: Any) -> Reinforce:
    env_class = MDPS[mdp][0]
    env = DummyVecEnv([lambda: TimeLimit(env_class(), 10) for _ in range(n_envs)])
    model = Reinforce(
        "MlpPolicy",
        env,
        learning_rate=0.0,  # the actor stays put unless a test moves it
        critic_learning_rate=0.05 if baseline == "value" else None,
        n_episodes=n_episodes,
        gamma=1.0,
        baseline=baseline,
        reward_to_go=reward_to_go,
        policy_kwargs=dict(net_arch=dict(pi=[], vf=[])),
        seed=0,
        **kwargs,
    )
    set_actor(model, random_actor(model, 1))  # a policy away from uniform: the gradient has structure
    if baseline in ("value", "running_mean"):
        # Fit V_phi, or the running mean, to the policy's returns; the actor's learning rate is 0. The
        # batches the tests then collect are not trained on: the baseline stays what these made it
        model.learn(3000)
    return model


def on_one_worker(mdp: str, *values: Any) -> Any:
    """A test case of ``mdp`` on the same pytest-xdist worker as that MDP's other cases (``--dist
    loadgroup``), so that the variance tests find its estimates in ``fixed_policy_estimates``' cache."""
    return pytest.param(mdp, *values, marks=pytest.mark.xdist_group(f"gradient-{mdp}"))


CASES = [
    on_one_worker(mdp, baseline, rtg, n_envs)
    for mdp in MDPS
    for baseline in ("none", "mean", "running_mean", "value")
    for rtg in (True, False)
    for n_envs in (1, 4)
]


@functools.cache
def fixed_policy_estimates(mdp: str, baseline: str, reward_to_go: bool, n_envs: int) -> tuple[np.ndarray, np.ndarray]:
    """Batches of one episode per env (the smallest, where a length bias is largest), until the
    ratio to the exact gradient is known to +- ``PRECISION`` (or ``MAX_BATCHES``)."""
    model = make_model(mdp, baseline, reward_to_go, n_envs, n_episodes=n_envs)
    actor = [p.detach().clone() for p in actor_params(model)]
    exact = exact_gradient(model, mdp)
    (batch_estimates,), _ = estimates_until_precise(model, exact, actor_params(model), PRECISION, MAX_BATCHES, [actor])
    return exact, batch_estimates


@pytest.mark.parametrize(("mdp", "baseline", "reward_to_go", "n_envs"), CASES)
def test_average_update_is_the_exact_gradient(mdp, baseline, reward_to_go, n_envs):
    exact, batch_estimates = fixed_policy_estimates(mdp, baseline, reward_to_go, n_envs)
    check_unbiased(batch_estimates, exact, f"{mdp} baseline={baseline} reward_to_go={reward_to_go} n_envs={n_envs}")


@pytest.mark.parametrize(
    ("mdp", "baseline", "reward_to_go"),
    [
        on_one_worker(mdp, baseline, rtg)
        for mdp in MDPS
        for baseline in ("mean", "running_mean", "value")
        for rtg in (True, False)
    ],
)
def test_baselines_lower_the_variance(mdp, baseline, reward_to_go):
    variance_none = total_variance(fixed_policy_estimates(mdp, "none", reward_to_go, 4)[1])
    variance = total_variance(fixed_policy_estimates(mdp, baseline, reward_to_go, 4)[1])
    print(f"{mdp} reward_to_go={reward_to_go}: variance none / {baseline} = {variance_none / variance:.2f}")
    assert variance < 0.8 * variance_none


@pytest.mark.xdist_group("gradient-stop_or_go")
def test_reward_to_go_lowers_the_variance():
    # On StopOrGoMDP rewards come at every step; on LateRewardMDP mostly at the end, where G_t ~ R(tau)
    rtg = total_variance(fixed_policy_estimates("stop_or_go", "none", True, 4)[1])
    whole = total_variance(fixed_policy_estimates("stop_or_go", "none", False, 4)[1])
    assert rtg < whole


@pytest.mark.parametrize("reward_to_go", [True, False])
@pytest.mark.parametrize("baseline", ["none", "mean", "running_mean"])
def test_episodes_begun_by_an_older_policy_are_corrected(baseline, reward_to_go):
    """Two actors alternate batch by batch: each batch holds episodes begun by the other one."""
    model = make_model("stop_or_go", baseline, reward_to_go, n_envs=4, n_episodes=4, stale_episodes="importance")
    learned_steps = model.rollout_buffer.n_batch_steps  # the running mean's fit (make_model), before the estimates
    actors = [random_actor(model, 1), random_actor(model, 2)]
    exact = []
    for actor in actors:
        set_actor(model, actor)
        exact.append(exact_gradient(model, "stop_or_go"))
    batches, rhos = estimates_until_precise(
        model, exact[0], actor_params(model), ALTERNATING_PRECISION, MAX_ALTERNATING_BATCHES, actors, exact
    )
    for batch_estimates, exact_gradient_of_actor in zip(batches, exact, strict=True):
        check_unbiased(batch_estimates, exact_gradient_of_actor, f"alternating, baseline={baseline}", ALTERNATING_PRECISION)
    # Episodes begun by the other actor were in the batches, with weights far from 1
    # and every step taken was trained on, but those of the batches still being collected
    buffer = model.rollout_buffer
    assert buffer.n_batch_steps - learned_steps + buffer.n_waiting_steps == model.num_timesteps
    assert max(abs(np.log(rho)).max() for rho in rhos) > 0.5


def test_no_baseline_is_no_baseline_and_the_mean_baseline_cancels_a_constant_return():
    env = DummyVecEnv([lambda: TimeLimit(ConstantReturnEnv(), 10) for _ in range(2)])
    updates = {}
    for baseline in ("none", "mean"):
        model = Reinforce("MlpPolicy", env, n_episodes=4, baseline=baseline, gamma=1.0, exact_rollouts=True, seed=0)
        (updates[baseline],), _ = estimates(model, 1, actor_params(model))
    assert np.abs(updates["none"]).max() > 1e-3  # not recentred: every return is 2, and the update is not zero
    np.testing.assert_allclose(updates["mean"], 0.0, atol=1e-5)


@pytest.mark.parametrize("reward_to_go", [True, False])
def test_the_running_mean_baseline_is_the_mean_weight_of_the_earlier_batches(reward_to_go):
    """Within ``train``, each batch's baseline is the mean weight over every step of the batches trained
    on before it (0 for the first): never of its own steps, which would bias the estimate."""
    env = DummyVecEnv([lambda: TimeLimit(StopOrGoMDP(), 10) for _ in range(2)])
    model = Reinforce("MlpPolicy", env, n_episodes=4, baseline="running_mean", reward_to_go=reward_to_go, seed=0)
    used: list[tuple[np.ndarray, np.ndarray]] = []  # (weights, baseline) of each step, as train computed them
    weights_of = model.weights

    def recording(rollout_data, rho):
        advantages = weights_of(rollout_data, rho)
        weights = rollout_data.returns if reward_to_go else rollout_data.episode_returns
        used.append((weights.numpy().copy(), (weights - advantages).numpy()))
        return advantages

    model.weights = recording  # type: ignore[method-assign]
    model.learn(600)
    assert len(used) >= 5
    seen: list[np.ndarray] = []
    for weights, baseline in used:
        np.testing.assert_allclose(baseline, np.concatenate(seen).mean() if seen else 0.0, rtol=1e-5, atol=1e-6)
        seen.append(weights)
    all_weights = np.concatenate(seen)
    assert model.weight_rms is not None
    assert model.weight_rms.count == len(all_weights)
    statistics = [model.weight_rms.mean, model.weight_rms.var]
    np.testing.assert_allclose(statistics, [all_weights.mean(), all_weights.var()], rtol=1e-6)


def test_the_running_mean_baseline_cancels_a_constant_return_from_the_second_batch():
    env = DummyVecEnv([lambda: TimeLimit(ConstantReturnEnv(), 10) for _ in range(2)])
    model = Reinforce(
        "MlpPolicy", env, n_episodes=4, baseline="running_mean", reward_to_go=False, gamma=1.0, exact_rollouts=True, seed=0
    )
    (first,), _ = estimates(model, 1, actor_params(model))
    assert np.abs(first).max() > 1e-3  # no earlier batch: the baseline is 0
    model.train()  # every R(tau) is 2: so is the running mean
    (second,), _ = estimates(model, 1, actor_params(model), reset=False)
    np.testing.assert_allclose(second, 0.0, atol=1e-5)
