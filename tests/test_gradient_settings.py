"""The REINFORCE update against its exact target beyond the basic grid of ``test_gradient.py``:
batches that are not a multiple of the envs (stale episodes dropped or reweighted), episodes longer
than a batch lasts, a discount below 1, time-limit truncations bootstrapped by the critic, gSDE
exploration, and the LSTM policy of ``RecurrentReinforce``.

Each target is computed in closed form: by enumerating the MDP's trajectories, or from the Gaussian's
mean and variance for :class:`~envs.QuadraticRewardEnv`."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from envs import LongStopOrGoMDP, QuadraticRewardEnv, StopOrGoMDP
from gradient_check import Trajectory, check_unbiased, estimates_until_precise, projection_ratio, target_gradient
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_pg import RecurrentReinforce, Reinforce

PRECISION = 0.05  # standard error of the ratio to the target that a test needs
MAX_BATCHES = 4_000  # per actor


def stop_or_go_trajectories(mdp: type[StopOrGoMDP], time_limit: int | None = None) -> list[Trajectory]:
    """Every trajectory of a StopOrGo MDP, cut by ``time_limit`` (the bootstrap is filled in later)."""
    out = []
    limit = time_limit or mdp.horizon
    for actions in mdp.trajectories():
        actions = actions[:limit]
        rewards = [mdp.stop_reward[t] if a == 1 else mdp.go_reward[t] for t, a in enumerate(actions)]
        out.append(Trajectory([mdp.one_hot(t) for t in range(len(actions))], actions, rewards))
    # A time limit merges the trajectories that differ only after it
    unique = {tuple(t.actions): t for t in out}
    return list(unique.values())


def actor_params(model: Reinforce) -> list[th.nn.Parameter]:
    return list(model.policy.action_net.parameters())


def set_actor(model: Reinforce, values: list[th.Tensor]) -> None:
    with th.no_grad():
        for param, value in zip(actor_params(model), values, strict=True):
            param.copy_(value)


def go_on_actor(model: Reinforce, seed: int, go_bias: float) -> list[th.Tensor]:
    """Random weights around a policy that goes on with probability sigmoid(``go_bias``) at each step."""
    generator = th.Generator().manual_seed(seed)
    weight = actor_params(model)[0]
    return [0.3 * th.randn(weight.shape, generator=generator), th.tensor([go_bias / 2, -go_bias / 2])]


def stop_or_go_model(mdp: type[StopOrGoMDP], n_envs: int, n_episodes: int, **kwargs) -> Reinforce:
    env = DummyVecEnv([lambda: TimeLimit(mdp(), 100) for _ in range(n_envs)])
    kwargs = {"baseline": "none", "gamma": 1.0, **kwargs}
    with pytest.warns(UserWarning, match="not a multiple") if n_episodes % n_envs else _no_warning():
        model = Reinforce(
            "MlpPolicy",
            env,
            learning_rate=0.0,  # the actor stays where the test puts it
            n_episodes=n_episodes,
            policy_kwargs=dict(net_arch=dict(pi=[], vf=[])),
            seed=0,
            **kwargs,
        )
    return model


class _no_warning:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def exact_at(model: Reinforce, actor: list[th.Tensor], trajectories: list[Trajectory], gamma: float = 1.0) -> np.ndarray:
    set_actor(model, actor)
    return target_gradient(model, trajectories, actor_params(model), gamma, reward_to_go=model.reward_to_go)


@pytest.mark.parametrize("stale_episodes", ["drop", "importance"])
@pytest.mark.parametrize(
    ("mdp", "n_envs", "n_episodes", "go_bias"),
    [
        (StopOrGoMDP, 4, 2, 0.0),  # fewer episodes a batch than envs
        (StopOrGoMDP, 3, 4, 0.0),  # not a multiple of the envs
        (LongStopOrGoMDP, 8, 2, 2.0),  # episodes of 5 steps on average, batches of 2 over 8 envs
    ],
)
def test_batches_of_any_size_with_a_changing_policy(mdp, n_envs, n_episodes, go_bias, stale_episodes):
    """Two actors alternate batch by batch, so that episodes begun before an update are stale."""
    model = stop_or_go_model(mdp, n_envs, n_episodes, stale_episodes=stale_episodes, reward_to_go=True)
    actors = [go_on_actor(model, 1, go_bias), go_on_actor(model, 2, go_bias)]
    trajectories = stop_or_go_trajectories(mdp)
    exact = [exact_at(model, actor, trajectories) for actor in actors]
    batches, rhos = estimates_until_precise(
        model, exact[0], actor_params(model), PRECISION, MAX_BATCHES, actors=actors, exact_of_actors=exact
    )
    label = f"{mdp.__name__} n_envs={n_envs} n_episodes={n_episodes} stale_episodes={stale_episodes}"
    for batch_estimates, target in zip(batches, exact, strict=True):
        check_unbiased(batch_estimates, target, label, PRECISION)
    largest = max(np.abs(np.log(rho)).max() for rho in rhos)
    if stale_episodes == "drop":
        assert largest < 1e-4  # every batch on-policy
    else:
        assert largest > 0.3  # stale episodes were trained on, with weights far from 1


@pytest.mark.parametrize("reward_to_go", [True, False])
@pytest.mark.parametrize("baseline", ["none", "mean", "value"])
def test_a_discount_below_one_estimates_its_documented_target(baseline, reward_to_go):
    """gamma = 0.8: the reward-to-go form estimates sum_t E[grad log pi G_t] (not the discounted
    objective's gradient, which has gamma^t in it); the whole-return form grad E[R(tau)]."""
    gamma = 0.8
    critic = {"critic_learning_rate": 0.0} if baseline == "value" else {}
    model = stop_or_go_model(StopOrGoMDP, 4, 4, baseline=baseline, reward_to_go=reward_to_go, gamma=gamma, **critic)
    actor = go_on_actor(model, 3, 0.5)
    exact = exact_at(model, actor, stop_or_go_trajectories(StopOrGoMDP), gamma)
    (batch_estimates,), _ = estimates_until_precise(model, exact, actor_params(model), PRECISION, MAX_BATCHES, [actor])
    check_unbiased(batch_estimates, exact, f"gamma={gamma} baseline={baseline} reward_to_go={reward_to_go}", PRECISION)


@pytest.mark.parametrize("reward_to_go", [True, False])
def test_a_truncation_is_bootstrapped_with_the_critic(reward_to_go):
    """LongStopOrGoMDP cut at 3 steps: an episode that goes on 3 times is truncated, and its return
    takes gamma * V(s_3) from the critic (frozen here, so that the target stays put)."""
    gamma, limit = 0.9, 3
    env = DummyVecEnv([lambda: TimeLimit(LongStopOrGoMDP(), limit) for _ in range(4)])
    model = Reinforce(
        "MlpPolicy",
        env,
        learning_rate=0.0,
        critic_learning_rate=0.0,
        n_episodes=4,
        gamma=gamma,
        reward_to_go=reward_to_go,
        policy_kwargs=dict(net_arch=dict(pi=[], vf=[])),
        seed=0,
    )
    with th.no_grad():  # a critic far from zero: the bootstrap matters
        model.policy.value_net.bias.fill_(5.0)
        terminal_value = float(model.policy.predict_values(th.as_tensor(LongStopOrGoMDP.one_hot(limit))[None]).item())
    trajectories = stop_or_go_trajectories(LongStopOrGoMDP, time_limit=limit)
    for trajectory in trajectories:
        if len(trajectory.actions) == limit and trajectory.actions[-1] == 0:  # truncated, not ended
            trajectory.bootstrap = terminal_value
    actor = go_on_actor(model, 4, 1.0)
    exact = exact_at(model, actor, trajectories, gamma)
    (batch_estimates,), _ = estimates_until_precise(model, exact, actor_params(model), PRECISION, MAX_BATCHES, [actor])
    check_unbiased(batch_estimates, exact, f"truncation bootstrap reward_to_go={reward_to_go}", PRECISION)


def gaussian_objective(model: Reinforce) -> th.Tensor:
    """QuadraticRewardEnv's J = E[T] (-(mu - 1)^2 - var), from the policy's own mean and variance."""
    obs = th.as_tensor(QuadraticRewardEnv.observation)[None]
    distribution = model.policy.get_distribution(obs)
    if model.use_sde:  # gSDE's variance: the features squared times the noise's variance, summed
        latent = model.policy.mlp_extractor.forward_actor(model.policy.extract_features(obs))
        std = model.policy.action_dist.get_std(model.policy.log_std)
        variance = th.mm(latent**2, std**2)
        mean = model.policy.action_net(latent)
    else:
        mean, variance = distribution.distribution.mean, distribution.distribution.variance
    per_step = -((mean - QuadraticRewardEnv.target) ** 2) - variance
    return QuadraticRewardEnv.expected_length * per_step.sum()


@pytest.mark.parametrize("use_sde", [False, True])
def test_gaussian_and_gsde_updates_are_the_exact_gradient(use_sde):
    """Every actor parameter, the hidden layer that gSDE's noise is scaled by included."""
    env = DummyVecEnv([lambda: TimeLimit(QuadraticRewardEnv(), 100) for _ in range(2)])
    sde = dict(use_sde=True, sde_sample_freq=1) if use_sde else {}
    model = Reinforce(
        "MlpPolicy",
        env,
        learning_rate=0.0,
        n_episodes=4,
        gamma=1.0,
        baseline="mean",
        policy_kwargs=dict(net_arch=dict(pi=[3], vf=[]), log_std_init=-0.5),
        seed=0,
        **sde,
    )
    params = [p for name, p in model.policy.named_parameters() if "value_net" not in name]  # the actor's
    exact = th.cat([g.flatten() for g in th.autograd.grad(gaussian_objective(model), params)]).numpy()
    (batch_estimates,), _ = estimates_until_precise(model, exact, params, PRECISION, MAX_BATCHES)
    check_unbiased(batch_estimates, exact, f"Gaussian use_sde={use_sde}", PRECISION)
    assert projection_ratio(batch_estimates, exact)[1] <= PRECISION + 0.005


def test_gsde_with_a_noise_matrix_kept_over_steps_is_refused():
    with pytest.raises(ValueError, match=r"`sde_sample_freq` must be 1 with use_sde=True.*got sde_sample_freq=16"):
        Reinforce("MlpPolicy", "Pendulum-v1", use_sde=True, sde_sample_freq=16)
    with pytest.raises(ValueError, match=r"`sde_sample_freq` must be 1"):
        Reinforce("MlpPolicy", "Pendulum-v1", use_sde=True)  # SB3's default, -1: one matrix per rollout


class HiddenStepMDP(StopOrGoMDP):
    """StopOrGoMDP whose observation hides the step number (a constant): only memory tells the steps apart."""

    observation_space = gym.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)

    @classmethod
    def one_hot(cls, t: int) -> np.ndarray:
        return np.ones(1, dtype=np.float32)


def lstm_log_probs(model: Reinforce, trajectory: Trajectory) -> th.Tensor:
    """log pi(a_t | o_0 .. o_t) of a trajectory's actions, the LSTM run from a zero state."""
    policy = model.policy
    lstm = policy.lstm_actor
    states = (th.zeros(lstm.num_layers, 1, lstm.hidden_size), th.zeros(lstm.num_layers, 1, lstm.hidden_size))
    out = []
    for t, (obs, action) in enumerate(zip(trajectory.observations, trajectory.actions, strict=True)):
        start = th.tensor([1.0 if t == 0 else 0.0])
        distribution, states = policy.get_distribution(th.as_tensor(obs)[None], states, start)
        out.append(distribution.log_prob(th.tensor([action]))[0])
    return th.stack(out)


def test_recurrent_reinforce_update_is_the_exact_gradient():
    env = DummyVecEnv([lambda: TimeLimit(HiddenStepMDP(), 100) for _ in range(4)])
    model = RecurrentReinforce(
        "MlpLstmPolicy",
        env,
        learning_rate=0.0,
        n_episodes=4,
        gamma=1.0,
        baseline="mean",
        # the recurrent defaults normalise and clip (learning aids the exact gradient does not include)
        normalize_advantage=False,
        max_grad_norm=None,
        policy_kwargs=dict(net_arch=dict(pi=[], vf=[]), lstm_hidden_size=4, enable_critic_lstm=False, shared_lstm=False),
        seed=0,
    )
    params = [*model.policy.lstm_actor.parameters(), *model.policy.action_net.parameters()]
    trajectories = stop_or_go_trajectories(HiddenStepMDP)
    exact = target_gradient(model, trajectories, params, 1.0, reward_to_go=True, log_probs=lstm_log_probs)
    (batch_estimates,), _ = estimates_until_precise(model, exact, params, PRECISION, MAX_BATCHES)
    check_unbiased(batch_estimates, exact, "RecurrentReinforce", PRECISION)
