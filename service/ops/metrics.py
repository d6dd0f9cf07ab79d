"""Prometheus metrics. Labels never carry identifiers or text."""

from prometheus_client import Counter, Gauge, Histogram

INBOUND = Counter("samleng_inbound_messages_total", "Inbound messages", ["channel", "outcome"])
REPORTS = Counter("samleng_reports_created_total", "Reports created", ["channel"])
SPOOLED = Counter("samleng_spooled_messages_total", "Messages written to the local spool", ["channel"])
SPOOL_DEPTH = Gauge("samleng_spool_depth", "Messages waiting in the local spool")
REJECTED = Counter("samleng_webhook_rejected_total", "Webhook requests refused", ["channel", "status"])
OUTBOX = Counter("samleng_outbox_attempts_total", "Outbox delivery attempts", ["kind", "result"])
WEBHOOK_SECONDS = Histogram(
    "samleng_webhook_seconds", "Webhook handling time", ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
