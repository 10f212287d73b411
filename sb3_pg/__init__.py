"""sb3-pg: policy-gradient algorithms for Stable-Baselines3 (REINFORCE and A2C variants)."""

from sb3_pg.a2c import A2C
from sb3_pg.reinforce import Reinforce

__version__ = "0.1.0"

__all__ = ["A2C", "Reinforce", "__version__"]
