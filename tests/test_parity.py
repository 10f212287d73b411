"""With its default arguments, sb3_pg.A2C is SB3's A2C, update for update."""

import pytest
import stable_baselines3 as sb3
import torch as th

from sb3_pg import A2C


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize("seed", [0, 1])
def test_same_parameters_as_sb3_after_20_updates(env_id, seed):
    ours = A2C("MlpPolicy", env_id, seed=seed).learn(100)  # n_steps=5: 20 updates
    reference = sb3.A2C("MlpPolicy", env_id, seed=seed).learn(100)
    assert ours._n_updates == reference._n_updates == 20
    for (name, p), q in zip(ours.policy.named_parameters(), reference.policy.parameters(), strict=True):
        th.testing.assert_close(p, q, atol=1e-6, rtol=0, msg=name)
    # and it did learn something: the parameters moved from their initial values
    initial = A2C("MlpPolicy", env_id, seed=seed)
    assert any(not th.equal(p, q) for p, q in zip(initial.policy.parameters(), ours.policy.parameters(), strict=True))


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize(
    "kwargs",
    [dict(ent_coef=1e-3), dict(learning_rate=lambda progress: 8.3e-4 * progress), dict(gamma=0.995, gae_lambda=0.9)],
    ids=["ent_coef", "schedule", "gamma-gae"],
)
def test_same_parameters_as_sb3_with_other_arguments(env_id, kwargs):
    # The entropy bonus makes autograd sum gradients from three paths: identical only in SB3's order
    ours = A2C("MlpPolicy", env_id, seed=0, **kwargs).learn(200)
    reference = sb3.A2C("MlpPolicy", env_id, seed=0, **kwargs).learn(200)
    for (name, p), q in zip(ours.policy.named_parameters(), reference.policy.parameters(), strict=True):
        assert th.equal(p, q), name
