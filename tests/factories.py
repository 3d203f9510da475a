"""factory_boy factories for test data."""

from __future__ import annotations

import factory
from django.contrib.auth.models import User

from parley.rooms.models import Membership, Room


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"room-{n}")
    title = factory.LazyAttribute(lambda room: room.slug.title())

    @factory.post_generation
    def members(self, create: bool, extracted: list[User] | None, **kwargs: object) -> None:
        if create and extracted:
            for user in extracted:
                Membership.objects.get_or_create(room=self, user=user)


def grant_through_group(user: User, codename: str) -> None:
    """Give ``user`` the permission ``parley.<codename>`` as a host would in its admin: through a group."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=f"{codename} holders")
    group.permissions.add(Permission.objects.get(content_type__app_label="parley", codename=codename))
    user.groups.add(group)
