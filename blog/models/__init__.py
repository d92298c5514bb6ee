"""The models, importable from one place."""

from .audit import AuditEntry, SiteSetting
from .community import Comment, CommentStatus, Report, ReportStatus
from .content import (
    RESERVED_SLUGS,
    Category,
    CustomField,
    Post,
    PostKind,
    PostStatus,
    Redirect,
    Revision,
    Tag,
    post_coauthors,
    post_tags,
)
from .jobs import Job, JobStatus
from .media import Media
from .newsletter import (
    IssueKind,
    IssueStatus,
    NewsletterDelivery,
    NewsletterIssue,
    RecipientStatus,
    Subscriber,
    SubscriberStatus,
    subscriber_sections,
)
from .session import UserSession
from .types import UTCDateTime, utcnow
from .user import (
    DEFAULT_ROLE,
    ROLE_PERMISSIONS,
    AnonymousUser,
    ApiToken,
    NotificationSent,
    Permission,
    RecoveryCode,
    Role,
    User,
    editor_sections,
)
from .webhooks import DeliveryStatus, Webhook, WebhookDelivery

__all__ = [
    "AuditEntry",
    "Comment",
    "CommentStatus",
    "Report",
    "ReportStatus",
    "SiteSetting",
    "DEFAULT_ROLE",
    "RESERVED_SLUGS",
    "ROLE_PERMISSIONS",
    "AnonymousUser",
    "ApiToken",
    "Category",
    "CustomField",
    "Job",
    "JobStatus",
    "Media",
    "NotificationSent",
    "RecipientStatus",
    "IssueKind",
    "IssueStatus",
    "NewsletterDelivery",
    "NewsletterIssue",
    "Subscriber",
    "SubscriberStatus",
    "subscriber_sections",
    "Permission",
    "Post",
    "PostKind",
    "PostStatus",
    "RecoveryCode",
    "Redirect",
    "Revision",
    "Role",
    "Tag",
    "User",
    "UserSession",
    "UTCDateTime",
    "DeliveryStatus",
    "Webhook",
    "WebhookDelivery",
    "editor_sections",
    "post_coauthors",
    "post_tags",
    "utcnow",
]
