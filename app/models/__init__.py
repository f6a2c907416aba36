"""SQLModel tables and API schemas, one module per resource.

The naming convention is set before any table is declared, so constraint and
index names are stable across SQLite and PostgreSQL and in every migration.
Importing this package registers every table on `SQLModel.metadata`.
"""

from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from app.models.activity import Activity, ActivityRecommendation  # noqa: E402
from app.models.activity_history import ActivityProposal, ActivityVersion  # noqa: E402
from app.models.analytics import FundingResource, NeedBestScore  # noqa: E402
from app.models.api_key import ApiKey  # noqa: E402
from app.models.audit import AuditEvent  # noqa: E402
from app.models.data_version import DataVersion  # noqa: E402
from app.models.engagement import Engagement  # noqa: E402
from app.models.events import InboxItem, OutboxEvent  # noqa: E402
from app.models.heartbeat import WorkerHeartbeat  # noqa: E402
from app.models.idempotency import IdempotencyRecord  # noqa: E402
from app.models.import_run import ImportRun  # noqa: E402
from app.models.index_change import IndexChange  # noqa: E402
from app.models.mail import EmailMessage, EmailUnsubscribe  # noqa: E402
from app.models.mapping import DocumentItem, DocumentLink, DocumentMapping  # noqa: E402
from app.models.need import Need, NeedRecommendation, NeedTheme  # noqa: E402
from app.models.provider import Provider, ProviderFacet  # noqa: E402
from app.models.recommendation import Recommendation  # noqa: E402
from app.models.registration import ProviderRegistration  # noqa: E402
from app.models.sync import SyncLease, SyncRun  # noqa: E402
from app.models.theme_vector import ThemeVector  # noqa: E402
from app.models.translation import RecommendationTranslation  # noqa: E402
from app.models.web_session import WebSelection, WebSession  # noqa: E402
from app.models.webhook import Subscription, Webhook, WebhookAttempt, WebhookDelivery  # noqa: E402

__all__ = [
    "Activity",
    "DocumentItem",
    "DocumentLink",
    "DocumentMapping",
    "ActivityProposal",
    "ActivityRecommendation",
    "ActivityVersion",
    "ApiKey",
    "AuditEvent",
    "DataVersion",
    "EmailMessage",
    "EmailUnsubscribe",
    "FundingResource",
    "Engagement",
    "IdempotencyRecord",
    "ImportRun",
    "InboxItem",
    "IndexChange",
    "Need",
    "NeedBestScore",
    "NeedRecommendation",
    "NeedTheme",
    "OutboxEvent",
    "Provider",
    "ProviderFacet",
    "ProviderRegistration",
    "Recommendation",
    "RecommendationTranslation",
    "Subscription",
    "SyncLease",
    "SyncRun",
    "ThemeVector",
    "WebSelection",
    "WebSession",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WorkerHeartbeat",
    "SQLModel",
]
