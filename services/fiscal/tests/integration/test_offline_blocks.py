"""Box-office terminals sell offline from blocks of 50 numbers, upload on reconnect, and unused numbers are
voided, so every series still reads as complete."""
import asyncio
import uuid
from datetime import datetime, timedelta

from fiscal_service.jobs.void_expired_blocks import void_expired_blocks
from fiscal_test_helpers import CASHIER
from taquilla_devtools.testing import service_harness, staff


def sale(local_id: str, number: int, sold_at: datetime, price: int = 2500) -> dict:
    return {"local_id": local_id, "number": number, "sold_at": sold_at.isoformat(),
            "buyer": {"name": "Luis Gómez", "national_id": "V-9876543"},
            "lines": [{"description": "General — taquilla", "quantity": 2, "unit_price_minor": price}],
            "total_minor": 2 * price, "currency": "USD", "payment_method": "cash"}


async def _sync(h, tenant, code, sales, key=None):
    headers = staff(tenant, CASHIER) | ({"Idempotency-Key": key} if key else {})
    response = await h.client.post(f"/api/v1/fiscal/terminals/{code}/sync", json={"sales": sales}, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def _terminal_with_block(h, tenant, code):
    registered = await h.client.post("/api/v1/fiscal/terminals", json={"code": code, "name": f"Taquilla {code}"},
                                     headers=staff(tenant))
    assert registered.status_code == 201, registered.text
    block = await h.client.post(f"/api/v1/fiscal/terminals/{registered.json()['id']}/blocks",
                                headers=staff(tenant, CASHIER))
    assert block.status_code == 201, block.text
    return registered.json(), block.json()


async def test_two_terminals_sync_repeat_overlap_expire_and_leave_complete_series():
    async with service_harness("fiscal", name="offline") as h:
        tenant = uuid.uuid4()
        not_admin = await h.client.post("/api/v1/fiscal/terminals", json={"code": "T09", "name": "x"},
                                        headers=staff(tenant, CASHIER))
        assert not_admin.status_code == 403
        t1, b1 = await _terminal_with_block(h, tenant, "T01")
        t2, b2 = await _terminal_with_block(h, tenant, "T02")
        assert (b1["first_formatted"], b1["last_formatted"]) == ("T01-00000001", "T01-00000050")
        assert (b2["first_number"], b2["last_number"]) == (1, 50)
        expires = datetime.fromisoformat(b1["expires_at"])
        assert expires - datetime.fromisoformat(b1["issued_at"]) == timedelta(hours=8)
        again = await h.client.post("/api/v1/fiscal/terminals", json={"code": "T01", "name": "dup"},
                                    headers=staff(tenant))
        assert again.status_code == 409 and again.json()["errors"][0]["field"] == "code"

        start = datetime.fromisoformat(b1["issued_at"]) + timedelta(minutes=5)
        first = await _sync(h, tenant, "T01", [sale("s1", 1, start), sale("s2", 2, start + timedelta(minutes=1)),
                                               sale("s3", 3, start + timedelta(minutes=2))], key="upload-1")
        assert first.json()["accepted"] == 3
        assert [r["formatted_number"] for r in first.json()["results"]] == ["T01-00000001", "T01-00000002",
                                                                            "T01-00000003"]
        replay = await _sync(h, tenant, "T01", [sale("s1", 1, start), sale("s2", 2, start + timedelta(minutes=1)),
                                                sale("s3", 3, start + timedelta(minutes=2))], key="upload-1")
        assert replay.json() == first.json() and replay.headers["idempotency-replayed"] == "true"
        # the terminal retries without its key and overlaps its next upload with the last one
        overlap = (await _sync(h, tenant, "T01", [
            sale("s3", 3, start + timedelta(minutes=2)),  # already synced: taken once
            sale("s4", 4, start + timedelta(minutes=3)),  # new
            sale("s5", 2, start + timedelta(minutes=4)),  # a second sale printed with number 2
            sale("s6", 5, expires + timedelta(minutes=1)),  # sold after the block expired
            sale("s7", 51, start + timedelta(minutes=5)),  # not in any of its blocks
        ])).json()
        assert [(r["local_id"], r["status"], r["conflict"], r["already_synced"]) for r in overlap["results"]] == [
            ("s3", "accepted", None, True), ("s4", "accepted", None, False),
            ("s5", "conflict", "duplicate_number", False), ("s6", "conflict", "expired_block", False),
            ("s7", "conflict", "outside_block", False)]
        t2_sync = (await _sync(h, tenant, "T02", [sale("a1", 1, start), sale("a2", 2, start)])).json()
        assert t2_sync["accepted"] == 2
        unknown = (await _sync(h, tenant, "T99", [sale("z1", 1, start)])).json()
        assert unknown["known_terminal"] is False
        assert unknown["results"][0]["conflict"] == "unknown_terminal"

        kept = (await h.client.get("/api/v1/fiscal/offline-sales", params={"status": "conflict"},
                                   headers=staff(tenant))).json()["items"]
        assert sorted(s["local_id"] for s in kept) == ["s5", "s6", "s7", "z1"]  # nothing uploaded is lost
        assert all(s["sale"]["buyer"]["name"] == "Luis Gómez" for s in kept)

        docs = (await h.client.get("/api/v1/fiscal/documents", headers=staff(tenant))).json()["items"]
        t1_docs = [d for d in docs if d["point_of_sale"] == "terminal:T01"]
        assert [d["number"] for d in t1_docs] == [1, 2, 3, 4]
        assert [d["issued_at"] for d in t1_docs] == sorted(d["issued_at"] for d in t1_docs)  # the terminal's order

        series = {s["point_of_sale"]: s for s in
                  (await h.client.get("/api/v1/fiscal/series", headers=staff(tenant))).json()["items"]}
        pending = (await h.client.get(f"/api/v1/fiscal/series/{series['terminal:T01']['id']}/integrity",
                                      headers=staff(tenant))).json()
        assert pending["consistent"] and pending["reserved_offline"] == 46 and not pending["complete"]

        # the sweeper runs after the blocks expired (and their grace period): unused numbers are voided
        assert await void_expired_blocks(h.container, now=expires + timedelta(days=1)) == 2
        for pos, used in (("terminal:T01", 4), ("terminal:T02", 2)):
            report = (await h.client.get(f"/api/v1/fiscal/series/{series[pos]['id']}/integrity",
                                         headers=staff(tenant))).json()
            assert report["complete"] is True and report["gaps"] == [] and report["duplicates"] == []
            assert (report["documents"], report["voided"], report["last_number"]) == (used, 50 - used, 50)
        assert await void_expired_blocks(h.container, now=expires + timedelta(days=2)) == 0

        late = (await _sync(h, tenant, "T01", [sale("s8", 6, start + timedelta(minutes=30))])).json()
        assert late["results"][0]["conflict"] == "number_voided"
        audit = (await h.client.get("/api/v1/fiscal/audit/verify", headers=staff(tenant))).json()
        assert audit["valid"] and audit["entries_checked"] == 6 + 2  # six documents, two voidings


async def test_concurrent_uploads_of_one_number_accept_exactly_one_sale():
    async with service_harness("fiscal", name="offline2") as h:
        tenant = uuid.uuid4()
        terminal, block = await _terminal_with_block(h, tenant, "T05")
        start = datetime.fromisoformat(block["issued_at"]) + timedelta(minutes=1)
        answers = await asyncio.gather(*(_sync(h, tenant, "T05", [sale(f"x{i}", 7, start)]) for i in range(4)))
        statuses = sorted(a.json()["results"][0]["status"] for a in answers)
        assert statuses == ["accepted", "conflict", "conflict", "conflict"]
        second = await h.client.post(f"/api/v1/fiscal/terminals/{terminal['id']}/blocks", headers=staff(tenant))
        assert (second.json()["first_number"], second.json()["last_number"]) == (51, 100)
        finished = await h.client.post(f"/api/v1/fiscal/blocks/{block['id']}/void-unused", headers=staff(tenant))
        assert finished.status_code == 200 and len(finished.json()["voided"]) == 49
        unknown = await h.client.post(f"/api/v1/fiscal/terminals/{uuid.uuid4()}/blocks", headers=staff(tenant))
        assert unknown.status_code == 404
