"""SMS and WhatsApp through a Twilio-style HTTP API, and the provider's signed status callbacks.

Send: `POST {base_url}/Accounts/{sid}/Messages.json`, HTTP Basic (sid, token), form fields To, From,
Body, StatusCallback; 201 with the message `sid`. WhatsApp is the same call with `whatsapp:` addresses.
The provider later posts MessageSid/MessageStatus to our callback, signed with `X-Twilio-Signature`:
base64 HMAC-SHA1(token, callback URL + every form field name and value, sorted by name).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

import httpx

from ..config import ProviderSettings
from ..domain.messages import Channel, PermanentFailure, TemporaryFailure

# Provider statuses → ours. `sent`/`queued` mean the provider has it; only these two are final.
FINAL_STATUSES = {"delivered": "delivered", "read": "delivered", "undelivered": "failed", "failed": "failed"}


def twilio_signature(token: str, url: str, params: Mapping[str, str]) -> str:
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def is_valid_callback(token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    return hmac.compare_digest(twilio_signature(token, url, params), signature or "")


class TextMessenger:
    def __init__(self, settings: ProviderSettings, client: httpx.AsyncClient | None = None):
        self.settings = settings
        self.client = client or httpx.AsyncClient(timeout=settings.timeout)

    async def close(self) -> None:
        await self.client.aclose()

    async def send(self, channel: str, to: str, body: str) -> str:
        """Hand one SMS or WhatsApp message to the provider; returns its message id."""
        s = self.settings
        if not s.account_sid or s.auth_token is None:
            raise PermanentFailure("no SMS/WhatsApp provider is configured (NOTIFICATIONS_PROVIDER__...)")
        whatsapp = channel == Channel.WHATSAPP
        form = {"To": f"whatsapp:{to}" if whatsapp else to, "From": s.whatsapp_from if whatsapp else s.sms_from,
                "Body": body[:1600]}
        if s.status_callback_url:
            form["StatusCallback"] = s.status_callback_url
        try:
            response = await self.client.post(f"{s.base_url.rstrip('/')}/Accounts/{s.account_sid}/Messages.json",
                                               data=form, auth=(s.account_sid, s.auth_token.get_secret_value()),
                                               timeout=s.timeout)
        except httpx.TimeoutException as exc:
            raise TemporaryFailure("the SMS provider did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in (200, 201):
            sid = response.json().get("sid")
            if not sid:
                raise TemporaryFailure("the SMS provider answered without a message sid")
            return sid
        reason = _reason(response)
        if response.status_code in (401, 403, 408, 429) or response.status_code >= 500:
            raise TemporaryFailure(reason)  # our credentials, its limits or its outage: not the message's fault
        raise PermanentFailure(reason)


def _reason(response: httpx.Response) -> str:
    try:
        data = response.json()
        return f"{response.status_code} {data.get('code', '')} {data.get('message', '')}".strip()
    except ValueError:
        return f"{response.status_code} {response.text[:200]}"
