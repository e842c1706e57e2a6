"""Local state files (the resolver's state, the pipeline's checkpoint): written whole and
atomically, read back with their format version.

A crash or a full disk while a state file is written must leave the previous file intact,
because the next start resumes from it: the state goes to a temporary file beside the target,
is flushed to disk, and only then replaces the target in one rename (then the folder is
flushed too, so the rename itself survives a power cut). The files are pickles of MAST's own
objects, written and read by the same installation; they are never taken from anyone else.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from mast_core.errors import MastError


class StateFileError(MastError):
    """A state file that cannot be read back (damaged, truncated, or not a state file)."""

    reason = "state_file"


def write_state(path: Path, version: int, state: Any) -> None:
    """Write ``(version, state)`` to ``path`` atomically: readers see the old file or the new
    one, never part of either. The temporary name carries the process id, so a checkpoint
    written by a forked child and one written by its parent never share a temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as handle:
            pickle.dump((version, state), handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def read_state(path: Path) -> tuple[int, Any]:
    """``(version, state)`` as ``write_state`` wrote them. The caller checks the version: only
    it knows which older formats it can upgrade and which it must refuse.

    Raises StateFileError for a file that is not one (the message names the file and the kind
    of problem, never its content); a missing file raises FileNotFoundError as usual.
    """
    try:
        with path.open("rb") as handle:
            loaded = pickle.load(handle)  # noqa: S301 - MAST's own local state file
    except FileNotFoundError:
        raise
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise StateFileError(f"cannot read state file {path}: {type(exc).__name__}") from None
    except (AttributeError, ImportError) as exc:  # written by code that no longer exists
        raise StateFileError(
            f"cannot read state file {path}: it refers to code this MAST does not have "
            f"({type(exc).__name__})"
        ) from None
    if (
        not isinstance(loaded, tuple)
        or len(loaded) != 2
        or not isinstance(loaded[0], int)
        or isinstance(loaded[0], bool)
    ):
        raise StateFileError(f"cannot read state file {path}: it is not a MAST state file")
    return loaded[0], loaded[1]


def _sync_folder(folder: Path) -> None:
    """Make the rename durable; a platform that cannot open a folder skips it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
