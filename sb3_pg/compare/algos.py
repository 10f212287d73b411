"""What each name in ``sb3-pg compare --algos`` trains, and with which hyperparameters.

``--mode tuned``: each algorithm with its tuned RL Zoo entry: ours from ``zoo_configs/`` (a named
variant is its base algorithm's entry plus the variant's change), SB3's from the ``a2c.yml`` and
``ppo.yml`` bundled with RL Zoo, Tianshou's as its own scripts set them up. ``--mode equal``: the
same shared hyperparameters for the SB3 algorithms (:data:`sb3_pg.experiment.EQUAL_HYPERPARAMETERS`,
SB3's A2C defaults), every other argument at its algorithm's default, so that ``pg_a2c`` and
``sb3_a2c`` differ only in speed. The names come from :mod:`sb3_pg.registry`.
"""

from pathlib import Path
from typing import Any

from sb3_pg.compare.tianshou_runner import tianshou_config
from sb3_pg.experiment import RunConfig
from sb3_pg.experiment import run_config as sb3_run_config
from sb3_pg.registry import COMPARE_NAMES, PEERS

ALGO_NAMES = COMPARE_NAMES
BASELINE = "sb3_a2c"  # what the probability of improvement compares against (and each peer of ours: PEERS)


def run_config(
    algo: str, env_id: str, mode: str, conf_file: Path | str | None = None, hyperparams: dict[str, Any] | None = None
) -> RunConfig:
    """
    :param algo: one of :data:`ALGO_NAMES`
    :param env_id: the Gymnasium env id
    :param mode: ``"tuned"`` or ``"equal"`` (Tianshou's algorithms are always set up as Tianshou's scripts)
    :param conf_file: an RL Zoo config file to read the entry from (tuned mode)
    :param hyperparams: entries that override the file's (RL Zoo's ``--hyperparams``), its keys included
    :return: the configuration
    """
    if algo in PEERS and PEERS[algo].library == "tianshou":
        return tianshou_config(algo, env_id)
    return sb3_run_config(algo, env_id, mode, conf_file, hyperparams)
