"""The fiscal audit log is a hash chain: the verify endpoint finds the first entry someone changed."""
import uuid

from fiscal_test_helpers import issue, issue_and_wait
from sqlalchemy import text
from taquilla_devtools.testing import service_harness, staff


async def _verify(h, tenant):
    response = await h.client.get("/api/v1/fiscal/audit/verify", headers=staff(tenant))
    assert response.status_code == 200, response.text
    return response.json()


async def test_tampering_with_one_audit_entry_or_a_document_is_detected():
    async with service_harness("fiscal", name="audit") as h:
        tenant, other = uuid.uuid4(), uuid.uuid4()
        for n in range(1, 4):
            await issue_and_wait(h, tenant, issue(tenant), n)
        await issue_and_wait(h, other, issue(other), 1)
        invoice = (await issue_and_wait(h, tenant, issue(tenant), 4))[0]
        note = await h.client.post(f"/api/v1/fiscal/documents/{invoice['id']}/credit-notes",
                                   json={"reason": "Refund"}, headers=staff(tenant) | {"Idempotency-Key": "k"})
        assert note.status_code == 201
        day_id = invoice["fiscal_day_id"]
        assert (await h.client.post(f"/api/v1/fiscal/days/{day_id}/z-report", headers=staff(tenant))).status_code == 201

        healthy = await _verify(h, tenant)
        assert healthy["valid"] is True and healthy["entries_checked"] == 6  # 4 invoices, 1 credit note, 1 Z
        assert healthy["first_broken"] is None

        async with h.db() as uow:  # someone edits the amount recorded in entry 2
            await uow.session.execute(text(
                "UPDATE audit_entries SET payload = jsonb_set(payload, '{total_minor}', '1') "
                "WHERE tenant_id = :t AND sequence = 2"), {"t": tenant})
            await uow.commit()
        broken = await _verify(h, tenant)
        assert broken["valid"] is False
        assert broken["first_broken"]["sequence"] == 2
        assert broken["first_broken"]["problem"] == "the entry's content does not match its hash"
        assert (await _verify(h, other))["valid"] is True  # another organizer's chain is untouched


async def test_a_changed_document_or_a_removed_entry_breaks_the_chain():
    async with service_harness("fiscal", name="audit2") as h:
        tenant = uuid.uuid4()
        for n in range(1, 4):
            docs = await issue_and_wait(h, tenant, issue(tenant), n)
        async with h.db() as uow:  # the total of invoice 2 is lowered behind the service's back
            await uow.session.execute(text("UPDATE fiscal_documents SET total_minor = 1 WHERE id = :i"),
                                      {"i": uuid.UUID(docs[1]["id"])})
            await uow.commit()
        broken = await _verify(h, tenant)
        assert broken["first_broken"]["sequence"] == 2
        assert broken["first_broken"]["problem"] == "the fiscal document no longer matches what was recorded"

        async with h.db() as uow:
            await uow.session.execute(text("UPDATE fiscal_documents SET total_minor = :v WHERE id = :i"),
                                      {"v": docs[1]["total_minor"], "i": uuid.UUID(docs[1]["id"])})
            await uow.session.execute(text("DELETE FROM audit_entries WHERE tenant_id = :t AND sequence = 3"),
                                      {"t": tenant})
            await uow.commit()
        removed = await _verify(h, tenant)
        assert removed["valid"] is False and removed["first_broken"]["sequence"] == 3
