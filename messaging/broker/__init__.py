from messaging.broker.local import BrokerStatus, LocalKafka

__all__ = ["BrokerStatus", "LocalKafka"]
