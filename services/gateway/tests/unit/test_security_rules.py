"""The rules behind sign-in, keys and tokens, without I/O."""
import time
import uuid
from types import SimpleNamespace

import pyotp
import pytest
from gateway_service.application.manage_tenants import check_origin
from gateway_service.application.sessions import event_limit
from gateway_service.application.sign_in import choose_tenant
from gateway_service.application.two_factor import SecretBox, matching_step, new_recovery_codes
from gateway_service.domain.routing import event_in_path
from gateway_service.domain.scopes import allows, check_scopes, scope_needed
from taquilla_platform.auth import Principal, TokenService
from taquilla_platform.problems import Problem
from taquilla_platform.settings import AuthSettings

TOKENS = TokenService(AuthSettings(jwt_secret="unit-test-secret-0123456789abcdef0123"))


def row(tenant_id, role, status="active", event_ids=None, name="Org"):
    return SimpleNamespace(tenant_id=tenant_id, role=role, status=status, event_ids=event_ids, name=name,
                           require_staff_2fa=False)


def test_scopes_follow_the_path_and_method_and_write_includes_read():
    assert scope_needed("GET", "/api/v1/orders/123") == "orders:read"
    assert scope_needed("POST", "/api/v1/venues") == "events:write"
    assert scope_needed("DELETE", "/api/v1/fiscal/documents/1") == "fiscal:write"
    assert scope_needed("GET", "/api/v1/unknown") is None
    assert allows(frozenset({"orders:write"}), "orders:read")
    assert not allows(frozenset({"orders:read"}), "orders:write")
    assert not allows(frozenset({"events:write"}), "orders:read")
    assert check_scopes(["Orders:Read ", "orders:read"]) == ["orders:read"]
    with pytest.raises(ValueError, match="unknown scopes"):
        check_scopes(["orders:admin"])


def test_a_token_carries_the_new_claims_and_an_old_token_still_verifies():
    limited = Principal(uuid.uuid4(), "olga@example.com", frozenset({"event_operator"}), uuid.uuid4(),
                        event_ids=frozenset({"e1"}), session_id="s1")
    back = TOKENS.verify(TOKENS.issue(limited)[0])
    assert (back.event_ids, back.session_id, back.scopes, back.kind) == (frozenset({"e1"}), "s1", None, "user")
    assert back.may_act_on_event("e1") and not back.may_act_on_event("e2")
    plain = TOKENS.verify(TOKENS.issue(Principal(uuid.uuid4(), "ana@example.com", frozenset({"buyer"})))[0])
    assert plain.event_ids is None and plain.may_act_on_event(uuid.uuid4())
    token, ttl = TOKENS.issue(plain, ttl_seconds=30)
    assert ttl == 30 and TOKENS.verify(token).user_id == plain.user_id


def test_staff_of_a_suspended_organizer_are_refused_and_active_ones_chosen():
    active, suspended = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(Problem) as refused:
        choose_tenant([row(suspended, "tenant_admin", "suspended")], False, None)
    assert refused.value.status == 403 and refused.value.type == "tenant-suspended"
    tenant, roles = choose_tenant([row(suspended, "tenant_admin", "suspended"), row(active, "box_office_cashier")],
                                  False, None)
    assert (tenant, roles) == (active, {"box_office_cashier"})
    with pytest.raises(Problem):
        choose_tenant([row(suspended, "tenant_admin", "pending_deletion")], False, suspended)
    assert choose_tenant([row(suspended, "tenant_admin", "suspended")], True, None) == (None, {"platform_admin"})


def test_an_operator_is_limited_unless_another_role_there_is_not():
    t = uuid.uuid4()
    assert event_limit([row(t, "event_operator", event_ids=["a", "b"])], t) == frozenset({"a", "b"})
    assert event_limit([row(t, "event_operator", event_ids=["a"]), row(t, "box_office_cashier")], t) is None
    assert event_limit([row(t, "event_operator")], t) is None
    assert event_limit([], None) is None


def test_totp_codes_match_their_step_within_the_allowed_drift_and_secrets_are_sealed():
    secret = pyotp.random_base32()
    now = time.time()
    totp = pyotp.TOTP(secret)
    step = int(now // 30)
    assert matching_step(secret, totp.at(now), now) == step
    assert matching_step(secret, totp.at(now + 30), now) == step + 1
    assert matching_step(secret, totp.at(now - 90), now) is None
    assert matching_step(secret, "abcdef", now) is None
    box = SecretBox("some-secret")
    assert box.open(box.seal(secret)) == secret and secret not in box.seal(secret)
    assert SecretBox("another-secret").open(box.seal(secret)) is None
    codes = new_recovery_codes()
    assert len(set(codes)) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes)


def test_storefront_origins_are_scheme_host_and_port_only():
    assert check_origin("https://Shop.Example.com/") == "https://shop.example.com"
    assert check_origin("http://localhost:5173") == "http://localhost:5173"
    for bad in ("https://shop.example.com/path", "http://shop.example.com", "ftp://x.example", "shop.example.com"):
        with pytest.raises(ValueError):
            check_origin(bad)


def test_the_event_of_a_catalog_path_is_found_only_by_id():
    event = uuid.uuid4()
    assert event_in_path(f"/api/v1/events/{event}/publish") == str(event)
    assert event_in_path("/api/v1/events/my-slug") is None
    assert event_in_path("/api/v1/events") is None
