"""The Faust app and its agents: validate, resolve, detect escalation (issue: streaming
pipeline). Only this layer and ``messaging`` speak Kafka."""
