"""CaptureIssueComments: comments of one issue.

Event: `capture/issue.comments`.
Service: `contribsync.services.issues.issue_comments`.
Retries: 2 (at most 3 attempts, then the dead-letter queue).
Concurrency: at most 3 runs at once per `repository_key`.
Throttle: at most 30 starts in 60 s.

Generated from the catalog by `make template` (devtools/gen_template.py); `make lint` fails when they
disagree.
"""

from __future__ import annotations

from contribsync import Clients, Runtime, catalog, lambda_entry
from contribsync.services.issues import issue_comments

EVENT = catalog.by_function("CaptureIssueComments")
RUNTIME = Runtime(EVENT, Clients.from_env(), service=issue_comments)
lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)
