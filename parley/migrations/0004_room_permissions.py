"""Parley's permissions (``parley.accounts.permissions``): what only staff could do, for a host to
grant to groups in its admin."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("parley", "0003_username_keys")]

    operations = [
        migrations.AlterModelOptions(
            name="room",
            options={
                "ordering": ["slug"],
                "permissions": [
                    ("read_all_rooms", "Can read and post in every room, private ones included"),
                    ("moderate_all_rooms", "Can moderate every room it can read, as the room's owners do"),
                    (
                        "publish_messages",
                        "Can publish messages and notifications from a backend (POST /api/publish)",
                    ),
                ],
            },
        )
    ]
