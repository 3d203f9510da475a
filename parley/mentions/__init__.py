"""@username mentions: a ``mention`` notification for each user a message names, and one e-mail
for what a user missed while away."""
