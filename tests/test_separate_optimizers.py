"""Separate actor and critic optimizers: who owns what, and which gradients go where."""

import pytest
import torch as th
from gymnasium.wrappers import TimeLimit
from helpers import collect
from stable_baselines3.common.envs import FakeImageEnv
from stable_baselines3.common.utils import configure_logger

from sb3_pg import A2C, Reinforce
from sb3_pg.common.critic import split_actor_critic_parameters


def snapshot(params):
    return [p.detach().clone() for p in params]


def changed(before, params) -> list[bool]:
    return [not th.equal(b, p) for b, p in zip(before, params, strict=True)]


def image_env() -> TimeLimit:
    return TimeLimit(FakeImageEnv(screen_height=40, screen_width=40, n_channels=1, discrete=True), 100)


def batch_size(algo: type) -> dict[str, int]:
    return {"n_episodes": 2} if algo is Reinforce else {"n_steps": 16}


@pytest.mark.parametrize("algo", [Reinforce, A2C])
@pytest.mark.parametrize("share_features_extractor", [True, False])
def test_each_optimizer_moves_only_its_parameters(algo, share_features_extractor):
    policy_kwargs = dict(share_features_extractor=share_features_extractor, features_extractor_kwargs=dict(features_dim=16))

    def one_update(learning_rate: float, critic_learning_rate: float) -> tuple[list[bool], list[bool], object]:
        model = algo(
            "CnnPolicy",
            image_env(),
            **batch_size(algo),
            learning_rate=learning_rate,
            critic_learning_rate=critic_learning_rate,
            policy_kwargs=policy_kwargs,
            seed=0,
        )
        actor_before, critic_before = snapshot(model._actor_params), snapshot(model._critic_params)
        collect(model)
        model.train()
        return changed(actor_before, model._actor_params), changed(critic_before, model._critic_params), model

    # Actor step only (critic learning rate 0): every critic parameter stays put
    actor_changed, critic_changed, model = one_update(1e-3, 0.0)
    assert any(actor_changed) and not any(critic_changed)
    # Critic step only: every actor parameter stays put, the shared extractor included
    actor_changed, critic_changed, model = one_update(0.0, 1e-3)
    assert all(critic_changed) and not any(actor_changed)
    # The rule: a shared features extractor belongs to the actor
    actor_ids = {id(p) for p in model._actor_params}
    extractor_ids = {id(p) for p in model.policy.features_extractor.parameters()}
    assert extractor_ids <= actor_ids
    if not share_features_extractor:
        assert {id(p) for p in model.policy.vf_features_extractor.parameters()}.isdisjoint(actor_ids)


def test_parameter_split_of_mlp_policy():
    model = A2C("MlpPolicy", "CartPole-v1", critic_learning_rate=1e-3)
    actor, critic = split_actor_critic_parameters(model.policy)
    names = {id(p): name for name, p in model.policy.named_parameters()}
    assert all(names[id(p)].startswith(("mlp_extractor.value_net", "value_net")) for p in critic)
    assert all(names[id(p)].startswith(("mlp_extractor.policy_net", "action_net")) for p in actor)
    assert len(actor) + len(critic) == len(list(model.policy.parameters()))
    assert model.policy.optimizer.param_groups[0]["params"] == actor
    assert model.critic_optimizer.param_groups[0]["params"] == critic


def test_reinforce_actor_loss_sends_no_gradient_to_the_critic():
    model = Reinforce("MlpPolicy", "CartPole-v1", n_episodes=4, seed=0)
    collect(model)
    rollout_data = next(model.rollout_buffer.get())
    losses = model.policy_loss(rollout_data)
    policy_loss, entropy_loss = losses.policy, losses.entropy
    model.policy.zero_grad(set_to_none=True)
    (policy_loss + entropy_loss).backward()
    assert all(p.grad is None or not p.grad.any() for p in model._critic_params)
    assert any(p.grad is not None and p.grad.any() for p in model._actor_params)


def test_reinforce_critic_fits_monte_carlo_returns():
    """The critic's targets are the discounted reward-to-go of complete episodes, and its loss falls."""
    model = Reinforce("MlpPolicy", "CartPole-v1", n_episodes=16, learning_rate=0.0, critic_learning_rate=1e-2, seed=0)
    model.set_logger(configure_logger(0, None, "", False))
    collect(model)
    rollout_data = next(model.rollout_buffer.get())
    losses = [model._critic_step(rollout_data) for _ in range(50)]
    assert losses[-1] < 0.5 * losses[0]
    # CartPole pays 1 per step and every episode ends: the first step's target is sum_k gamma^k up to its length
    episode_lengths = [info["l"] for info in model.ep_info_buffer]
    first_return = rollout_data.returns[0].item()
    assert first_return == pytest.approx(sum(0.99**k for k in range(episode_lengths[0])), rel=1e-5)


@pytest.mark.parametrize("algo", [Reinforce, A2C])
def test_n_critic_updates_take_several_critic_steps(algo):
    def critic_change(n_critic_updates: int) -> float:
        model = algo(
            "MlpPolicy",
            "CartPole-v1",
            critic_learning_rate=1e-3,
            n_critic_updates=n_critic_updates,
            seed=0,
            **batch_size(algo),
        )
        before = snapshot(model._critic_params)
        collect(model)
        model.train()
        return sum((b - p).norm().item() for b, p in zip(before, model._critic_params, strict=True))

    assert critic_change(5) > 2 * critic_change(1)


@pytest.mark.parametrize("vf", [[], [8], [32, 32]])
@pytest.mark.parametrize("algo, kwargs", [(Reinforce, dict(n_episodes=4)), (A2C, dict(critic_learning_rate=1e-3)), (A2C, {})])
def test_every_critic_size_trains(algo, kwargs, vf, tmp_path):
    model = algo("MlpPolicy", "CartPole-v1", policy_kwargs=dict(net_arch=dict(pi=[16], vf=vf)), seed=0, **kwargs)
    critic_before = snapshot(model.policy.value_net.parameters())
    model.learn(200)
    assert any(changed(critic_before, model.policy.value_net.parameters()))
    assert len(model.policy.mlp_extractor.value_net) == 2 * len(vf)  # Linear + activation per layer
    model.save(tmp_path / "model.zip")
    algo.load(tmp_path / "model.zip")
