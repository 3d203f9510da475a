"""What a running Parley process counts and says about itself, on the ground floor.

``metrics``: the Prometheus figures ``/metrics`` serves; ``outages``: one log line when a backing
service (the database, the channel layer) stops answering and one when it answers again. Every
floor may record into them; they import nothing of Parley's but each other.
"""
