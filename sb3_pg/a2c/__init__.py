from sb3_pg.a2c.a2c import A2C
from sb3_pg.a2c.policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["A2C", "CnnPolicy", "MlpPolicy", "MultiInputPolicy"]
