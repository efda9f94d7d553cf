"""The tickets PDF every completed order's confirmation carries: CPU a ticket, and what its QR code costs.

    .venv/bin/python bench/ticket_pdf.py --orders 200 --runs 3

Signs ticket codes as the tickets service does (Ed25519, the real claims), builds orders of 1-4 tickets,
and times, in this process (one CPU, nothing else needed): the notifications service's tickets PDF a
ticket, Taquilla's QR encoder (`taquilla_documents.make`) a code, and segno's (`segno.make`, the general
encoder it replaced) on the same codes. Each printed figure is the median of the runs with min and max;
every code made is decoded by ZXing first, so a fast but unreadable code cannot pass.
Writes bench/results/ticket-pdf-<time>.json.
"""
from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from datetime import UTC, datetime

import segno
from benchlib import spread, spread_text, write_result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from notifications_service.adapters.ticket_pdf import tickets_pdf
from taquilla_devtools.pdf_checks import scanned
from taquilla_documents import make
from tickets_service.domain.qr import TicketClaims, sign_qr


def orders(count: int, rng: random.Random) -> list[dict]:
    key, tenant, event, session = Ed25519PrivateKey.generate(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    made = []
    for n in range(count):
        tickets = [{"label": f"GA {n}-{k}", "zone": "General",
                    "qr_payload": sign_qr(TicketClaims(uuid.uuid4(), event, session, tenant, datetime.now(UTC), 0),
                                          "k1a2b3c4", key)}
                   for k in range(rng.randint(1, 4))]
        made.append({"event_title": "Gran Concierto de Verano", "venue_name": "Estadio Monumental",
                     "buyer_name": f"Fan {n}", "order_code": f"TQ-{n:05d}", "organizer_name": "Producciones Sol",
                     "tickets": tickets})
    return made


def one_run(contexts: list[dict]) -> dict:
    codes = [t["qr_payload"] for c in contexts for t in c["tickets"]]
    started = time.process_time()
    for context in contexts:
        tickets_pdf(context, "es", "sábado, 14 de marzo de 2026, 20:30")
    pdf_ms = (time.process_time() - started) * 1000 / len(codes)
    started = time.process_time()
    for code in codes:
        make(code)
    ours_ms = (time.process_time() - started) * 1000 / len(codes)
    started = time.process_time()
    for code in codes:
        segno.make(code, error="m", micro=False)
    segno_ms = (time.process_time() - started) * 1000 / len(codes)
    return {"tickets": len(codes), "pdf_ms_per_ticket": round(pdf_ms, 2), "qr_ms_per_code": round(ours_ms, 3),
            "segno_ms_per_code": round(segno_ms, 2), "qr_version": make(codes[0]).version,
            "code_characters": len(codes[0])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    contexts = orders(args.orders, random.Random(1))
    for context in contexts[:20]:  # what a door scanner reads
        for ticket in context["tickets"]:
            rows = make(ticket["qr_payload"]).rows
            if scanned([[m == "1" for m in row] for row in rows]) != [ticket["qr_payload"]]:
                raise SystemExit(f"the code of {ticket['label']} does not read back")
    one_run(contexts[:5])  # warm the caches a service keeps between orders
    runs = []
    for number in range(1, args.runs + 1):
        runs.append(one_run(contexts))
        print(f"run {number}: {runs[-1]}")
    keys = ("pdf_ms_per_ticket", "qr_ms_per_code", "segno_ms_per_code")
    for key in keys:
        print(f"{key} {spread_text(runs, key)}")
    path = write_result("ticket-pdf", {"benchmark": "ticket_pdf", "arguments": vars(args),
                                       "machine": {"cpus": os.cpu_count()}, "runs": runs,
                                       "summary": {key: spread(runs, key) for key in keys}})
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
