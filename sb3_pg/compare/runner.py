"""One comparison run: our algorithms and SB3's through :mod:`sb3_pg.experiment`, Tianshou's through
:mod:`sb3_pg.compare.tianshou_runner`; the same evaluation protocol and timing for every library."""

import numpy as np

from sb3_pg.experiment import RunConfig, RunResult
from sb3_pg.experiment import train_and_evaluate as train_and_evaluate_sb3


def train_and_evaluate(
    config: RunConfig, env_id: str, seed: int, timesteps: int, eval_freq: int, eval_episodes: int, vec_env: str = "dummy"
) -> RunResult:
    """
    Train the algorithm set up by ``config`` on ``env_id`` with ``seed`` and record its deterministic
    evaluation curve (see :func:`sb3_pg.experiment.train_and_evaluate`).

    :raises FloatingPointError: if an evaluation return is not finite
    """
    if config.library != "tianshou":
        return train_and_evaluate_sb3(config, env_id, seed, timesteps, eval_freq, eval_episodes, vec_env)
    from sb3_pg.compare.tianshou_runner import train_and_evaluate_tianshou

    result = train_and_evaluate_tianshou(config.kwargs["algo"], env_id, seed, timesteps, eval_freq, eval_episodes)
    if not np.all(np.isfinite(result.returns)):
        raise FloatingPointError("non-finite evaluation return")
    return result
