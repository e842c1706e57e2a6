"""``mast users`` as an administrator runs it (a child process: chDB allows one data folder
per process, and the test process has its own)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.cli.run import mast

pytestmark = pytest.mark.integration


def _mast(state, *args: str) -> subprocess.CompletedProcess[str]:
    return mast(state, "users", *args)


def test_add_list_disable(tmp_path):
    add = ["add", "--username", "dawn", "--password", "a long passphrase", "--role"]
    added = _mast(tmp_path, *add, "manager", "--org", "fire")
    assert added.returncode == 0, added.stderr
    assert "added dawn (manager, FIRE)" in added.stdout
    again = _mast(tmp_path, *add, "manager", "--org", "FIRE")
    assert again.returncode == 2
    assert "exists" in again.stderr
    weak = _mast(
        tmp_path,
        "add",
        "--username",
        "x",
        "--password",
        "short",
        "--role",
        "admin",
        "--org",
        "POLICE",
    )
    assert weak.returncode == 2
    assert "12 characters" in weak.stderr
    assert "dawn" in _mast(tmp_path, "list").stdout
    assert _mast(tmp_path, "disable", "--username", "dawn").returncode == 0
    listed = _mast(tmp_path, "list").stdout
    assert "disabled" in listed
    assert "a long passphrase" not in listed


def test_a_clear_error_while_another_process_holds_the_embedded_database(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from mast_core.settings import Settings; "
            "from sinks.clickhouse import connect; client = connect(Settings()); "
            "print('held', flush=True); time.sleep(60)",
        ],
        env=os.environ | {"MAST_STATE_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        result = _mast(tmp_path, "list")
        assert result.returncode == 1
        assert "in use by another MAST process" in result.stderr
        assert "Traceback" not in result.stderr
        assert time.monotonic() - started < 60
    finally:
        holder.kill()
        holder.wait()


def test_a_steward_is_added_with_its_role(tmp_path):
    added = _mast(
        tmp_path,
        "add",
        "--username",
        "sam",
        "--password",
        "a long passphrase",
        "--role",
        "steward",
        "--org",
        "other",
    )
    assert added.returncode == 0, added.stderr
    assert "added sam (steward, OTHER)" in added.stdout
    assert "steward" in _mast(tmp_path, "list").stdout
    unknown = _mast(
        tmp_path,
        "add",
        "--username",
        "kim",
        "--password",
        "a long passphrase",
        "--role",
        "stewart",
        "--org",
        "OTHER",
    )
    assert unknown.returncode == 2
    assert "steward" in unknown.stderr  # the roles it may be are named
