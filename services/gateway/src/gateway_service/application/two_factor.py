"""TOTP two-factor sign-in for staff: set up with a provisioning URI (and its QR code), turn on with a
first code, recovery codes for a lost phone. A code is accepted once; a recovery code is used up."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from datetime import UTC, datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
from taquilla_platform.auth import Principal
from taquilla_platform.database import Database
from taquilla_platform.problems import Problem

from ..adapters.passwords import Passwords
from ..adapters.tables import users

RECOVERY_CODES = 10
DRIFT_STEPS = 1  # a phone's clock may be one 30-second step off


class SecretBox:
    """TOTP secrets are stored encrypted with a key derived from the platform's token secret."""

    def __init__(self, secret: str):
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"taquilla-totp\0" + secret.encode()).digest()))

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose TOTP code this is (within the allowed drift), or None."""
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // totp.interval)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_required() -> Problem:
    return Problem(401, "two-factor-code-required", "Two-factor code required",
                   "This account uses two-factor sign-in: send the code from the authenticator app (or a "
                   "recovery code) as `otp`", field="otp")


def code_invalid(field: str = "otp") -> Problem:
    return Problem(401 if field == "otp" else 422, "two-factor-code-invalid", "Wrong two-factor code",
                   "The code is not right, expired or was already used", field=field)


async def accept_second_factor(session, box: SecretBox, user, code: str) -> bool:
    """Check a TOTP code (once only) or use up a recovery code, inside the caller's transaction."""
    secret = box.open(user.totp_secret) if user.totp_secret else None
    step = matching_step(secret, code) if secret else None
    if step is not None:
        taken = (await session.execute(
            update(users).where(users.c.id == user.id,
                                (users.c.totp_last_step.is_(None)) | (users.c.totp_last_step < step))
            .values(totp_last_step=step).returning(users.c.id))).first()
        return taken is not None
    used = (await session.execute(
        update(users).where(users.c.id == user.id, func.jsonb_exists(users.c.recovery_codes, _recovery_hash(code)))
        .values(recovery_codes=users.c.recovery_codes.op("-", return_type=JSONB)(
            cast(literal(_recovery_hash(code)), Text)))
        .returning(users.c.id))).first()
    return used is not None


class TwoFactor:
    def __init__(self, db: Database, passwords: Passwords, box: SecretBox, *, issuer: str):
        self.db = db
        self.passwords = passwords
        self.box = box
        self.issuer = issuer

    async def _user(self, session, user_id: uuid.UUID):
        user = (await session.execute(select(users).where(users.c.id == user_id).with_for_update())).first()
        if user is None:
            raise Problem(401, "unauthorized", "Authentication required", "This account no longer exists",
                          field="Authorization")
        return user

    async def setup(self, principal: Principal) -> dict:
        async with self.db.unit_of_work(system=True) as uow:
            user = await self._user(uow.session, principal.user_id)
            if user.totp_enabled_at is not None:
                raise Problem(409, "two-factor-already-enabled", "Two-factor sign-in is already on",
                              "Turn it off first to enrol another authenticator")
            secret = pyotp.random_base32()
            await uow.session.execute(update(users).where(users.c.id == user.id).values(
                totp_secret=self.box.seal(secret), totp_last_step=None))
            await uow.commit()
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=self.issuer)
        return {"secret": secret, "provisioning_uri": uri, "qr_code_svg": segno.make(uri).svg_data_uri(scale=4)}

    async def enable(self, principal: Principal, code: str) -> dict:
        async with self.db.unit_of_work(system=True) as uow:
            user = await self._user(uow.session, principal.user_id)
            if user.totp_enabled_at is not None:
                raise Problem(409, "two-factor-already-enabled", "Two-factor sign-in is already on")
            secret = self.box.open(user.totp_secret) if user.totp_secret else None
            if secret is None:
                raise Problem(409, "two-factor-not-set-up", "Set up two-factor sign-in first",
                              "POST /api/v1/auth/2fa/setup gives the secret to enrol")
            step = matching_step(secret, code)
            if step is None:
                raise code_invalid("code")
            codes = new_recovery_codes()
            await uow.session.execute(update(users).where(users.c.id == user.id).values(
                totp_enabled_at=datetime.now(UTC), totp_last_step=step,
                recovery_codes=[_recovery_hash(c) for c in codes]))
            await uow.commit()
        return {"enabled": True, "recovery_codes": codes}

    async def disable(self, principal: Principal, password: str, code: str) -> None:
        async with self.db.unit_of_work(system=True) as uow:
            user = await self._user(uow.session, principal.user_id)
            if user.totp_enabled_at is None:
                raise Problem(409, "two-factor-not-enabled", "Two-factor sign-in is off")
            if not await self.passwords.verify(user.password_hash, password):
                raise Problem(422, "wrong-password", "Wrong password", "The password is not right", field="password")
            if not await accept_second_factor(uow.session, self.box, user, code):
                raise code_invalid("code")
            await uow.session.execute(update(users).where(users.c.id == user.id).values(
                totp_enabled_at=None, totp_secret=None, totp_last_step=None, recovery_codes=[]))
            await uow.commit()
