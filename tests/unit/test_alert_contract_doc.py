"""docs/alerts.md is the alerts topic's contract for partner systems: it names every field
of the current Avro ``alert`` schema, and no other."""

import json
import re
from pathlib import Path

from schemas import AVRO_DIR

DOC = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"


def test_the_alert_contract_lists_exactly_the_schema_fields():
    latest = max((AVRO_DIR / "alert").glob("v*.avsc"), key=lambda p: int(p.stem[1:]))
    fields = [f["name"] for f in json.loads(latest.read_text())["fields"]]
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Fields", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M)
    assert documented == fields
    assert "`mast.alerts`" in text and "subject_id" in text
