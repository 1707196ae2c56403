"""Which webhooks reconcile/webhook-deliveries checks: ``CONTRIBSYNC_WEBHOOK_HOOKS`` and its parsing."""

from __future__ import annotations

import pytest

from contribsync.errors import NonRetriable
from contribsync.services.reconcile import Hook
from contribsync.settings import Settings


def test_the_setting_is_a_comma_separated_list():
    settings = Settings.from_env({"DATABASE_URL": "x", "CONTRIBSYNC_WEBHOOK_HOOKS": " app, octo/hello.world:42 ,"})
    assert settings.webhook_hooks == ("app", "octo/hello.world:42")
    assert Settings.from_env({"DATABASE_URL": "x"}).webhook_hooks == ()


def test_app_and_repository_hooks_name_their_delivery_logs_and_watermarks():
    assert Hook.parse("app") == Hook("app", "/app/hook/deliveries")
    assert Hook.parse("octo/hello.world:42") == Hook("octo/hello.world:42",
                                                     "/repos/octo/hello.world/hooks/42/deliveries")


@pytest.mark.parametrize("spec", ["App", "octo/hello", "octo:42", "octo/hello:x", "/hello:1", "octo/hello:42/x"])
def test_anything_else_is_a_configuration_error_that_no_retry_fixes(spec):
    with pytest.raises(NonRetriable, match="CONTRIBSYNC_WEBHOOK_HOOKS"):
        Hook.parse(spec)
