import sys
from pathlib import Path

import torch as th

# One torch thread: faster for these small networks, and two threads on two cores stall at times.
th.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).parent))
