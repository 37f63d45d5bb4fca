import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrollment.invitations import (
    PERMISSIONS,
    Invitation,
    InvitationError,
    InvitationErrorReason,
    Permission,
    Role,
    can_invite,
    can_remove,
    has_permission,
    hash_invitation_token,
    new_invitation,
    new_invitation_token,
    redeem,
    revoke,
)

R = InvitationErrorReason
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _invite(role=Role.GUEST, **kwargs):
    return new_invitation(
        station_serial="CL-0001",
        role=role,
        email="guest@example.com",
        invited_by="user-1",
        now=NOW,
        **kwargs,
    )


def _reason(call):
    with pytest.raises(InvitationError) as caught:
        call()
    return caught.value.reason


def test_the_owner_may_do_everything_and_only_the_owner_may_unpair():
    assert PERMISSIONS[Role.OWNER] == frozenset(Permission)
    assert [role for role in Role if has_permission(role, Permission.UNPAIR)] == [Role.OWNER]


def test_guests_charge_and_see_only_their_own_sessions():
    assert PERMISSIONS[Role.GUEST] == {
        Permission.START_CHARGING,
        Permission.STOP_OWN_CHARGING,
        Permission.SEE_OWN_SESSIONS,
        Permission.GET_USER_CERTIFICATE,
    }


def test_co_owners_manage_the_station_but_cannot_give_it_up():
    assert PERMISSIONS[Role.CO_OWNER] == frozenset(Permission) - {Permission.UNPAIR}


def test_each_role_holds_the_permissions_of_the_roles_below_it():
    assert PERMISSIONS[Role.GUEST] < PERMISSIONS[Role.CO_OWNER] < PERMISSIONS[Role.OWNER]


@pytest.mark.parametrize(
    ("actor", "invitee", "allowed"),
    [
        (Role.OWNER, Role.OWNER, False),
        (Role.OWNER, Role.CO_OWNER, True),
        (Role.OWNER, Role.GUEST, True),
        (Role.CO_OWNER, Role.OWNER, False),
        (Role.CO_OWNER, Role.CO_OWNER, False),
        (Role.CO_OWNER, Role.GUEST, True),
        (Role.GUEST, Role.OWNER, False),
        (Role.GUEST, Role.CO_OWNER, False),
        (Role.GUEST, Role.GUEST, False),
    ],
)
def test_who_may_invite_whom(actor, invitee, allowed):
    assert can_invite(actor, invitee) is allowed
    assert can_remove(actor, invitee, is_self=False) is allowed


@pytest.mark.parametrize(
    ("role", "allowed"), [(Role.OWNER, False), (Role.CO_OWNER, True), (Role.GUEST, True)]
)
def test_every_member_but_the_owner_may_leave(role, allowed):
    assert can_remove(role, role, is_self=True) is allowed


def test_tokens_are_url_safe_and_carry_at_least_128_bits():
    token = new_invitation_token()
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    assert len({new_invitation_token() for _ in range(100)}) == 100


def test_only_the_sha256_of_the_token_is_stored():
    token, invitation = _invite()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(invitation)
    assert invitation.expires_at == NOW + timedelta(days=7)
    assert hash_invitation_token(f" {token}\n") == invitation.token_hash


@pytest.mark.parametrize("text", ["", "   ", "a" * 129, "abc/def", "tökén", "a b"])
def test_text_that_cannot_be_a_token_is_unknown_without_lookup(text):
    assert _reason(lambda: hash_invitation_token(text)) is R.UNKNOWN


@given(st.text(max_size=200))
def test_arbitrary_text_hashes_or_is_unknown(text):
    try:
        assert len(hash_invitation_token(text)) == 64
    except InvitationError as error:
        assert error.reason is R.UNKNOWN


def test_a_valid_invitation_is_redeemed_once():
    _, invitation = _invite()
    used = redeem(invitation, user="user-2", now=NOW + timedelta(days=1))
    assert (used.used_at, used.used_by) == (NOW + timedelta(days=1), "user-2")
    assert _reason(lambda: redeem(used, user="user-3", now=NOW + timedelta(days=2))) is R.USED


def test_an_unknown_token_is_refused():
    assert _reason(lambda: redeem(None, user="user-2", now=NOW)) is R.UNKNOWN


def test_an_invitation_expires_at_its_expiry_instant():
    _, invitation = _invite(ttl=timedelta(hours=1))
    just_before = NOW + timedelta(hours=1) - timedelta(microseconds=1)
    assert redeem(invitation, user="u", now=just_before).used_at == just_before
    assert _reason(lambda: redeem(invitation, user="u", now=NOW + timedelta(hours=1))) is R.EXPIRED


def test_a_revoked_invitation_is_refused_even_before_expiry():
    _, invitation = _invite()
    revoked = revoke(invitation, now=NOW)
    assert _reason(lambda: redeem(revoked, user="u", now=NOW)) is R.REVOKED
    assert _reason(lambda: revoke(revoked, now=NOW)) is R.REVOKED


def test_a_used_invitation_cannot_be_revoked():
    _, invitation = _invite()
    used = redeem(invitation, user="u", now=NOW)
    assert _reason(lambda: revoke(used, now=NOW)) is R.USED


def test_revocation_wins_over_use_and_expiry_in_the_reported_reason():
    invitation = Invitation(
        token_hash="0" * 64,
        station_serial="CL-0001",
        role=Role.GUEST,
        email="g@example.com",
        invited_by="u",
        created_at=NOW,
        expires_at=NOW,
        used_at=NOW,
        revoked_at=NOW,
    )
    assert _reason(lambda: redeem(invitation, user="u", now=NOW + timedelta(days=9))) is R.REVOKED


def test_the_error_message_names_the_reason():
    assert str(InvitationError(R.EXPIRED)) == "invitation expired"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": Role.OWNER}, "ownership is not passed by invitation"),
        ({"ttl": timedelta(0)}, "ttl must be positive"),
    ],
)
def test_invalid_invitations_are_not_created(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        _invite(**kwargs)


def test_an_invitation_needs_an_aware_time():
    with pytest.raises(ValueError, match="^now must carry a time zone$"):
        new_invitation(
            station_serial="CL-0001",
            role=Role.GUEST,
            email="g@example.com",
            invited_by="u",
            now=datetime(2025, 3, 1),
        )
