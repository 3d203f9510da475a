"""Background work that must not slow the socket path: webhook deliveries and mention e-mails.

Code queues work with ``parley.tasks.queue.enqueue`` (or ``enqueue_on_commit``). Where it runs is
``PARLEY_TASKS``: ``worker`` sends it over the channel layer to the ``parley.tasks`` channel, read
by ``python manage.py runworker parley.tasks``; ``inline`` runs the same consumer inside each
server process. Work that must survive a restart lives in the database (pending webhook
deliveries, un-e-mailed mentions) and every runner sweeps it up periodically: a queued task is a
prompt nudge, never the only record.
"""
