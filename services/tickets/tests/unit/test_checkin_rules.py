"""The door's rules, replayed in scan order: the first scan wins, whatever order scans arrive in."""
import uuid
from datetime import UTC, datetime, timedelta

from tickets_service.domain.checkin import Direction, EntryRules, Passage, ScanResult, replay

T0 = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)


def passage(minutes: int, direction: Direction = Direction.ENTRY, door: str = "Norte") -> Passage:
    return Passage(uuid.uuid4(), direction, T0 + timedelta(minutes=minutes), door)


def results(passages, rules=EntryRules()):
    state = replay(passages, rules)
    return [state.verdicts[p.id].result for p in passages], state


def test_a_single_entry_ticket_gets_in_once_and_the_earliest_scan_wins_in_any_arrival_order():
    early, late = passage(1, door="Norte"), passage(2, door="Sur")
    for arrival in ([early, late], [late, early]):
        verdicts, state = results(arrival)
        by_id = dict(zip([p.id for p in arrival], verdicts, strict=True))
        assert by_id[early.id] is ScanResult.ADMITTED and by_id[late.id] is ScanResult.ALREADY_INSIDE
        assert state.verdicts[late.id].because_of == early
        assert state.presence.inside and state.presence.entries == 1


def test_without_reentry_an_exit_does_not_open_the_door_again():
    verdicts, _ = results([passage(1), passage(2, Direction.EXIT), passage(3)])
    assert verdicts == [ScanResult.ADMITTED, ScanResult.EXITED, ScanResult.ALREADY_USED]


def test_reentry_needs_an_exit_and_a_pass_with_n_entries_stops_at_n():
    rules = EntryRules(allow_reentry=True, max_entries=2)
    scans = [passage(1), passage(2), passage(3, Direction.EXIT), passage(4), passage(5, Direction.EXIT), passage(6)]
    verdicts, state = results(scans, rules)
    assert verdicts == [ScanResult.ADMITTED, ScanResult.ALREADY_INSIDE, ScanResult.EXITED, ScanResult.ADMITTED,
                        ScanResult.EXITED, ScanResult.ALREADY_USED]
    assert state.presence.entries == 2 and not state.presence.inside


def test_an_exit_uploaded_late_makes_a_reentry_valid_again():
    rules = EntryRules(allow_reentry=True)
    entry, reentry, exit_between = passage(1), passage(10), passage(5, Direction.EXIT)
    verdicts, _ = results([entry, reentry], rules)
    assert verdicts == [ScanResult.ADMITTED, ScanResult.ALREADY_INSIDE]
    verdicts, _ = results([entry, reentry, exit_between], rules)
    assert verdicts == [ScanResult.ADMITTED, ScanResult.ADMITTED, ScanResult.EXITED]


def test_an_exit_without_an_entry_is_refused():
    verdicts, state = results([passage(1, Direction.EXIT)])
    assert verdicts == [ScanResult.NOT_INSIDE] and state.presence.entries == 0
