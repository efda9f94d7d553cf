"""Standard Webhooks signatures, secrets, URL rules and the retry schedule, without I/O."""
import base64
import json
from datetime import UTC, datetime

import pytest
from notifications_service.config import WebhookSettings
from notifications_service.domain.webhooks import (
    InvalidSecret,
    UrlRefused,
    check_url,
    new_secret,
    retry_delay,
    retry_span,
    secret_key,
    sign,
    signed_headers,
    webhook_payload,
)
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the spec's example secret


def test_the_signature_is_the_one_the_spec_gives_for_its_example():
    # example from the Standard Webhooks specification
    body = '{"test": 2432232314}'
    assert sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")


def test_a_standard_webhooks_receiver_accepts_what_we_send():
    now = int(datetime.now(UTC).timestamp())
    body = webhook_payload("order.paid", datetime.now(UTC), {"order_id": "o-1", "code": "TQ-1", "note": "Ávila"})
    headers = signed_headers([new_secret()], "msg_1", now, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)  # someone else's secret
    secret = new_secret()
    headers = signed_headers([secret], "msg_1", now, body)
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("TQ-1", "TQ-2"), headers)  # tampered body


def test_during_a_rotation_either_secret_verifies():
    old, new = new_secret(), new_secret()
    now = int(datetime.now(UTC).timestamp())
    body = webhook_payload("order.placed", datetime.now(UTC), {})
    headers = signed_headers([new, old], "msg_2", now, body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body, headers)


def test_secrets_are_whsec_and_base64_of_enough_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert new_secret() != secret
    for bad in ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_???", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(InvalidSecret):
            secret_key(bad)


def test_the_payload_has_type_timestamp_and_data():
    body = json.loads(webhook_payload("ticket.issued", datetime(2026, 3, 1, tzinfo=UTC), {"order_id": "x"}))
    assert body == {"type": "ticket.issued", "timestamp": "2026-03-01T00:00:00+00:00", "data": {"order_id": "x"}}


@pytest.mark.parametrize("url", [
    "http://partner.example.com/hooks", "https://127.0.0.1/hooks", "https://10.0.0.8/h", "https://192.168.1.1/h",
    "https://172.16.4.4/h", "https://169.254.169.254/latest/meta-data", "https://[::1]/h", "https://[fd00::1]/h",
    "https://[::ffff:10.0.0.1]/h", "https://localhost/h", "https://printer.local/h", "https://intranet/h",
    "https://user:pw@partner.example.com/h", "ftp://partner.example.com/h", "https://0.0.0.0/h",
    "https://partner.example.com:22/h",
])
def test_production_refuses_insecure_and_private_urls(url):
    with pytest.raises(UrlRefused):
        check_url(url, allow_local=False)


def test_production_accepts_public_https_and_development_accepts_localhost():
    assert check_url("https://partner.example.com/hooks?x=1", allow_local=False)
    assert check_url("https://8.8.8.8:8443/hooks", allow_local=False)
    assert check_url("http://127.0.0.1:9000/hooks", allow_local=True)
    with pytest.raises(UrlRefused):
        check_url("http://user:pw@127.0.0.1/hooks", allow_local=True)


def test_retries_back_off_exponentially_over_more_than_a_day():
    w = WebhookSettings()
    delays = [retry_delay(n, base_seconds=w.backoff_base_seconds, max_seconds=w.backoff_max_seconds)
              for n in range(1, w.max_attempts)]
    assert delays[:4] == [30, 60, 120, 240] and max(delays) == 6 * 3600
    assert retry_span(w.max_attempts, base_seconds=w.backoff_base_seconds,
                      max_seconds=w.backoff_max_seconds) >= 24 * 3600


def _settings(**overrides):
    from notifications_service.config import Settings

    base = {"environment": "production", "db": {"url": "postgresql+asyncpg://app@db/n"},
            "auth": {"jwt_secret": "a-real-production-secret-0123456789"},
            "smtp": {"host": "smtp.example.com", "port": 587, "from_address": "t@example.com"}}
    return Settings(**(base | overrides))


def test_production_refuses_a_retry_schedule_shorter_than_a_day_and_local_urls_by_default():
    from pydantic import ValidationError

    assert _settings().allow_local_webhook_urls is False
    with pytest.raises(ValidationError, match="24 hours"):
        _settings(webhooks={"max_attempts": 3})
    assert _settings(environment="development").allow_local_webhook_urls is True
    assert _settings(webhooks={"allow_local_urls": True}).allow_local_webhook_urls is True
