"""ClassifySingleRepository: size bucket: small < 100 PRs, medium 100-500, large > 500 (GitHub's count).

Event: `classify/single-repository` (aliases: `classify/repository.single`).
Service: `contribsync.services.classify.classify_single`.
Retries: 3, the catalog's default (at most 4 attempts, then the dead-letter queue).

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.classify import classify_single

EVENT = catalog.by_function("ClassifySingleRepository")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=classify_single)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)
