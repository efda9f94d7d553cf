from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from taquilla_platform.idempotency import MAX_KEY_LENGTH, IdempotencyStore, request_fingerprint
from taquilla_platform.problems import Problem

from ...adapters.key_vault import KeyVault
from ...adapters.tables import idempotency

STORE = IdempotencyStore(idempotency)


def vault_of(request: Request) -> KeyVault:
    return KeyVault(request.app.state.settings.signing.master_key)


async def once(request: Request, response: Response, uow, scope: str, body: object,
               create: Callable[[], Awaitable[dict]], status: int = 201) -> dict:
    """Run `create` in the caller's transaction; with an Idempotency-Key, a repeat gets the first answer
    (and a different body under the same key is a 409). The caller commits."""
    key = (request.headers.get("idempotency-key") or "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise Problem(400, "idempotency-key-invalid", "The Idempotency-Key is too long",
                      f"At most {MAX_KEY_LENGTH} characters", field="Idempotency-Key")
    if key:
        stored = await STORE.claim(uow.session, scope, key, request_fingerprint(body))
        if stored is not None:
            response.status_code = stored.status_code
            response.headers["Idempotency-Replayed"] = "true"
            return stored.body
    created = await create()
    response.status_code = status
    if key:
        await STORE.complete(uow.session, scope, key, status, created)
    return created
