"""EventApi: the Inngest-compatible event API, `POST /e/{event_key}`.

Wiring only: the Function URL event goes to `contribsync.EventApi`, built once per container with the
container's clients (read from the environment when the first request arrives).
"""

from __future__ import annotations

from contribsync import Clients, EventApi, lambda_entry

EVENT_API = EventApi(Clients.from_env())
lambda_handler = lambda_entry(EVENT_API.handle, function="EventApi")
