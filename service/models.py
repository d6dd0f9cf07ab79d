"""Import every table so SQLModel.metadata is complete (Alembic and tests use this)."""

# analytics (issue 7)
from service.analytics.models import AnalyticsState, ApprovedQuote, ReportRollup  # noqa: F401

from service.audit.models import AuditEvent
from service.inbox.models import InboundMessage
from service.intake.models import ContactVault, Conversation, RateEvent
from service.orgs.models import Organisation, User
from service.outbox.models import DeliveryAttempt, OutboundMessage
from service.places.models import Place
from service.reports.models import Report, ReportCluster, ReportEvent, Reporter

__all__ = [
    "AuditEvent", "ContactVault", "Conversation", "DeliveryAttempt", "InboundMessage",
    "Organisation", "OutboundMessage", "Place", "RateEvent", "Report", "ReportCluster", "ReportEvent",
    "Reporter", "User",
]
