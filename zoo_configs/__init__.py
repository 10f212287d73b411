"""RL Zoo hyperparameter files for sb3_pg's algorithms (``reinforce.yml``, ``pg_a2c.yml``); see README.md here."""
