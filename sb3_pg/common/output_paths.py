"""Output paths checked before any long work: a run that cannot write its results never starts."""

import tempfile
from pathlib import Path


def check_writable_folder(option: str, folder: Path) -> None:
    """
    Make ``folder`` (and its parents) if needed and check that a file can be written in it.

    :param option: the command-line option that named it, for the message
    :raises ValueError: one line naming the option, the path and why
    """
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"argument {option}: {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as error:
        raise ValueError(f"argument {option}: cannot write to {folder}: {error.strerror or error}") from None


def check_new_file(option: str, path: Path) -> None:
    """
    Check that ``path`` is a new file that can be written (its folder is made if needed).

    :raises ValueError: if it exists (a user's file is never overwritten) or cannot be written
    """
    if path.exists():
        raise ValueError(f"argument {option}: {path} exists; choose a new path")
    check_writable_folder(option, path.parent if str(path.parent) else Path("."))
