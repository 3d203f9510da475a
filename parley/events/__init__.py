"""The one way news leaves the domain: the publish choke point, below the domain and the transport.

Services call ``parley.events.publish``'s functions, after their transaction commits; each server
process's hub (``parley.realtime.hub``) reads the channel-layer groups they publish to. This package
imports nothing of the domain or the transport, so both can import it (``docs/architecture.md``).
"""
