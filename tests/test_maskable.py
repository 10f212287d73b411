"""MaskableA2C and MaskableReinforce: the behaviours sb3-contrib's MaskablePPO tests describe, for ours."""

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from sb3_contrib.common.envs import InvalidActionEnvDiscrete, InvalidActionEnvMultiBinary, InvalidActionEnvMultiDiscrete
from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback
from sb3_contrib.common.maskable.evaluation import evaluate_policy
from sb3_contrib.common.wrappers import ActionMasker
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import IdentityEnv, IdentityEnvBox
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

from sb3_pg.maskable import MaskableA2C, MaskableReinforce

ALGOS = [MaskableA2C, MaskableReinforce]
EP_LENGTH = 20


def short_kwargs(algo: type) -> dict[str, Any]:
    return {"n_episodes": 2} if algo is MaskableReinforce else {"n_steps": 8}


def limited(env: gym.Env) -> gym.Env:
    """A time limit at the env's own episode length: REINFORCE needs one to know episodes end."""
    return gym.wrappers.TimeLimit(env, EP_LENGTH)


def is_valid(space: spaces.Space, action: Any, mask: np.ndarray) -> bool:
    """Whether ``action`` is allowed by ``mask`` (sb3-contrib's layout: one entry per choice)."""
    mask = np.asarray(mask, dtype=bool)
    if isinstance(space, spaces.Discrete):
        return bool(mask[int(action)])
    if isinstance(space, spaces.MultiDiscrete):
        offsets = np.concatenate([[0], np.cumsum(space.nvec)[:-1]])
        return bool(mask[offsets + np.asarray(action, dtype=int)].all())
    offsets = 2 * np.arange(int(space.n))  # MultiBinary: two choices per bit
    return bool(mask[offsets + np.asarray(action, dtype=int)].all())


class CheckMasks(gym.Wrapper):
    """Counts the actions the env's masks forbid, and keeps the masks each step was taken under."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.invalid = 0
        self.steps = 0
        self.masks: list[np.ndarray] = []

    def action_masks(self) -> np.ndarray:
        return np.asarray(self.env.get_wrapper_attr("action_masks")())

    def step(self, action: Any) -> Any:
        mask = self.action_masks()
        self.masks.append(mask)
        self.invalid += not is_valid(self.action_space, action, mask)
        self.steps += 1
        return self.env.step(action)


MASKED_ENVS = {
    "Discrete": lambda: limited(InvalidActionEnvDiscrete(dim=10, ep_length=EP_LENGTH, n_invalid_actions=7)),
    "MultiDiscrete": lambda: limited(InvalidActionEnvMultiDiscrete(dims=[3, 4], ep_length=EP_LENGTH, n_invalid_actions=3)),
    "MultiBinary": lambda: limited(InvalidActionEnvMultiBinary(dims=3, ep_length=EP_LENGTH, n_invalid_actions=2)),
}


def checked_vec_env(space: str, n_envs: int, vec_env_cls: type = DummyVecEnv) -> Any:
    return make_vec_env(lambda: CheckMasks(MASKED_ENVS[space]()), n_envs=n_envs, seed=0, vec_env_cls=vec_env_cls)


@pytest.mark.parametrize("space", list(MASKED_ENVS))
@pytest.mark.parametrize("algo", ALGOS)
def test_invalid_actions_are_never_taken_in_rollouts_or_predict(algo, space, tmp_path):
    np.random.seed(0)  # sb3-contrib's envs draw their invalid actions from NumPy's global generator
    env = checked_vec_env(space, n_envs=2)
    model = algo("MlpPolicy", env, seed=0, **short_kwargs(algo)).learn(300)
    steps, invalid = env.get_attr("steps"), env.get_attr("invalid")
    assert sum(steps) >= 300 and sum(invalid) == 0

    model.save(tmp_path / "model.zip")
    loaded = algo.load(tmp_path / "model.zip", env=env)
    obs = env.reset()
    for _ in range(50):
        masks = np.stack(env.env_method("action_masks"))
        for candidate in (model, loaded):
            actions, _ = candidate.predict(obs, action_masks=masks)
            assert all(is_valid(env.action_space, a, m) for a, m in zip(actions, masks, strict=True))
        obs, *_ = env.step(actions)
    loaded.learn(100)  # training goes on after loading, still under the masks
    assert sum(env.get_attr("invalid")) == 0


@pytest.mark.parametrize("algo", ALGOS)
def test_buffer_trains_on_the_masks_each_step_was_taken_under(algo):
    """The masks handed to the update are the env's at each step (REINFORCE's included when its
    buffer keeps a later batch's steps and moves them up)."""
    np.random.seed(1)
    env = checked_vec_env("Discrete", n_envs=2)
    model = algo("MlpPolicy", env, seed=1, **short_kwargs(algo))
    seen: list[np.ndarray] = []

    class Check(BaseCallback):
        def _on_rollout_end(self) -> None:
            batch = next(iter(self.model.rollout_buffer.get()))
            taken = batch.actions.long().flatten().numpy()
            masks = batch.action_masks.numpy().astype(bool)
            assert masks[np.arange(len(taken)), taken].all()  # each stored action is valid under its stored mask
            seen.append(masks)

        def _on_step(self) -> bool:
            return True

    model.learn(200, callback=Check())
    assert len(seen) >= 3
    stored = np.concatenate(seen)
    env_masks = np.concatenate([np.stack(m) for m in env.get_attr("masks")])
    # Every stored mask is one the env gave (a mask rewritten with another step's would not be)
    assert all((row == env_masks).all(axis=1).any() for row in stored)
    assert (stored.sum(axis=1) == 3).all()  # 10 actions, 7 invalid


@pytest.mark.parametrize("algo", ALGOS)
def test_an_untrained_model_succeeds_when_only_the_good_action_is_valid(algo):
    np.random.seed(8)
    env = limited(InvalidActionEnvDiscrete(dim=20, ep_length=EP_LENGTH, n_invalid_actions=19))
    model = algo("MlpPolicy", env, seed=8, **short_kwargs(algo))
    evaluate_policy(model, env, n_eval_episodes=5, reward_threshold=EP_LENGTH - 0.5, warn=False)
    masked, _ = evaluate_policy(model, env, n_eval_episodes=5, warn=False)
    unmasked, _ = evaluate_policy(model, env, n_eval_episodes=5, warn=False, use_masking=False)
    assert masked == EP_LENGTH and unmasked < EP_LENGTH / 2


@pytest.mark.parametrize("vec_env_cls", [DummyVecEnv, SubprocVecEnv])
@pytest.mark.parametrize("algo", ALGOS)
def test_env_without_masks_needs_use_masking_false(algo, vec_env_cls):
    env = make_vec_env(lambda: limited(IdentityEnv(dim=2, ep_length=EP_LENGTH)), n_envs=2, vec_env_cls=vec_env_cls)
    try:
        model = algo("MlpPolicy", env, seed=0, **short_kwargs(algo))
        with pytest.raises(ValueError, match="no action_masks"):
            model.learn(100)
        model.learn(100, use_masking=False)
        assert model.num_timesteps >= 100
        evaluate_policy(model, env, n_eval_episodes=2, warn=False, use_masking=False)
    finally:
        env.close()


@pytest.mark.parametrize("algo", ALGOS)
def test_action_masker_wrapper_and_eval_callback(algo, tmp_path):
    """Masks from sb3-contrib's ActionMasker; MaskableEvalCallback evaluates with them during training."""

    def only_even(env: gym.Env) -> np.ndarray:
        return np.arange(env.action_space.n) % 2 == 0

    def make() -> gym.Env:
        return CheckMasks(limited(ActionMasker(IdentityEnv(dim=6, ep_length=EP_LENGTH), only_even)))

    env = make_vec_env(make, n_envs=2, seed=0)
    eval_env = make()
    callback = MaskableEvalCallback(eval_env, eval_freq=50, n_eval_episodes=2, log_path=str(tmp_path), warn=False)
    algo("MlpPolicy", env, seed=0, **short_kwargs(algo)).learn(200, callback=callback)
    assert callback.n_calls > 0 and (tmp_path / "evaluations.npz").exists()
    assert sum(env.get_attr("invalid")) == 0 and eval_env.invalid == 0 and eval_env.steps > 0


A2C_OPTIONS = [
    {"gae_lambda": 0.0},
    {"gae_lambda": 0.95, "critic_target": "monte_carlo"},
    {"critic_learning_rate": 1e-3, "n_critic_updates": 2},
    {"normalize_advantage": True, "ent_coef": 0.01},
]
REINFORCE_OPTIONS = [
    {"baseline": "none"},
    {"baseline": "mean", "reward_to_go": False},
    {"baseline": "running_mean"},
    {"loss_reduction": "step_mean"},
]


@pytest.mark.parametrize(
    "algo, options",
    [(MaskableA2C, o) for o in A2C_OPTIONS] + [(MaskableReinforce, o) for o in REINFORCE_OPTIONS],
    ids=[f"a2c-{o}" for o in A2C_OPTIONS] + [f"reinforce-{o}" for o in REINFORCE_OPTIONS],
)
def test_every_estimator_option_works_with_masks(algo, options):
    np.random.seed(2)
    env = checked_vec_env("Discrete", n_envs=2)
    model = algo("MlpPolicy", env, seed=2, **{**short_kwargs(algo), **options}).learn(200)
    assert sum(env.get_attr("invalid")) == 0
    assert model.logger.name_to_value.get("train/policy_loss") is not None or model._n_updates > 0
    if options.get("baseline") == "running_mean":
        assert model.weight_rms is not None and model.weight_rms.count > 0


@pytest.mark.parametrize("algo", ALGOS)
def test_dict_observations_and_vec_normalize(algo):
    class DictObs(gym.ObservationWrapper):
        def __init__(self, env: gym.Env):
            super().__init__(env)
            self.observation_space = spaces.Dict({"obs": spaces.Box(0.0, 1.0, (env.observation_space.n,))})

        def observation(self, observation: Any) -> dict[str, np.ndarray]:
            return {"obs": np.eye(self.env.observation_space.n, dtype=np.float32)[observation]}

        def action_masks(self) -> np.ndarray:
            return np.asarray(self.env.unwrapped.action_masks())

    np.random.seed(3)
    env = VecNormalize(make_vec_env(lambda: CheckMasks(DictObs(MASKED_ENVS["Discrete"]())), n_envs=2, seed=0))
    algo("MultiInputPolicy", env, seed=3, **short_kwargs(algo)).learn(200)
    assert sum(env.get_attr("invalid")) == 0


@pytest.mark.parametrize("algo", ALGOS)
def test_bad_input_is_refused_at_construction(algo):
    with pytest.raises(ValueError, match="`policy` must be one of MlpPolicy"):
        algo(ActorCriticPolicy, MASKED_ENVS["Discrete"](), **short_kwargs(algo))
    with pytest.raises(ValueError, match="masks cannot apply to"):
        algo("MlpPolicy", limited(IdentityEnvBox(ep_length=EP_LENGTH)), **short_kwargs(algo))
    with pytest.raises(ValueError, match="`rollout_buffer_class` must store action masks"):
        from sb3_pg.common.buffers import PGRolloutBuffer
        from sb3_pg.common.episode_buffer import EpisodicRolloutBuffer

        plain = EpisodicRolloutBuffer if algo is MaskableReinforce else PGRolloutBuffer
        algo("MlpPolicy", MASKED_ENVS["Discrete"](), rollout_buffer_class=plain, **short_kwargs(algo))
    model = algo("MlpPolicy", MASKED_ENVS["Discrete"](), **short_kwargs(algo))
    with pytest.raises(ValueError, match="`use_masking` must be True or False"):
        model.learn(10, use_masking="yes")


# The masked identity task sb3-contrib's MaskablePPO test learns (InvalidActionIdentity-v0: 70
# actions, 55 of the wrong ones masked at each step; an untrained masked policy scores about 100/15,
# an unmasked one about 100/70). Measured at these budgets, seeds 0, 1, 2 (a throwaway sweep with
# these settings): A2C at 5,000 steps, masked 97.3, 87.1, 99.7, unmasked 32.9, 34.3, 25.9 (evaluated
# even with masks); REINFORCE at 3,000 steps, masked 90.0, 85.9, 91.1, unmasked 40.7, 33.8, 31.1.
LEARNING_CASES = [
    (MaskableA2C, 5000, {"gamma": 0.1, "n_steps": 8, "learning_rate": 3e-3}),
    (MaskableReinforce, 3000, {"gamma": 0.1, "n_episodes": 2}),
]


@pytest.mark.parametrize("algo, budget, kwargs", LEARNING_CASES, ids=["a2c", "reinforce"])
def test_masking_solves_what_the_unmasked_algorithm_cannot_at_the_same_budget(algo, budget, kwargs):
    scores = {}
    for use_masking in (True, False):
        env = gym.make("InvalidActionIdentity-v0")
        model = algo("MlpPolicy", env, seed=0, **kwargs).learn(budget, use_masking=use_masking)
        env.reset(seed=100)
        scores[use_masking], _ = evaluate_policy(model, env, n_eval_episodes=10, warn=False, use_masking=use_masking)
    assert scores[True] >= 75, scores
    assert scores[False] <= 50, scores


MASKED_ENV_ID = "InvalidActionIdentity-v0"  # registered by sb3_pg


def test_registered_masked_env_is_seeded_by_reset():
    first, second = gym.make(MASKED_ENV_ID), gym.make(MASKED_ENV_ID)
    runs = []
    for env in (first, second):
        obs, _ = env.reset(seed=5)
        trace = [obs, env.get_wrapper_attr("action_masks")()]
        for _ in range(3):
            obs, *_ = env.step(0)
            trace += [obs, env.get_wrapper_attr("action_masks")()]
        runs.append(trace)
    assert all(np.array_equal(a, b) for a, b in zip(*runs, strict=True))
    assert sum(runs[0][1]) == 70 - 55


@pytest.mark.parametrize("algo", ALGOS)
def test_our_evaluate_policy_applies_masks(algo):
    from sb3_pg.evaluation import evaluate_policy as ours

    np.random.seed(8)
    env = limited(InvalidActionEnvDiscrete(dim=20, ep_length=EP_LENGTH, n_invalid_actions=19))
    model = algo("MlpPolicy", env, seed=8, **short_kwargs(algo))
    assert ours(model, env, n_eval_episodes=2)[0] == EP_LENGTH


def test_train_command_evaluates_and_saves_with_masks(tmp_path):
    from sb3_pg.cli import main

    save = tmp_path / "agent.zip"
    # n_steps=8: the tuned entry's 2048 would train 4096 steps, 20 evaluations
    argv = ["train", "--algo", "maskable_a2c", "--env", MASKED_ENV_ID, "--timesteps", "400", "--n-envs", "2"]
    argv += ["--hyperparams", "n_steps=8"]
    assert main([*argv, "--eval-freq", "200", "--eval-episodes", "2", "--save", str(save), "--no-progress-bar"]) == 0
    assert MaskableA2C.load(save).policy.__class__.__name__ == "MlpPolicy"
    assert (tmp_path / "agent_best.zip").exists()


def test_compare_and_tune_run_the_maskable_algorithms(tmp_path):
    import pandas as pd

    from sb3_pg.cli import main

    out = tmp_path / "compare"
    argv = ["compare", "--envs", MASKED_ENV_ID, "--algos", "maskable_reinforce", "maskable_a2c", "--seeds", "1"]
    # The tuned entries' batches (2048 steps, 32 episodes) run past 400 steps: evaluated twice or so
    argv += ["--timesteps", "400", "--eval-freq", "1000", "--eval-episodes", "1", "--out", str(out), "--no-progress-bar"]
    assert main(argv) == 0
    results = pd.read_csv(out / "results.csv")
    assert set(results["algo"]) == {"maskable_reinforce", "maskable_a2c"}
    # An untrained masked policy already scores about 100/15: above the unmasked random 100/70
    assert (results["final_return"] > 100 / 70 * 2).all()

    tune = ["tune", "--algo", "maskable_a2c", "--env", MASKED_ENV_ID, "--n-trials", "2", "--n-timesteps", "200"]
    tune += ["--n-evaluations", "1", "--eval-episodes", "1", "--out", str(tmp_path / "tune"), "--no-progress-bar"]
    assert main(tune) == 0
    assert (tmp_path / "tune" / "best.yml").exists()


@pytest.mark.parametrize(
    "argv, option",
    [
        (["train", "--algo", "maskable_a2c", "--env", "CartPole-v1"], "--env"),
        (["tune", "--algo", "maskable_reinforce", "--env", "CartPole-v1"], "--env"),
        (["compare", "--envs", "CartPole-v1", "--algos", "maskable_a2c", "sb3_a2c"], "--envs"),
    ],
)
def test_tools_refuse_an_env_without_masks_before_any_work(argv, option, tmp_path, capsys):
    from sb3_pg.cli import main

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as error:
        main([*argv, "--out" if argv[0] != "train" else "--save", str(out)])
    assert error.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert option in last and "action_masks()" in last
    assert not out.exists()
