"""Avro encoding and decoding of MAST's records with fastavro.

Messages use Avro's *single-object encoding* (Avro specification, "Single-object encoding"):
two marker bytes ``C3 01``, the 8-byte little-endian CRC-64-AVRO fingerprint of the writer's
schema, then the binary body. The fingerprint tells a reader which shipped version wrote
the message, so old messages on a topic stay readable after an upgrade with no schema
registry to run. Every version ever shipped lives in ``schemas/avro/<record>/v<N>.avsc``;
writers use the highest, readers resolve any shipped version to it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import to_parsing_canonical_form
from fastavro.validation import ValidationError, validate

from mast_core.errors import AvroDecodeError, AvroEncodeError, UnknownSchemaError
from schemas import AVRO_DIR

MAGIC = b"\xc3\x01"
HEADER_LENGTH = len(MAGIC) + 8

_EMPTY = 0xC15D213AA4D7A795
_MASK = (1 << 64) - 1


def _rabin_table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = ((fp >> 1) ^ (_EMPTY & -(fp & 1))) & _MASK
        table.append(fp)
    return table


_TABLE = _rabin_table()


def rabin_fingerprint(data: bytes) -> int:
    """CRC-64-AVRO as the Avro specification defines it.

    Written out because fastavro's ``fingerprint(…, "CRC-64-AVRO")`` does not return the
    specification's value (its result for ``"null"`` differs from 7195948357588979594), and
    other languages' readers must agree with ours byte for byte.
    """
    fp = _EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _TABLE[(fp ^ byte) & 0xFF]
    return fp


@dataclass(frozen=True)
class SchemaVersion:
    record: str
    version: int
    parsed: Any
    fingerprint: bytes

    @classmethod
    def load(cls, record: str, path: Path) -> SchemaVersion:
        parsed = parse_schema(json.loads(path.read_text(encoding="utf-8")), _force=True)
        canonical = to_parsing_canonical_form(parsed).encode("utf-8")
        version = int(path.stem.removeprefix("v"))
        fingerprint = rabin_fingerprint(canonical).to_bytes(8, "little")
        return cls(record, version, parsed, fingerprint)


class AvroCodec:
    """Encoder and decoder for one record type, across all its shipped versions."""

    def __init__(self, record: str, schema_dir: Path = AVRO_DIR) -> None:
        paths = sorted((schema_dir / record).glob("v*.avsc"))
        if not paths:
            raise FileNotFoundError(f"no Avro schema versions for {record!r} in {schema_dir}")
        versions = sorted((SchemaVersion.load(record, p) for p in paths), key=lambda v: v.version)
        self.record = record
        self.versions = versions
        self.current = versions[-1]
        self._by_fingerprint = {v.fingerprint: v for v in versions}

    def encode(self, datum: Mapping[str, Any], *, version: int | None = None) -> bytes:
        """Encode ``datum``, refusing what does not fit; ``version`` is for tests of older
        writers.

        The writer itself refuses ill-typed data; the slower field-by-field validation runs
        only then, to name the fields (never the values, which are personal data).
        """
        schema = self.current if version is None else self._version(version)
        buffer = io.BytesIO()
        buffer.write(MAGIC)
        buffer.write(schema.fingerprint)
        try:
            schemaless_writer(buffer, schema.parsed, dict(datum), strict_allow_default=True)
        except Exception:  # fastavro raises ValueError, TypeError, AttributeError, ...
            raise self._encode_error(datum, schema) from None
        return buffer.getvalue()

    def _encode_error(self, datum: Mapping[str, Any], schema: SchemaVersion) -> AvroEncodeError:
        try:
            validate(datum, schema.parsed, raise_errors=True)
        except ValidationError as exc:
            fields = ", ".join(sorted({str(e.field) for e in exc.errors})) or "?"
            return AvroEncodeError(f"{self.record} does not fit its schema at {fields}")
        return AvroEncodeError(f"{self.record} does not fit its schema")

    def decode(self, data: bytes | None) -> dict[str, Any]:
        """Decode bytes written with any shipped version into the current version's shape.

        Raises AvroDecodeError (or UnknownSchemaError) for anything else; never crashes the
        caller with a library's own exception.
        """
        if not data:
            raise AvroDecodeError("empty message")
        if len(data) < HEADER_LENGTH or data[:2] != MAGIC:
            raise AvroDecodeError("not single-object Avro (missing C3 01 marker)")
        writer = self._by_fingerprint.get(bytes(data[2:HEADER_LENGTH]))
        if writer is None:
            raise UnknownSchemaError(
                f"{self.record}: written with a schema version this MAST does not know "
                f"(fingerprint {bytes(data[2:HEADER_LENGTH]).hex()})"
            )
        body = io.BytesIO(data[HEADER_LENGTH:])
        try:
            record = schemaless_reader(body, writer.parsed, self.current.parsed)
        except Exception as exc:  # fastavro raises EOFError, ValueError, IndexError, …
            raise AvroDecodeError(f"corrupt {self.record} body: {type(exc).__name__}") from None
        if body.tell() != len(data) - HEADER_LENGTH:
            raise AvroDecodeError(f"trailing bytes after the {self.record} body")
        if not isinstance(record, dict):
            raise AvroDecodeError(f"{self.record} body is not a record")
        return record

    def _version(self, version: int) -> SchemaVersion:
        for candidate in self.versions:
            if candidate.version == version:
                return candidate
        raise KeyError(f"{self.record} has no schema version {version}")


@cache
def codec(record: str) -> AvroCodec:
    """Shared codec per record type; loading and parsing schemas happens once per process."""
    return AvroCodec(record)


INTERACTION = "interaction"
RESOLVED_INTERACTION = "resolved_interaction"
IDENTITY_MERGE = "identity_merge"
ALERT = "alert"
DEAD_LETTER = "dead_letter"
ACCEPTED_BATCH = "accepted_batch"
CORRECTION = "correction"
IDENTITY_SPLIT = "identity_split"
EVENT_RETRACTION = "event_retraction"
POSSIBLE_MATCH = "possible_match"
RECORD_TYPES = (
    INTERACTION,
    RESOLVED_INTERACTION,
    IDENTITY_MERGE,
    ALERT,
    DEAD_LETTER,
    ACCEPTED_BATCH,
    CORRECTION,
    IDENTITY_SPLIT,
    EVENT_RETRACTION,
    POSSIBLE_MATCH,
)


class EnvelopeEncoder:
    """Encodes a record whose first field is another record already at hand as single-object
    Avro bytes, by reusing those bytes.

    Avro writes a record as its fields one after another, so a resolved interaction is the
    interaction's body followed by the fields added to it. The pipeline holds the accepted
    interaction's bytes; decoding them into a dict and encoding it again cost more than
    resolving. When the bytes were written with a different version of the inner record
    than the outer schema embeds, it falls back to encoding the whole record.
    """

    def __init__(self, outer: str, inner: str) -> None:
        self.outer = codec(outer)
        self.inner = codec(inner)
        declared = json.loads(
            (AVRO_DIR / outer / f"v{self.outer.current.version}.avsc").read_text("utf-8")
        )
        first, *rest = declared["fields"]
        embedded = parse_schema(first["type"], _force=True)
        self.inner_field = first["name"]
        self.compatible = to_parsing_canonical_form(embedded) == to_parsing_canonical_form(
            self.inner.current.parsed
        )
        self.tail = parse_schema(
            {"type": "record", "name": f"{declared['name']}Tail", "fields": rest}, _force=True
        )
        self.header = MAGIC + self.outer.current.fingerprint

    def encode(
        self,
        inner_bytes: bytes,
        tail: Mapping[str, Any],
        inner_record: Callable[[], Mapping[str, Any]],
    ) -> bytes:
        """``inner_bytes`` as single-object Avro; ``inner_record`` is called only when the
        bytes cannot be reused."""
        if self.compatible and inner_bytes[2:HEADER_LENGTH] == self.inner.current.fingerprint:
            buffer = io.BytesIO()
            buffer.write(self.header)
            buffer.write(inner_bytes[HEADER_LENGTH:])
            try:
                schemaless_writer(buffer, self.tail, dict(tail), strict_allow_default=True)
            except Exception:
                raise self.outer._encode_error(
                    {self.inner_field: inner_record(), **tail}, self.outer.current
                ) from None
            return buffer.getvalue()
        return self.outer.encode({self.inner_field: inner_record(), **tail})
