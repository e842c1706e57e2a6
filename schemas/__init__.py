"""The wire contracts. ``schemas/avro/<record>/v<N>.avsc`` holds every version ever published;
the highest is the one writers use, and every lower one must stay readable (see README)."""

from pathlib import Path

AVRO_DIR = Path(__file__).resolve().parent / "avro"
