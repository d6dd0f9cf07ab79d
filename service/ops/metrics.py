"""Prometheus metrics. Labels never carry identifiers or text, and per-event series are coarse.

/metrics is served only to a client in `SAMLENG_METRICS_ALLOW` (networks, default loopback) or
one presenting `Authorization: Bearer <SAMLENG_METRICS_TOKEN>` (service/ops/routes.py).
"""

from prometheus_client import Counter, Gauge, Histogram

_INBOUND = Counter("samleng_inbound_messages_total", "Inbound messages", ["channel", "outcome"])
# Per-event series stay coarse: a series per command (report, status, delete...) would let whoever
# reads /metrics time one reporter's STATUS or DELETE. Every handled message counts as "handled".
COARSE_OUTCOMES = ("handled", "duplicate", "ignored", "spooled", "retry")


class _CoarseInbound:
    """`INBOUND.labels(channel, outcome)` with the outcome folded to one of COARSE_OUTCOMES."""

    def labels(self, channel: str, outcome: str):
        return _INBOUND.labels(channel, outcome if outcome in COARSE_OUTCOMES else "handled")


INBOUND = _CoarseInbound()
REPORTS = Counter("samleng_reports_created_total", "Reports created", ["channel"])
SPOOLED = Counter("samleng_spooled_messages_total", "Messages written to the local spool", ["channel"])
SPOOL_DEPTH = Gauge("samleng_spool_depth", "Messages waiting in the local spool")
REJECTED = Counter("samleng_webhook_rejected_total", "Webhook requests refused", ["channel", "status"])
OUTBOX = Counter("samleng_outbox_attempts_total", "Outbox delivery attempts", ["kind", "result"])
REPLIES_NOT_REPEATED = Counter(
    "samleng_telegram_replies_not_repeated_total", "Bot replies already sent to an update handled again after a crash"
)
# The web process's writer (service/inbox/writer.py), read from it at each scrape: units of work
# committed, and the commits that carried them. Units per commit is how well group commit works.
WRITER_UNITS = Gauge("samleng_writer_units_committed", "Units of work the writer committed since start")
WRITER_COMMITS = Gauge("samleng_writer_commits", "Transactions the writer committed since start")
WEBHOOK_SECONDS = Histogram(
    "samleng_webhook_seconds",
    "Webhook handling time",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
