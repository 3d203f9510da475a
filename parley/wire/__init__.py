"""The wire contract, on the ground floor: what travels between Parley and its clients.

Transport-neutral: the same limits, frame models and serializers serve the WebSocket, the HTTP API
and webhooks. Nothing here imports the domain or the transport (``docs/architecture.md``).

- ``errors``: ``ParleyError``, the one application error, and the protocol's error codes;
- ``text``: limits on what clients send, and the validators that enforce them;
- ``frames``: one pydantic model per frame type, client → server and server → client;
- ``serializers``: stored objects in their wire shape;
- ``doc`` and ``schema``: ``docs/protocol.md``'s tables and the clients' JSON Schema, generated
  from the frame models.
"""
