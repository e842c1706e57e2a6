"""``mast partners`` as an administrator runs it: a key shown once, listed without its
secret, revoked."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.cli.run import mast

pytestmark = pytest.mark.integration


def _mast(state, *args: str) -> subprocess.CompletedProcess[str]:
    return mast(state, "partners", *args)


def test_add_list_revoke(tmp_path):
    added = _mast(tmp_path, "add", "--agency", "fire", "--name", "West Midlands Fire IRS")
    assert added.returncode == 0, added.stderr
    key = re.search(r"mast_([0-9a-f]{12})_\S+", added.stdout)
    assert key is not None
    key_id = key.group(1)
    listed = _mast(tmp_path, "list")
    assert key_id in listed.stdout and "FIRE" in listed.stdout and "active" in listed.stdout
    assert key.group(0) not in listed.stdout
    revoked = _mast(tmp_path, "revoke", "--key-id", key_id)
    assert revoked.returncode == 0
    assert "revoked" in _mast(tmp_path, "list").stdout
    unknown = _mast(tmp_path, "add", "--agency", "NAVY", "--name", "x")
    assert unknown.returncode == 1
    assert "agency must be one of" in unknown.stderr
