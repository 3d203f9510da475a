"""Avatar colours in templates, the same as the chat page's script gives each author."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser

register = template.Library()

AVATAR_COLOURS = 8  # .avatar.c0 … .c7 in parley.css


@register.filter
def avatar_colour(person: AbstractBaseUser | str) -> str:
    """The colour class (``c0`` … ``c7``) of a user, or of a person key such as ``guest:Priya``.

    It hashes the key as ``colourIndex`` in parley.js does, so a person has one colour everywhere:
    beside their messages, in the sidebar and in the room header.
    """
    key = person if isinstance(person, str) else f"user:{person.pk}"
    value = 0
    for char in key:
        value = (value * 31 + ord(char)) & 0xFFFFFFFF
    return f"c{value % AVATAR_COLOURS}"
