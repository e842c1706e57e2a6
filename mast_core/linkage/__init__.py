"""Record linkage of people and addresses: candidate generation (blocking), Fellegi–Sunter
scoring with term-frequency adjustment, incremental clustering with explicit merges and
splits, and the state that lets it resume. Pure Python: no Kafka, Faust, ClickHouse or
FastAPI. The stream processor, ``mast resolve``, the API's search and the benchmarks all
call ``Resolver``."""

from mast_core.linkage.parameters import Parameters
from mast_core.linkage.resolver import FREEZE_EVERY, Resolution, Resolver

__all__ = ["FREEZE_EVERY", "Parameters", "Resolution", "Resolver"]
