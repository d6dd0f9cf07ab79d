"""Import every table of the core so SQLModel.metadata is complete (Alembic and tests use this).

The Telegram adapter's tables (bots/telegram/models.py) are registered by the wiring that runs it:
service/app.py, service/cli.py, migrations/env.py (the core never imports the channel adapters).
"""

# analytics
from service.analytics.models import AnalyticsState, ApprovedQuote, ReportRollup  # noqa: F401  (analytics)

from service.audit.models import AuditEvent
from service.auth.models import AuthSession, UserSecurity
from service.inbox.models import InboundMessage
from service.intake.models import ContactVault, Conversation
from service.kit.ratelimit import RateEvent
from service.orgs.models import Organisation, User
from service.outbox.models import DeliveryAttempt, OutboundMessage
from service.places.models import Place
import service.queue.models  # noqa: F401,E402  (review-queue indexes on report)
from service.reports.models import Report, ReportCluster, ReportEvent, Reporter

# escalation
from service.bodies.models import BodyPlace, GrievanceBody  # noqa: E402
from service.escalation.models import Dossier, DossierCase, Escalation  # noqa: E402,F401  (dossier: collective escalation)
from service.intake.questions import PendingQuestion  # noqa: E402
from service.outbox.models import DevOutboxMessage, WorkerLock  # noqa: E402
from service.routing.models import ReportRoute, RoutingRule  # noqa: E402

# --- Telegram bot, evidence, outreach agents ---
from service.agents.models import AgentLinkCode, OutreachAgent  # noqa: E402
from service.evidence.models import Evidence  # noqa: E402
from service.inbox.models import PendingUpdate  # noqa: E402
from service.supervision.models import ReplyTemplate, SavedFilter  # noqa: E402,F401  (supervision)
from service.alerts.models import BodyAlert  # noqa: E402  (alerts about grievance bodies)
from service.retaliation.models import RetaliationCheckin  # noqa: E402,F401  (retaliation watch)

__all__ = [
    "AuditEvent",
    "ContactVault",
    "Conversation",
    "DeliveryAttempt",
    "InboundMessage",
    "Organisation",
    "OutboundMessage",
    "Place",
    "RateEvent",
    "Report",
    "ReportCluster",
    "ReportEvent",
    "Reporter",
    "User",
    "BodyPlace",
    "DevOutboxMessage",
    "Escalation",
    "GrievanceBody",
    "PendingQuestion",
    "ReportRoute",
    "RoutingRule",
    "WorkerLock",
    # Telegram bot, evidence, outreach agents
    "AgentLinkCode",
    "Evidence",
    "OutreachAgent",
    "PendingUpdate",
    "AuthSession",
    "UserSecurity",
    "BodyAlert",
]
