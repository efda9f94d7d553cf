"""SMS and WhatsApp through a Twilio-style provider (a local fake speaking its API), with delivery status."""
import asyncio
import uuid

from taquilla_contracts.orders import OrderCompleted
from taquilla_devtools.testing import eventually, staff

from .test_order_confirmation import order_completed
from .test_webhooks import harness


async def set_phone(h, tenant, email, phone, **flags):
    response = await h.client.put(f"/api/v1/notifications/preferences/{email}", headers=staff(tenant),
                                  json={"phone": phone, **flags})
    assert response.status_code == 200, response.text


async def by_channel(h, tenant):
    items = (await h.client.get("/api/v1/notifications/messages", headers=staff(tenant))).json()["items"]
    return {m["channel"]: m for m in items}


async def test_a_buyer_who_asked_for_it_gets_sms_and_whatsapp_retried_and_tracked(smtp_sink, text_provider):
    sink = smtp_sink()
    await sink.start()
    provider = await text_provider(script=[503])  # the provider is briefly down for the first message
    async with harness(sink, **provider.env) as h:
        tenant = uuid.uuid4()
        await set_phone(h, tenant, "ana@example.com", "+58 414 1234567", sms_transactional=True,
                        whatsapp_transactional=True)
        envelope = order_completed(tenant)
        code = envelope.parse(OrderCompleted).code
        await h.publish(envelope)

        await eventually(lambda: _at_least(provider.messages, 2))
        await eventually(lambda: _at_least(sink.accepted, 1))
        sms = next(m for m in provider.messages if not m["To"].startswith("whatsapp:"))
        whatsapp = next(m for m in provider.messages if m["To"].startswith("whatsapp:"))
        assert (sms["To"], sms["From"]) == ("+584141234567", "+15005550006")
        assert (whatsapp["To"], whatsapp["From"]) == ("whatsapp:+584141234567", "whatsapp:+14155238886")
        for message in (sms, whatsapp):
            assert code in message["Body"] and "confirmada" in message["Body"]
            assert message["StatusCallback"] == provider.CALLBACK

        channels = await eventually(lambda: _all_sent(h, tenant))
        assert {c: m["status"] for c, m in channels.items()} == {"email": "sent", "sms": "sent", "whatsapp": "sent"}
        assert sorted([channels["sms"]["attempts"], channels["whatsapp"]["attempts"]]) == [1, 2]  # one 503, retried

        callback = "/api/v1/notifications/providers/twilio/status"
        forged, headers = provider.callback(sms["sid"], "delivered", token="not-the-token")
        refused = await h.client.post(callback, content=forged, headers=headers)
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"

        for sid, status, extra in ((sms["sid"], "delivered", {}), (whatsapp["sid"], "undelivered",
                                                                    {"ErrorCode": "63016"})):
            body, headers = provider.callback(sid, status, **extra)
            answered = await h.client.post(callback, content=body, headers=headers)
            assert answered.status_code == 204, answered.text
        late, headers = provider.callback(sms["sid"], "sent")  # an out-of-order report changes nothing
        assert (await h.client.post(callback, content=late, headers=headers)).status_code == 204

        channels = await by_channel(h, tenant)
        assert channels["sms"]["status"] == "delivered" and channels["sms"]["delivered_at"]
        assert channels["whatsapp"]["status"] == "failed" and "63016" in channels["whatsapp"]["last_error"]
        unknown, headers = provider.callback("SM" + "0" * 32, "delivered")
        assert (await h.client.post(callback, content=unknown, headers=headers)).status_code == 404


async def test_an_invalid_number_fails_at_once_and_no_opt_in_means_no_sms(smtp_sink, text_provider):
    sink = smtp_sink()
    await sink.start()
    provider = await text_provider()
    async with harness(sink, **provider.env) as h:
        tenant = uuid.uuid4()
        await set_phone(h, tenant, "ana@example.com", "+19995550100", sms_transactional=True)
        await set_phone(h, tenant, "bea@example.com", "+584149999999")  # a phone, but no channel chosen
        await h.publish(order_completed(tenant))
        await h.publish(order_completed(tenant, email="bea@example.com", name="Bea"))
        await eventually(lambda: _at_least(sink.accepted, 2))
        failed = await eventually(lambda: _sms_finished(h, tenant))
        assert failed["status"] == "failed" and failed["attempts"] == 1 and "21211" in failed["last_error"]
        await asyncio.sleep(1.0)
        assert provider.requests == 1 and provider.messages == []
        items = (await h.client.get("/api/v1/notifications/messages", headers=staff(tenant))).json()["items"]
        assert sorted(m["channel"] for m in items) == ["email", "email", "sms"]


async def _all_sent(h, tenant):
    channels = await by_channel(h, tenant)
    return channels if len(channels) == 3 and all(m["status"] == "sent" for m in channels.values()) else None


async def _sms_finished(h, tenant):
    sms = (await by_channel(h, tenant)).get("sms")
    return sms if sms and sms["status"] in ("sent", "failed") else None


async def _at_least(items, n):
    return len(items) >= n
