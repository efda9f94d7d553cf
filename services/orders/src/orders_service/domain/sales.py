"""What an order sold, line by line, and what its refunds gave back of each line: the facts the sales reports
add up. No I/O here.

A sold line is one line of the catalog's quote kept in `orders.pricing` (one zone, row and stage):
    gross       = (base + stage adjustment + row adjustment) x quantity, the list price before discounts
    discounts   = group discount + promo discount (a positive amount)
    collected   = gross - discounts + fees + taxes (the quote line's total: what the buyer paid for it)
A refund gives back, per line, the order-line prices of the tickets it refunds (or everything left, for the
automatic refund of a paid order that was not kept). The taxes inside a refund are those the credit note
gives back: of a line's taxes T over n tickets, the first c refunded tickets carry round_half_up(T * c / n),
so refunding every ticket gives back exactly T. A refund of an amount (a price adjustment: its credit lines
say `adjustment`) gives back money and no ticket; once a line has one, each refund of it carries the taxes
still owed on the line in proportion to the money it gives back of what is left (the last ticket, the rest).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from taquilla_platform.money import average_ticket_price, round_half_up


@dataclass(frozen=True)
class SoldLine:
    index: int  # the quote line's position in the order's pricing
    zone_id: str | None
    zone_name: str
    stage_id: str | None
    stage_name: str | None
    row: str | None
    seats: tuple[str, ...]
    quantity: int
    gross: int
    discounts: int
    fees: int
    taxes: int
    collected: int
    promo_code: str | None  # the order's code, on the lines it discounted

    @property
    def unit_price(self) -> int:
        return self.gross // self.quantity if self.quantity else 0


@dataclass(frozen=True)
class RefundPart:
    """What one completed refund gave back of one sold line."""

    refund_id: str
    line: int
    tickets: int
    amount: int
    taxes: int
    completed_at: datetime


def sold_lines(order) -> list[SoldLine]:
    """The order's lines as the catalog quoted them (or, for an order without a stored quote, its own lines
    at their unit price, with no discounts, fees or taxes known)."""
    o = _mapping(order)
    pricing = o.get("pricing") or {}
    promo_code = o.get("promo_code")
    out = []
    quoted = pricing.get("lines") or []
    if quoted:
        for g, q in enumerate(quoted):
            gross = q["base_minor"] + q.get("stage_adjustment_minor", 0) + q.get("row_adjustment_minor", 0)
            promo = -q.get("promo_discount_minor", 0)
            discounts = -q.get("group_discount_minor", 0) + promo
            stage = q.get("stage") or {}
            out.append(SoldLine(
                g, q.get("zone_id"), q.get("zone_name") or "", stage.get("id"), stage.get("name"), q.get("row"),
                tuple(q.get("seats") or ()), q["quantity"], gross, discounts, q.get("fees_minor", 0),
                q.get("taxes_minor", 0), q["total_minor"], promo_code if promo else None))
        return out
    for i, line in enumerate(o.get("lines") or []):
        amount = line["unit_price_minor"] * line["quantity"]
        stage = line.get("stage") or {}
        out.append(SoldLine(i, line.get("zone_id"), line.get("zone_name") or "", stage.get("id"), stage.get("name"),
                            None, tuple(line.get("seat_labels") or ()), line["quantity"], amount, 0, 0, 0, amount,
                            None))
    return out


def _mapping(order) -> dict:
    return order if isinstance(order, dict) else dict(order._mapping if hasattr(order, "_mapping") else order)


def _sold_line_of(order_line: dict, order_line_index: int, sold: list[SoldLine], from_quote: bool) -> int:
    if not from_quote:
        return order_line_index
    g = order_line.get("quote_line")
    if g is not None and 0 <= g < len(sold):
        return g
    return next((s.index for s in sold if s.zone_id == order_line.get("zone_id")), 0)


def refund_parts(order, completed_refunds: Iterable[dict]) -> list[RefundPart]:
    """Each completed refund (id, amount_minor, credit_lines, completed_at), in the order they completed,
    split over the sold lines it gave back."""
    o = _mapping(order)
    sold = sold_lines(o)
    if not sold:
        return []
    from_quote = bool((o.get("pricing") or {}).get("lines"))
    order_lines = o.get("lines") or []
    tickets_back = [0] * len(sold)
    amount_back = [0] * len(sold)
    taxes_back = [0] * len(sold)
    parts: list[RefundPart] = []
    adjusted: set[int] = set()  # sold lines an amount refund gave money back on
    ordered = sorted(completed_refunds, key=lambda r: (_moment(r["completed_at"]), str(r["id"])))
    for refund in ordered:
        wanted: dict[int, tuple[int, int]] = {}  # sold line -> (tickets, amount)
        credit_lines = refund.get("credit_lines") or []
        if credit_lines:
            for credit in credit_lines:
                i, quantity = credit["original_line"], credit["quantity"]
                line = order_lines[i]
                g = _sold_line_of(line, i, sold, from_quote)
                tickets, amount = wanted.get(g, (0, 0))
                price = line["unit_price_minor"] if credit.get("unit_price_minor") is None else credit["unit_price_minor"]
                if credit.get("adjustment"):
                    adjusted.add(g)
                wanted[g] = (tickets + (0 if credit.get("adjustment") else quantity), amount + quantity * price)
        else:  # the whole payment back: every ticket and amount not refunded yet
            for s in sold:
                left = s.quantity - tickets_back[s.index]
                if left > 0 or s.collected - amount_back[s.index] > 0:
                    wanted[s.index] = (left, s.collected - amount_back[s.index])
        if not wanted:
            wanted[sold[0].index] = (0, 0)
        # the money actually paid back is the refund's amount: a difference lands on its last line
        last = max(wanted)
        tickets, amount = wanted[last]
        wanted[last] = (tickets, amount + int(refund["amount_minor"]) - sum(a for _, a in wanted.values()))
        for g in sorted(wanted):
            tickets, amount = wanted[g]
            s = sold[g]
            before = tickets_back[g]
            after = min(s.quantity, before + tickets)
            if g in adjusted:
                owed, money_left = s.taxes - taxes_back[g], s.collected - amount_back[g]
                taxes = owed if after == s.quantity and tickets else (
                    min(owed, max(0, round_half_up(owed * amount, money_left))) if money_left > 0 else 0)
            else:
                taxes = (round_half_up(s.taxes * after, s.quantity) - round_half_up(s.taxes * before, s.quantity)
                         if s.quantity else 0)
            tickets_back[g], amount_back[g], taxes_back[g] = after, amount_back[g] + amount, taxes_back[g] + taxes
            parts.append(RefundPart(str(refund["id"]), g, after - before, amount, taxes,
                                    _moment(refund["completed_at"])))
    return parts


def _moment(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@dataclass
class SalesFigures:
    """The sums of one report row, in minor units of one currency."""

    tickets: int = 0
    gross: int = 0
    discounts: int = 0
    fees: int = 0
    taxes: int = 0
    collected: int = 0
    refunds: int = 0
    refunded_tickets: int = 0
    refunded_taxes: int = 0
    orders: set[uuid.UUID | str] = field(default_factory=set)

    def add_sale(self, order_id, line: SoldLine) -> None:
        self.orders.add(order_id)
        self.tickets += line.quantity
        self.gross += line.gross
        self.discounts += line.discounts
        self.fees += line.fees
        self.taxes += line.taxes
        self.collected += line.collected

    def add_refund(self, part: RefundPart) -> None:
        self.refunds += part.amount
        self.refunded_tickets += part.tickets
        self.refunded_taxes += part.taxes

    def merge(self, other: SalesFigures) -> None:
        for name in ("tickets", "gross", "discounts", "fees", "taxes", "collected", "refunds", "refunded_tickets",
                     "refunded_taxes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.orders |= other.orders

    @property
    def net(self) -> int:
        """What stays with the organizer: collected, less refunds, less the taxes still owed (the taxes of
        refunded tickets went back with the refund and its credit note, so they are not owed)."""
        return self.collected - self.refunds - (self.taxes - self.refunded_taxes)

    @property
    def average_ticket_price(self) -> int | None:
        return average_ticket_price(self.gross, self.discounts, self.tickets)

    def as_dict(self) -> dict:
        return {
            "orders": len(self.orders), "tickets": self.tickets, "gross_minor": self.gross,
            "discounts_minor": self.discounts, "fees_minor": self.fees, "taxes_minor": self.taxes,
            "collected_minor": self.collected, "refunds_minor": self.refunds, "refunded_tickets": self.refunded_tickets,
            "refunded_taxes_minor": self.refunded_taxes, "net_minor": self.net,
            "average_ticket_price_minor": self.average_ticket_price,
        }
