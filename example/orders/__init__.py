"""The article's shop, as a demo integration of Parley's live notifications.

This app is not part of Parley: it is what a Django project of your own looks like when it uses
Parley. Its one service, ``order_set_status``, changes an order's status and tells the owner with
``parley.notifications.services.notify`` (kind ``order.status``); the order page shows the change
live. See the README's "Live notifications from your own models".
"""
