import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def write_keys(apps, schema_editor):
    """Key every existing username (later ones are keyed when their user is saved)."""
    from django.contrib.auth import get_user_model

    from parley.accounts.names import name_key

    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    username_key = apps.get_model("accounts", "UsernameKey")
    field = get_user_model().USERNAME_FIELD  # historical models do not carry it
    batch = []
    for pk, username in user_model.objects.values_list("pk", field).iterator(chunk_size=2000):
        batch.append(username_key(user_id=pk, key=name_key(str(username))))
        if len(batch) >= 2000:
            username_key.objects.bulk_create(batch)
            batch = []
    username_key.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="UsernameKey",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("key", models.CharField(db_index=True, max_length=300)),
            ],
        ),
        migrations.RunPython(write_keys, migrations.RunPython.noop),
    ]
