"""What a refund gives back, ticket by ticket, and how its credit note credits the invoice. No I/O here.

A ticket is worth its order line's unit price, less what refunds of an amount took off it:
- a refund of an AMOUNT (goodwill, a price adjustment: the buyer keeps every ticket) is spread over the tickets
  not refunded yet, in proportion to what each is still worth (largest remainder, so the shares add up to the
  amount exactly); it can never be more than they are worth all together;
- a refund of TICKETS gives back what those tickets are still worth, reduced (proportionally, to the minor
  unit) to what is left of their invoice lines and of the order when earlier refunds took more (a resale refund
  that ignored an adjustment, say). So an order is never refunded more than it collected, nor an invoice line
  credited more than it charged.

On the invoice (one line per order line), a ticket refund credits each ticket at what it is still worth (the
line's unit price when nothing was taken off; a ticket worth nothing any more is not credited); an amount
refund credits, per line, the share taken off each of its tickets as a price ADJUSTMENT: money back on units
the buyer keeps, which fiscal counts as money credited but not as units given back, so a later ticket refund
can still credit those units. Each adjustment credit line remembers its tickets (`ticket_ids`), which is how
orders knows what each ticket is still worth.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class TicketPlace:
    line: int  # the order line, and so the invoice line
    unit_id: str
    price: int  # the line's unit price


def line_index_of(order, unit: dict) -> int:
    """The order line (and so the invoice line: fiscal_command sends one per order line) holding a unit."""
    for index, line in enumerate(order.lines):
        if str(unit["unit_id"]) in {str(u) for u in line.get("unit_ids", [])}:
            return index
    for index, line in enumerate(order.lines):  # a line without its unit ids holds every unit of its zone
        if not line.get("unit_ids") and line["zone_id"] == str(unit["zone_id"]):
            return index
    raise LookupError(f"unit {unit['unit_id']} is on no line of order {order.code}")


def unit_of(order, ticket: dict) -> dict:
    units = order.units or []
    if ticket.get("unit_id"):
        for unit in units:
            if unit["unit_id"] == ticket["unit_id"]:
                return unit
    for unit in units:  # tickets recorded before their unit id was kept: the label is unique per order
        if unit["label"] == ticket["label"]:
            return unit
    raise LookupError(f"ticket {ticket['ticket_id']} of order {order.code} has no unit")


def ticket_places(order, ticket_ids: Iterable[str]) -> dict[str, TicketPlace]:
    tickets = {t["ticket_id"]: t for t in order.tickets or []}
    places = {}
    for ticket_id in ticket_ids:
        unit = unit_of(order, tickets[ticket_id])
        index = line_index_of(order, unit)
        places[ticket_id] = TicketPlace(index, str(unit["unit_id"]), order.lines[index]["unit_price_minor"])
    return places


def spread(amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    """`amount` split in proportion to `weights` (largest remainder, ties to the first), each share at most its
    weight; `amount` must not exceed the weights' sum."""
    total = sum(weights.values())
    if amount > total:
        raise ValueError(f"{amount} does not fit in {total}")
    if total == 0:
        return dict.fromkeys(weights, 0)
    shares = {key: amount * weight // total for key, weight in weights.items()}
    left = amount - sum(shares.values())
    by_remainder = sorted(weights, key=lambda key: -(amount * weights[key] % total))  # stable: ties keep order
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


def _cut_to(values: dict[str, int], cap: int) -> dict[str, int]:
    return values if sum(values.values()) <= cap else spread(max(cap, 0), values)


def _credited_money(order, earlier: Iterable[Mapping]) -> Counter[int]:
    money: Counter[int] = Counter()
    for refund in earlier:
        for credit in refund["credit_lines"] or []:
            price = credit.get("unit_price_minor")
            index = credit["original_line"]
            money[index] += credit["quantity"] * (order.lines[index]["unit_price_minor"] if price is None else price)
    return money


def taken_off(earlier: Iterable[Mapping]) -> Counter[str]:
    """Per ticket, what refunds of an amount gave back on it."""
    off: Counter[str] = Counter()
    for refund in earlier:
        for credit in refund["credit_lines"] or []:
            if credit.get("adjustment"):
                for ticket_id in credit.get("ticket_ids", []):
                    off[str(ticket_id)] += credit["unit_price_minor"]
    return off


def still_worth(order, earlier: list[Mapping], places: dict[str, TicketPlace]) -> dict[str, int]:
    """What each ticket can still give back, given the refunds not failed so far (`earlier`: amount_minor,
    credit_lines), within what is left of its invoice line and of the order."""
    off = taken_off(earlier)
    values = {t: max(0, place.price - off[t]) for t, place in places.items()}
    if not earlier:
        return values
    credited = _credited_money(order, earlier)
    for index in {place.line for place in places.values()}:
        line = order.lines[index]
        left = line["quantity"] * line["unit_price_minor"] - credited[index]
        values |= _cut_to({t: v for t, v in values.items() if places[t].line == index}, left)
    return _cut_to(values, order.total_minor - sum(int(r["amount_minor"]) for r in earlier))


def ticket_credit_lines(places: dict[str, TicketPlace], values: dict[str, int]) -> list[dict]:
    """The invoice lines a ticket refund credits: its tickets at what each gave back."""
    grouped: Counter[tuple[int, int]] = Counter((places[t].line, v) for t, v in values.items() if v > 0)
    lines = []
    for (index, value), quantity in sorted(grouped.items(), key=lambda item: (item[0][0], -item[0][1])):
        full = next(p.price for p in places.values() if p.line == index)
        lines.append({"original_line": index, "quantity": quantity}
                     | ({"unit_price_minor": value} if value != full else {}))
    return lines


def adjustment_credit_lines(places: dict[str, TicketPlace], shares: dict[str, int]) -> list[dict]:
    """The invoice lines an amount refund credits: per line, the share taken off each ticket, as an adjustment."""
    grouped: dict[tuple[int, int], list[str]] = defaultdict(list)
    for ticket_id, share in shares.items():
        if share > 0:
            grouped[(places[ticket_id].line, share)].append(ticket_id)
    return [{"original_line": index, "quantity": len(tickets), "unit_price_minor": share, "adjustment": True,
             "ticket_ids": tickets}
            for (index, share), tickets in sorted(grouped.items(), key=lambda item: (item[0][0], -item[0][1]))]
