"""A publisher that keeps what the pipeline sends, in place of librdkafka, for the stream
stages' unit tests (the stage and the codecs stay real)."""

from __future__ import annotations


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, int]] = []
        """(topic, value, key, timestamp_ms), in the order sent."""
        self.headers: list[list[tuple[str, str | bytes | None]] | None] = []
        """The headers of each message sent, in the same order."""

    def send(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        timestamp_ms: int = 0,
        headers: list[tuple[str, str | bytes | None]] | None = None,
    ) -> None:
        self.sent.append((topic, value, key, timestamp_ms))
        self.headers.append(headers)

    def flush_blocking(self, timeout: float | None = None) -> None:
        return None

    def on(self, topic: str) -> list[bytes]:
        """The values sent to ``topic``."""
        return [value for sent_topic, value, _key, _ts in self.sent if sent_topic == topic]

    def messages(self, topic: str) -> list[tuple[bytes, bytes | None, int]]:
        """(value, key, timestamp_ms) of each message sent to ``topic``."""
        return [(v, k, t) for sent_topic, v, k, t in self.sent if sent_topic == topic]
