"""Outgoing webhooks: each new message of a room POSTed, signed, to the URLs its owner registered."""
