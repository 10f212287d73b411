"""``sb3-pg compare``: our algorithms beside SB3's A2C (and PPO), with confidence intervals, learning
curves and speed. Runs are trials of an Optuna study (``queue``), so they persist, resume and spread
over processes and machines like ``tuning/``'s studies."""
