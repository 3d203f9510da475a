from __future__ import annotations

from django import forms

from parley.accounts.identity import valid_guest_name
from parley.accounts.selectors import name_registered
from parley.rooms.models import Room, slug_validator


class RoomCreateForm(forms.ModelForm):  # type: ignore[type-arg]
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
        if name_registered(name=name):
            raise forms.ValidationError(
                "That name belongs to a registered user, or looks like one: pick another, or log in."
            )
        return name


class DirectMessageForm(forms.Form):
    """Whom to message directly."""

    username = forms.CharField(max_length=150, label="Username")


MUTE_DURATIONS = [(600, "10 minutes"), (3600, "1 hour"), (86400, "1 day")]


class RoomSettingsForm(forms.Form):
    """A room's title and who may use it (owners)."""

    title = forms.CharField(max_length=200, required=False)
    is_private = forms.BooleanField(required=False, label="Private (members only)")
    guests_allowed = forms.BooleanField(required=False, label="Guests welcome (public rooms)")


class ModerateForm(forms.Form):
    """One moderation action on one user, from the room settings page."""

    action = forms.ChoiceField(
        choices=[(name, name) for name in ("invite", "remove", "ban", "unban", "mute", "unmute", "role")]
    )
    username = forms.CharField(max_length=150)
    duration = forms.TypedChoiceField(choices=MUTE_DURATIONS, coerce=int, required=False)
    role = forms.ChoiceField(
        choices=[("member", "Member"), ("moderator", "Moderator"), ("owner", "Owner")], required=False
    )


class WebhookAddForm(forms.Form):
    """A webhook for the room: the receiver's URL and the secret it checks signatures with (owners)."""

    url = forms.CharField(max_length=2000, label="Receiver URL")
    secret = forms.CharField(min_length=16, max_length=200, label="Secret", widget=forms.PasswordInput)


class WebhookActionForm(forms.Form):
    """Pause, resume or delete one of the room's webhooks."""

    action = forms.ChoiceField(choices=[(name, name) for name in ("pause", "resume", "delete")])
