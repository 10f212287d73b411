"""What every ``sb3-pg`` process sets first: the command's own and the worker processes it spawns."""

import os
import tempfile
import warnings

# SB3's logger makes a new empty folder, tempdir/SB3-<date and time>, at every learn() without a
# folder of its own; a study makes thousands. The command's processes share this one instead
SB3_LOG_FOLDER = "SB3-sb3-pg"


def configure_process() -> None:
    """One torch thread, the third-party warnings that are not the user's business off, one SB3 log folder."""
    import torch as th

    # One torch thread: faster for small networks, and two threads on two cores stall at times
    th.set_num_threads(1)
    # Optuna calls heartbeats and their retry "experimental" (since 2.8/2.9): used knowingly. rliable
    # passes a RandomState to arch, which arch deprecates: their business, not the user's.
    warnings.filterwarnings("ignore", message=".*is experimental.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module="arch")
    # SB3 writes nothing there unless asked for log files without a folder; a user's own $SB3_LOGDIR wins
    os.environ.setdefault("SB3_LOGDIR", os.path.join(tempfile.gettempdir(), SB3_LOG_FOLDER))
