"""What the SMS/WhatsApp provider later says about a message it took: delivered, or not."""
from __future__ import annotations

from sqlalchemy import func, update

from ..adapters.tables import messages
from ..adapters.text_messages import FINAL_STATUSES
from ..domain.messages import Status


async def record_provider_status(db, provider_message_id: str, provider_status: str,
                                 error_code: str | None) -> bool:
    """True when the message is known. Only a message the provider took (sent) moves on; repeats change nothing."""
    ours = FINAL_STATUSES.get(provider_status)
    async with db.unit_of_work(system=True) as uow:  # the provider knows no tenant; the sid finds the row
        found = (await uow.session.execute(
            messages.select().with_only_columns(messages.c.id, messages.c.status)
            .where(messages.c.provider_message_id == provider_message_id))).first()
        if found is None:
            return False
        if ours is not None and found.status == Status.SENT:
            values = {"status": ours, "updated_at": func.now()}
            if ours == Status.DELIVERED:
                values["delivered_at"] = func.now()
            else:
                values["last_error"] = f"the provider reports {provider_status}" + (
                    f" (error {error_code})" if error_code else "")
            await uow.session.execute(update(messages).where(messages.c.id == found.id).values(**values))
            await uow.commit()
        return True
