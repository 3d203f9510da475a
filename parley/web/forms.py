from __future__ import annotations

from django import forms

from parley.accounts.identity import valid_guest_name
from parley.rooms.models import Room, slug_validator


class RoomCreateForm(forms.ModelForm[Room]):
    """A new room: its slug (the URL), a title, and who may use it."""

    class Meta:
        model = Room
        fields = ["slug", "title", "is_private", "guests_allowed"]
        labels = {"slug": "Name in the URL", "is_private": "Private (members only)", "guests_allowed": "Guests welcome"}


class JumpForm(forms.Form):
    """Go to a room by its name."""

    room = forms.CharField(max_length=64, validators=[slug_validator])


class GuestNameForm(forms.Form):
    """The display name a guest chats under."""

    name = forms.CharField(max_length=32)

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not valid_guest_name(name):
            raise forms.ValidationError("Use 1 to 32 letters, digits, spaces, dots, dashes or underscores.")
        return name
