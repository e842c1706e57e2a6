"""Running ``mast`` as a user does, in a child process with its own state folder (chDB allows
one data folder per process, and the test process may hold its own)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def mast(state: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mast_cli", *args],
        env=os.environ | {"MAST_STATE_DIR": str(state)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
