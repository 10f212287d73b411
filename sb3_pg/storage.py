"""Where studies live: an embedded journal file by default, an RDB (PostgreSQL) for many machines.

The default is Optuna's ``JournalStorage`` on a journal file (:class:`RetryingJournalFileBackend`),
``OUT/study.log`` (RL Zoo opens ``.log`` paths the same way, so ``--trial-id`` works on our
studies): an append-only log guarded by a file lock, safe for several processes on one machine
without a server. SQLite, the other embedded choice, is not: Optuna's FAQ advises against it for
parallel work ("database is locked"). An ``RDBStorage`` URL (``postgresql://...``) shares one
study between machines; it runs heartbeats, so the trial of a worker that dies is marked failed
after ``grace_period`` and retried.

Reading the journal takes no lock, and a reader can meet a line another process is still writing
(optuna/optuna#5138: ``JSONDecodeError`` with several workers; seen here in a MuJoCo study's
confirmation, where it killed one of two workers). :class:`RetryingJournalFileBackend` reads such a
line again after a short wait instead of failing.
"""

import os
import random
import socket
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback, fail_stale_trials
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

MAX_RETRY = 3  # how often a trial whose worker died is retried before it stays failed
RDB_SCHEMES = ("postgresql", "mysql", "sqlite")


READ_RETRIES = 5  # a line still being written is complete within milliseconds


class RetryingJournalFileBackend(JournalFileBackend):
    """Optuna's journal file, whose reads retry a line that does not parse yet (another process is writing it)."""

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        number = log_number_from
        for attempt in range(READ_RETRIES + 1):
            try:
                for log in super().read_logs(number):
                    yield log
                    number += 1  # the reader has these: a retry goes on from the first it lacks
                return
            except ValueError:  # json.JSONDecodeError, or Optuna's "Invalid log format." (no newline yet)
                if attempt == READ_RETRIES:
                    raise
                time.sleep(0.05 * 2**attempt)


class StorageError(ValueError):
    """A storage URL that is malformed or cannot be reached."""


def is_rdb_url(storage: str) -> bool:
    """Whether ``storage`` is an RDB URL (otherwise it is a journal file path)."""
    return "://" in storage


def check_storage(storage: str) -> None:
    """
    Check a storage argument without creating anything in it.

    :param storage: an RDB URL (``postgresql://user@host:port/db``) or a journal file path
    :raises StorageError: malformed URL, unsupported scheme, unreachable server, unwritable file
    """
    if not is_rdb_url(storage):
        folder = Path(storage).expanduser().resolve().parent
        if folder.exists() and not folder.is_dir():
            raise StorageError(f"argument --storage: {folder} is not a folder")
        return
    import sqlalchemy
    from sqlalchemy.engine import make_url

    try:
        url = make_url(storage)
    except (sqlalchemy.exc.ArgumentError, ValueError) as error:  # ValueError: a port that is not a number
        raise StorageError(f"argument --storage: malformed URL {storage!r}: {error}") from None
    if url.get_backend_name() not in RDB_SCHEMES:
        raise StorageError(
            f"argument --storage: unsupported scheme {url.drivername!r}; use postgresql://... or a journal file path"
        )
    try:
        engine = sqlalchemy.create_engine(url, connect_args=_connect_args(url.get_backend_name()))
        with engine.connect():
            pass
        engine.dispose()
    except ModuleNotFoundError as error:
        raise StorageError(f"argument --storage: {error}; {_driver_hint(url.get_backend_name())}") from None
    except Exception as error:  # any driver error: name it in one line
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StorageError(
            f"argument --storage: cannot connect to {url.render_as_string(hide_password=True)}: {message}"
        ) from None


def _driver_hint(backend: str) -> str:
    if backend == "postgresql":
        return 'install the PostgreSQL driver with `pip install -e ".[postgres]"` (psycopg 3, for postgresql:// URLs)'
    return f"install a {backend} driver for SQLAlchemy and name it in the URL ({backend}+DRIVER://...)"


def _connect_args(backend: str) -> dict[str, int]:
    return {"connect_timeout": 10} if backend == "postgresql" else {}


def open_storage(storage: str, heartbeat_interval: int = 10) -> BaseStorage:
    """
    Open (creating it if needed) the storage named by ``storage``.

    :param storage: an RDB URL or a journal file path
    :param heartbeat_interval: seconds between an RDB trial's heartbeats; a trial is stale after three missed
    :return: the Optuna storage
    """
    if not is_rdb_url(storage):
        path = Path(storage).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(RetryingJournalFileBackend(str(path)))
    import sqlalchemy

    backend = storage.split("://", 1)[0].split("+", 1)[0]
    for attempt in range(5):
        try:
            return RDBStorage(
                storage,
                engine_kwargs={"pool_pre_ping": True, "connect_args": _connect_args(backend)},
                heartbeat_interval=heartbeat_interval,
                grace_period=3 * heartbeat_interval,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY),
            )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            # Workers started together on an empty database race to create Optuna's tables; the
            # losers find them created when they try again
            time.sleep(0.5 + random.random() * (attempt + 1))
    raise StorageError(f"argument --storage: could not create Optuna's tables in {storage}")


def study_exists(storage: BaseStorage, study_name: str) -> bool:
    """Whether ``storage`` holds a study called ``study_name``."""
    return any(summary.study_name == study_name for summary in optuna.get_all_study_summaries(storage))


# The workers sharing a storage (several processes of a command, or machines sharing a database)
SURPLUS = "surplus"  # user attribute of a trial that was beyond a study's total when it started
WORKER, WORKER_TRIAL = "worker", "worker_trial"  # user attributes: which process runs a trial


class SurplusTrial(Exception):
    """Raised by a trial that started after the study had all its trials (or its grid had no run left)."""


def record_worker(trial: optuna.Trial) -> None:
    """
    Record this process as the trial's worker (``host:pid``), so that a later worker on this host can
    retry the trial if the process dies. The trial number tells this record from the one a retried
    trial inherits from the trial it copies.
    """
    trial.set_user_attr(WORKER, f"{socket.gethostname()}:{os.getpid()}")
    trial.set_user_attr(WORKER_TRIAL, trial.number)


def release_dead_workers_trials(study: optuna.Study) -> None:
    """Fail, and queue again, the running trials whose worker died: RDB heartbeats, then dead process ids."""
    fail_stale_trials(study)  # a no-op without heartbeats (the journal file)
    fail_orphaned_trials(study)


def fail_orphaned_trials(study: optuna.Study) -> None:
    """
    Fail and retry the running trials of dead processes on this host.

    Heartbeats cover RDB storages; this covers the journal file, which has none. A trial records
    its worker with :func:`record_worker` when it starts.
    """
    host = socket.gethostname()
    retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker_host, _, pid = str(trial.user_attrs.get(WORKER, "")).rpartition(":")
        if trial.user_attrs.get(WORKER_TRIAL) != trial.number:
            continue  # not yet started by its worker: a retry still carries the record of the trial it copies
        if worker_host != host or not pid.isdigit() or _is_alive(int(pid)):
            continue
        try:
            if study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                retry(study, study._storage.get_trial(trial._trial_id))
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # another worker got there first


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
