"""MAST_TRIAGE_ORGANISATION: unset by default, an agency code when set (security review,
item 8: the partnership's triage team may act on every alert)."""

import pytest
from pydantic import ValidationError

from mast_core.settings import Settings


def test_the_triage_organisation_is_unset_by_default_and_an_agency_when_set(monkeypatch):
    monkeypatch.delenv("MAST_TRIAGE_ORGANISATION", raising=False)
    assert Settings().triage_organisation is None
    monkeypatch.setenv("MAST_TRIAGE_ORGANISATION", " other ")
    assert Settings().triage_organisation == "OTHER"
    monkeypatch.setenv("MAST_TRIAGE_ORGANISATION", "")
    assert Settings().triage_organisation is None
    monkeypatch.setenv("MAST_TRIAGE_ORGANISATION", "MASH_TEAM")
    with pytest.raises(ValidationError, match="MAST_TRIAGE_ORGANISATION must be one of"):
        Settings()
