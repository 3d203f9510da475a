"""Parley is one Django app, label ``parley``: ``INSTALLED_APPS += ["channels", "parley"]``.

The domain packages (``parley.rooms``, ``parley.notifications``, ``parley.moderation``…) are
modules of this app, not apps of their own: their models, tables (``parley_…``), migrations,
templates (``templates/parley/``), static files and commands all belong to the label ``parley``.
"""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ParleyConfig(AppConfig):
    """Real-time chat and live notifications: the whole of Parley."""

    name = "parley"
    label = "parley"
    verbose_name = "Parley"
    # Set here, not left to the host's DEFAULT_AUTO_FIELD: otherwise a host with AutoField would
    # see migrations for Parley's models written into site-packages.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the system checks, follow the user model's sign-ins and saves (log-in throttle,
        guest-name keys, closing the sockets of a sign-in that ends), patch Daphne's close codes,
        keep the search index complete, start the task runner with a server's first request, register
        Parley's own notification kinds, kinds of background task and followups of a stored message
        (the lower floors call them without importing their packages: docs/architecture.md)."""
        from parley import checks  # noqa: F401  (registers them)
        from parley.accounts.signals import accounts_signals_connect
        from parley.mentions.email import MENTION_EMAILS
        from parley.mentions.kind import mention_kind_register
        from parley.mentions.services import MENTION_NOTIFICATIONS, message_mentions_queue
        from parley.readstate.services import direct_unread_publish
        from parley.realtime.daphne_compat import allow_standard_close_codes, pace_http_responses
        from parley.rooms.attachments import ORPHANED_UPLOADS
        from parley.rooms.followups import message_edit_followups, message_followups
        from parley.search.indexing import search_index_repair
        from parley.tasks.asgi import tasks_on_requests_start
        from parley.tasks.registry import task_kinds_register
        from parley.webhooks.delivery import WEBHOOK_DELIVERIES
        from parley.webhooks.services import message_webhooks_queue

        accounts_signals_connect()
        mention_kind_register()
        allow_standard_close_codes()
        pace_http_responses()
        tasks_on_requests_start()
        task_kinds_register(WEBHOOK_DELIVERIES, MENTION_NOTIFICATIONS, MENTION_EMAILS, ORPHANED_UPLOADS)
        # In this order: webhook deliveries are stored in the message's transaction; the others
        # only queue or publish after commit.
        message_followups.register(message_webhooks_queue, message_mentions_queue, direct_unread_publish)
        message_edit_followups.register(message_mentions_queue)
        # After every migrate: a later migration of parley_message may have rebuilt the table
        # (SQLite drops a table's triggers with it) or PARLEY_SEARCH_CONFIG may have changed.
        post_migrate.connect(search_index_repair, sender=self, dispatch_uid="parley.search.repair")
