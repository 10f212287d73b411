"""Mean return of a uniformly random policy, the "low" end of the comparison's score normalisation
(``sb3_pg/compare/stats.py``): ``python benchmarks/random_scores.py --episodes 100``."""

import argparse

import gymnasium as gym
import numpy as np

ENVS = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", "LunarLander-v3", "MountainCarContinuous-v0"]


def random_score(env_id: str, episodes: int, seed: int = 0) -> float:
    """Mean undiscounted return of uniformly random actions over ``episodes`` episodes."""
    env = gym.make(env_id)
    env.action_space.seed(seed)
    returns = []
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", nargs="+", default=ENVS)
    parser.add_argument("--episodes", type=int, default=100)
    args = parser.parse_args()
    for env_id in args.envs:
        print(f"{env_id}: {random_score(env_id, args.episodes):.1f}")


if __name__ == "__main__":
    main()
