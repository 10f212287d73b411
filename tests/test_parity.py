"""With its default arguments, sb3_pg.A2C is SB3's A2C, update for update: the same rollout gives the same
update to the bit, and with ``exact_rollouts=True`` (SB3's random stream) a whole run is SB3's."""

import numpy as np
import pytest
import stable_baselines3 as sb3
import torch as th
from stable_baselines3.common.logger import Logger

from sb3_pg import A2C


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize("seed", [0, 1])
def test_same_parameters_as_sb3_after_20_updates(env_id, seed):
    ours = A2C("MlpPolicy", env_id, seed=seed, exact_rollouts=True).learn(100)  # n_steps=5: 20 updates
    reference = sb3.A2C("MlpPolicy", env_id, seed=seed).learn(100)
    assert ours._n_updates == reference._n_updates == 20
    for (name, p), q in zip(ours.policy.named_parameters(), reference.policy.parameters(), strict=True):
        th.testing.assert_close(p, q, atol=1e-6, rtol=0, msg=name)
    # and it did learn something: the parameters moved from their initial values
    initial = A2C("MlpPolicy", env_id, seed=seed, exact_rollouts=True)
    assert any(not th.equal(p, q) for p, q in zip(initial.policy.parameters(), ours.policy.parameters(), strict=True))


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize(
    "kwargs",
    [dict(ent_coef=1e-3), dict(learning_rate=lambda progress: 8.3e-4 * progress), dict(gamma=0.995, gae_lambda=0.9)],
    ids=["ent_coef", "schedule", "gamma-gae"],
)
def test_same_parameters_as_sb3_with_other_arguments(env_id, kwargs):
    # The entropy bonus makes autograd sum gradients from three paths: identical only in SB3's order
    ours = A2C("MlpPolicy", env_id, seed=0, exact_rollouts=True, **kwargs).learn(200)
    reference = sb3.A2C("MlpPolicy", env_id, seed=0, **kwargs).learn(200)
    for (name, p), q in zip(ours.policy.named_parameters(), reference.policy.parameters(), strict=True):
        assert th.equal(p, q), name


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize("kwargs", [{}, dict(ent_coef=1e-3, gae_lambda=0.9)], ids=["defaults", "ent_coef-gae"])
def test_same_update_as_sb3_from_the_same_rollout(env_id, kwargs):
    """The default (NumPy) rollout path samples its own actions; given the rollout it collected,
    SB3's A2C makes the very same update."""
    ours = A2C("MlpPolicy", env_id, seed=0, **kwargs)
    reference = sb3.A2C("MlpPolicy", env_id, seed=0, **kwargs)
    reference.policy.load_state_dict(ours.policy.state_dict())
    reference.set_logger(Logger(folder=None, output_formats=[]))
    _, callback = ours._setup_learn(1000, callback=None)
    callback.on_training_start(locals(), globals())
    for _ in range(5):
        assert ours.collect_rollouts(ours.env, callback, ours.rollout_buffer, ours.n_steps)
        assert ours._numpy_actor() is not None
        buffer = reference.rollout_buffer
        for name in ("observations", "actions", "rewards", "returns", "episode_starts", "values", "log_probs", "advantages"):
            setattr(buffer, name, getattr(ours.rollout_buffer, name).copy())
        buffer.full, buffer.generator_ready = True, False
        # The same progress (learning rate) and the same sample order (numpy's global generator)
        reference._current_progress_remaining = ours._current_progress_remaining
        random_state = np.random.get_state()
        ours.train()
        np.random.set_state(random_state)
        reference.train()
        for (name, p), q in zip(ours.policy.named_parameters(), reference.policy.parameters(), strict=True):
            assert th.equal(p, q), name
        for state, reference_state in zip(
            ours.policy.optimizer.state.values(), reference.policy.optimizer.state.values(), strict=True
        ):
            assert all(th.equal(state[key], reference_state[key]) for key in state)
    assert not np.allclose(ours.rollout_buffer.values, 0)
