"""Key the usernames that existed before Parley was installed, so a guest cannot take a name that
looks like one of them (``parley.accounts.names``); later users are keyed when they are saved."""

from django.conf import settings
from django.db import migrations


def write_keys(apps, schema_editor):
    from django.contrib.auth import get_user_model

    from parley.accounts.names import name_key

    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    username_key = apps.get_model("parley", "UsernameKey")
    field = get_user_model().USERNAME_FIELD  # historical models do not carry it
    batch = []
    for pk, username in user_model.objects.values_list("pk", field).iterator(chunk_size=2000):
        batch.append(username_key(user_id=pk, key=name_key(str(username))))
        if len(batch) >= 2000:
            username_key.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    username_key.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("parley", "0002_search_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(write_keys, migrations.RunPython.noop, elidable=False)]
