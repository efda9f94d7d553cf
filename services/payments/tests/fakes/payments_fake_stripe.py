"""A local stand-in for Stripe's HTTP API: exactly the calls payments makes, shaped as Stripe answers them.

- POST /v1/payment_intents (form-encoded, confirm=true): test PaymentMethods decide the outcome —
  pm_card_visa succeeds; pm_card_chargeDeclined is a 402 card_error; pm_card_authenticationRequired
  needs 3-D Secure (requires_action + redirect); anything else is a 400 resource_missing.
- POST /v1/refunds: against a succeeded PaymentIntent, never more than what is left
  (amount_too_large, charge_already_refunded); `refund_status` makes them pending instead.
- Bearer secret key checked; the Idempotency-Key header honoured (same key and body: the stored answer
  with Idempotent-Replayed; same key, other body: 400 idempotency_error); `fail_next` answers 500s.
- `webhook(type, object)` signs an event with the endpoint secret as Stripe does (t=…,v1=HMAC-SHA256).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding: metadata[order_id]=… → {"metadata": {"order_id": …}}."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out


def _error(status: int, type_: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message, **extra}}, status_code=status,
                        headers={"Request-Id": _id("req")})


class FakeStripe:
    API_KEY = "sk_test_fake_0123456789"
    WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"

    def __init__(self, port: int):
        self.port = port
        self.intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.requests: list[tuple[str, dict, str | None]] = []  # (path, params, idempotency key)
        self.refund_status = "succeeded"
        self.fail_next = 0
        self._idempotency: dict[str, tuple[str, int, dict]] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {"PAYMENTS_STRIPE__API_KEY": self.API_KEY, "PAYMENTS_STRIPE__WEBHOOK_SECRET": self.WEBHOOK_SECRET,
                "PAYMENTS_STRIPE__API_BASE": self.base_url, "PAYMENTS_STRIPE__MAX_NETWORK_RETRIES": "1"}

    # --- the API ----------------------------------------------------------------------------------

    def app(self) -> FastAPI:
        app = FastAPI()

        async def handle(request: Request, create) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {self.API_KEY}":
                return _error(401, "invalid_request_error", "Invalid API Key provided: sk_****")
            raw = (await request.body()).decode()
            params = _nested(parse_qsl(raw, keep_blank_values=True))
            key = request.headers.get("idempotency-key")
            self.requests.append((request.url.path, params, key))
            if self.fail_next > 0:
                self.fail_next -= 1  # Stripe does not keep a 500 under the key: a retry is tried again
                return _error(500, "api_error", "An unknown error occurred")
            fingerprint = hashlib.sha256(f"{request.url.path}?{raw}".encode()).hexdigest()
            if key is not None and key in self._idempotency:
                stored_fp, status, body = self._idempotency[key]
                if stored_fp != fingerprint:
                    return _error(400, "idempotency_error",
                                  "Keys for idempotent requests can only be used with the same parameters they "
                                  f"were first used with. Try using a key other than '{key}'.")
                return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true",
                                                                       "Request-Id": _id("req")})
            status, body = create(params)
            if key is not None:
                self._idempotency[key] = (fingerprint, status, body)
            return JSONResponse(body, status_code=status, headers={"Request-Id": _id("req")})

        @app.post("/v1/payment_intents")
        async def create_payment_intent(request: Request):
            return await handle(request, self._create_intent)

        @app.post("/v1/refunds")
        async def create_refund(request: Request):
            return await handle(request, self._create_refund)

        return app

    def _create_intent(self, params: dict) -> tuple[int, dict]:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            return 400, {"error": {"type": "invalid_request_error", "message": "Missing required param: amount.",
                                   "param": "amount", "code": "parameter_missing"}}
        method = params.get("payment_method")
        known = {"pm_card_visa": "succeeded", "pm_card_chargeDeclined": "requires_payment_method",
                 "pm_card_authenticationRequired": "requires_action"}
        if method not in known:
            return 400, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                   "param": "payment_method", "message": f"No such PaymentMethod: '{method}'"}}
        intent_id = _id("pi")
        status = known[method]
        intent = {
            "id": intent_id, "object": "payment_intent", "amount": amount,
            "amount_received": amount if status == "succeeded" else 0, "currency": params.get("currency"),
            "status": status, "metadata": params.get("metadata", {}), "payment_method": method,
            "description": params.get("description"), "client_secret": f"{intent_id}_secret_{secrets.token_hex(6)}",
            "latest_charge": _id("ch") if status == "succeeded" else None, "livemode": False,
            "created": int(time.time()), "next_action": None, "last_payment_error": None,
        }
        if status == "requires_action":
            intent["next_action"] = {"type": "redirect_to_url", "redirect_to_url": {
                "url": f"https://hooks.stripe.com/3d_secure_2/hosted?payment_intent={intent_id}",
                "return_url": params.get("return_url")}}
        self.intents[intent_id] = intent
        if status == "requires_payment_method":
            error = {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                     "message": "Your card was declined.", "payment_method": {"id": method}}
            intent["last_payment_error"] = error
            return 402, {"error": {**error, "payment_intent": intent}}
        return 200, intent

    def _create_refund(self, params: dict) -> tuple[int, dict]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            return 400, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                   "param": "payment_intent",
                                   "message": f"No such payment_intent: '{params.get('payment_intent')}'"}}
        if intent["status"] != "succeeded":
            return 400, {"error": {"type": "invalid_request_error", "code": "charge_not_refundable",
                                   "message": "This PaymentIntent does not have a successful charge to refund."}}
        refunded = sum(r["amount"] for r in self.refunds.values()
                       if r["payment_intent"] == intent["id"] and r["status"] in ("succeeded", "pending"))
        left = intent["amount_received"] - refunded
        amount = int(params.get("amount", left))
        if left <= 0:
            return 400, {"error": {"type": "invalid_request_error", "code": "charge_already_refunded",
                                   "message": f"Charge {intent['latest_charge']} has already been refunded."}}
        if amount > left:
            return 400, {"error": {"type": "invalid_request_error", "code": "amount_too_large", "param": "amount",
                                   "message": f"Refund amount ({amount}) is greater than unrefunded amount on "
                                              f"charge ({left})"}}
        refund = {"id": _id("re"), "object": "refund", "amount": amount, "currency": intent["currency"],
                  "payment_intent": intent["id"], "charge": intent["latest_charge"], "status": self.refund_status,
                  "metadata": params.get("metadata", {}), "reason": params.get("reason"),
                  "created": int(time.time())}
        self.refunds[refund["id"]] = refund
        return 200, refund

    # --- what Stripe would do later ---------------------------------------------------------------

    def authenticate(self, intent_id: str, *, succeeded: bool = True) -> dict:
        """The buyer passes (or fails) 3-D Secure: the PaymentIntent moves on."""
        intent = self.intents[intent_id]
        intent["next_action"] = None
        if succeeded:
            intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=_id("ch"))
        else:
            intent.update(status="requires_payment_method", last_payment_error={
                "type": "card_error", "code": "payment_intent_authentication_failure",
                "message": "The provided PaymentMethod has failed authentication."})
        return intent

    def settle_refund(self, refund_id: str) -> dict:
        """A pending refund goes through; returns the charge as charge.refunded carries it."""
        refund = self.refunds[refund_id]
        refund["status"] = "succeeded"
        intent = self.intents[refund["payment_intent"]]
        mine = [r for r in self.refunds.values() if r["payment_intent"] == intent["id"]]
        refunded = sum(r["amount"] for r in mine if r["status"] == "succeeded")
        return {"id": intent["latest_charge"], "object": "charge", "payment_intent": intent["id"],
                "amount": intent["amount_received"], "amount_refunded": refunded,
                "refunded": refunded >= intent["amount_received"], "currency": intent["currency"],
                "refunds": {"object": "list", "data": mine, "has_more": False}}

    def webhook(self, event_type: str, obj: dict, *, event_id: str | None = None, secret: str | None = None,
                timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """An event as Stripe posts it to the endpoint, signed with the endpoint's secret."""
        body = json.dumps({
            "id": event_id or _id("evt"), "object": "event", "api_version": "2025-09-30.clover",
            "created": int(time.time()), "type": event_type, "data": {"object": obj}, "livemode": False,
            "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
        }).encode()
        timestamp = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new((secret or self.WEBHOOK_SECRET).encode(), f"{timestamp}.".encode() + body,
                       hashlib.sha256).hexdigest()
        return body, {"Stripe-Signature": f"t={timestamp},v1={mac}", "Content-Type": "application/json"}

    # --- running ----------------------------------------------------------------------------------

    async def start(self) -> None:
        from taquilla_platform.http import serve_http

        self._task = asyncio.create_task(serve_http(self.app(), "127.0.0.1", self.port, self._stop))
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise RuntimeError("the fake Stripe did not start")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 15)
