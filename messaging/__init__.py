"""Kafka: the local broker, the topics MAST needs, and client configuration every producer
and consumer shares. The only package besides the stream processors that speaks Kafka."""
