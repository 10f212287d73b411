"""sb3-pg: policy-gradient algorithms for Stable-Baselines3 (REINFORCE and A2C variants)."""

from sb3_pg.a2c import A2C
from sb3_pg.envs import register_envs
from sb3_pg.maskable import MaskableA2C, MaskableReinforce
from sb3_pg.recurrent import RecurrentA2C, RecurrentReinforce
from sb3_pg.reinforce import Reinforce

__version__ = "0.2.0"

register_envs()

__all__ = ["A2C", "MaskableA2C", "MaskableReinforce", "RecurrentA2C", "RecurrentReinforce", "Reinforce", "__version__"]
