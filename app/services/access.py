"""Who may read and write what: every authorization rule of providers, needs, activities and engagements.

Services ask these functions and raise the Problem; nothing else decides access.

| resource  | read                                                        | create / write / delete                 |
|-----------|-------------------------------------------------------------|-----------------------------------------|
| provider  | everyone (contact e-mail: authenticated callers only)       | admin; a provider key its own profile;  |
|           |                                                             | an *unbound* provider key creates once  |
| need      | public: everyone; providers: provider keys, admins, its     | admin; a State key for its own State    |
|           | State; state_only: its State and admins                     |                                         |
| activity  | everyone once confirmed and not `planned`; otherwise: its   | admin; its provider; its State          |
|           | provider, its State and admins                              | confirm/decline: admin; the party that  |
|           |                                                             | did not record its current content      |
|           |                                                             | once confirmed, a party *proposes*; the |
|           |                                                             | other party (or an admin) accepts       |
| proposals | its provider, its State and admins                          | accept/reject: admin; the other party;  |
| versions  | (403 to others who may read the activity, 404 otherwise)    | withdraw: admin; the proposer           |

An object the caller may not read is reported as missing (404), not forbidden,
so its existence does not leak; an object the caller may read but not change is 403.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import Mapped
from sqlmodel import col

from app.core.identity import Principal
from app.models.activity import Activity
from app.models.need import Need
from app.models.provider import Provider
from matching.ranking import NeedAudience

# --- providers -------------------------------------------------------------------------


def can_see_contact(principal: Principal) -> bool:
    """Contact e-mails are for authenticated callers only."""
    return not principal.is_anonymous


def can_create_provider(principal: Principal) -> bool:
    """Admins, and provider keys not yet bound to a provider (self-registration, once)."""
    return principal.is_admin or (principal.role == "provider" and principal.provider_id is None)


def can_write_provider(principal: Principal, provider: Provider) -> bool:
    """Admins, and the provider's own key."""
    return principal.is_admin or (principal.role == "provider" and principal.provider_id == provider.id)


# --- needs -----------------------------------------------------------------------------


def can_read_need(principal: Principal, need: Need) -> bool:
    """Public needs to all; `providers` to provider keys, admins, its State; `state_only` to its State, admins."""
    if need.visibility == "public" or principal.is_admin:
        return True
    own_state = principal.role == "state" and principal.state == need.state
    if need.visibility == "providers":
        return own_state or principal.role == "provider"
    return own_state


def need_read_clause(principal: Principal) -> ColumnElement[bool]:
    """The SQL condition selecting exactly the needs `can_read_need` allows."""
    if principal.is_admin:
        return true()
    visible = [col(Need.visibility) == "public"]
    if principal.role == "provider":
        visible.append(col(Need.visibility) == "providers")
    if principal.role == "state" and principal.state:
        visible.append(col(Need.state) == principal.state)
    return or_(*visible)


def need_audience(principal: Principal) -> NeedAudience:
    """The needs `can_read_need` allows, for the matching index (which holds each need's visibility and State)."""
    if principal.is_admin:
        return NeedAudience(everything=True)
    visibilities = {"public", "providers"} if principal.role == "provider" else {"public"}
    states = {principal.state} if principal.role == "state" and principal.state else set()
    return NeedAudience(visibilities=frozenset(visibilities), states=frozenset(states))


def can_create_need(principal: Principal, state: str) -> bool:
    """Admins for any State; a State key for its own State only."""
    return principal.is_admin or (principal.role == "state" and principal.state == state)


def can_write_need(principal: Principal, need: Need) -> bool:
    """Admins, and the need's own State."""
    return can_create_need(principal, need.state)


# --- activities ------------------------------------------------------------------------


def is_activity_party(principal: Principal, activity: Activity) -> bool:
    """The activity's provider or its State."""
    if principal.role == "provider":
        return principal.provider_id is not None and principal.provider_id == activity.provider_id
    if principal.role == "state":
        return principal.state == activity.state
    return False


def is_public_activity(activity: Activity) -> bool:
    """Confirmed by both sides (or an admin) and under way or done."""
    return activity.confirmation == "confirmed" and activity.status != "planned"


def can_read_activity(principal: Principal, activity: Activity) -> bool:
    """Public once confirmed and not planned; otherwise only the two parties and admins."""
    return is_public_activity(activity) or principal.is_admin or is_activity_party(principal, activity)


def activity_party_clause(principal: Principal) -> ColumnElement[bool] | None:
    """The SQL condition selecting the activities this caller is a party to (None: it is party to none)."""
    if principal.role == "provider" and principal.provider_id:
        return col(Activity.provider_id) == principal.provider_id
    if principal.role == "state" and principal.state:
        return col(Activity.state) == principal.state
    return None


def activity_read_clause(principal: Principal) -> ColumnElement[bool]:
    """The SQL condition selecting exactly the activities `can_read_activity` allows."""
    if principal.is_admin:
        return true()
    public = and_(col(Activity.confirmation) == "confirmed", col(Activity.status) != "planned")
    party = activity_party_clause(principal)
    return public if party is None else or_(public, party)


def activity_awaiting_clause(
    principal: Principal, *, answer_by: Literal["caller", "other_party"]
) -> ColumnElement[bool]:
    """Unconfirmed activities whose answer (confirm or decline) is up to the caller, or to the other party.

    `caller`: exactly those `can_answer_activity` allows (an admin: every unconfirmed one);
    `other_party`: those the caller recorded and the other side has not answered yet.
    """
    unconfirmed = col(Activity.confirmation) == "unconfirmed"
    if principal.is_admin:
        return unconfirmed if answer_by == "caller" else false()
    party = activity_party_clause(principal)
    if party is None:
        return false()
    recorder = col(Activity.recorded_by_role)
    if answer_by == "caller":
        return and_(unconfirmed, party, or_(recorder.is_(None), recorder != principal.role))
    return and_(unconfirmed, party, recorder == principal.role)


def can_create_activity(principal: Principal, *, provider_id: str, state: str) -> bool:
    """Admins; a provider key for itself; a State key for itself."""
    if principal.is_admin:
        return True
    if principal.role == "provider":
        return principal.provider_id is not None and principal.provider_id == provider_id
    return principal.role == "state" and principal.state == state


def can_write_activity(principal: Principal, activity: Activity) -> bool:
    """Admins and either party may edit (a party's edit is a new claim the other side confirms)."""
    return principal.is_admin or is_activity_party(principal, activity)


def can_delete_activity(principal: Principal, activity: Activity) -> bool:
    """Admins; a party only its own claim the other side has not confirmed (withdrawing it).

    A confirmed activity is the shared record of both parties: one party alone does not erase it,
    it asks the other to agree (`needs_other_party`, a deletion proposal). Rows recorded before
    confirmations existed count as confirmed.
    """
    if principal.is_admin:
        return True
    return (
        is_activity_party(principal, activity)
        and activity.confirmation != "confirmed"
        and activity.recorded_by_role == principal.role
    )


def needs_other_party(principal: Principal, activity: Activity) -> bool:
    """A party changing or deleting a confirmed activity: the shared record changes only if the other agrees.

    Admins change it directly; an unconfirmed or declined claim is changed directly by either party.
    """
    return not principal.is_admin and is_activity_party(principal, activity) and activity.confirmation == "confirmed"


def can_read_activity_history(principal: Principal, activity: Activity) -> bool:
    """Proposals and versions: the two parties and admins only (even of a public activity)."""
    return principal.is_admin or is_activity_party(principal, activity)


def can_answer_proposal(principal: Principal, activity: Activity, proposed_by_role: str) -> bool:
    """Accept or reject: admins, and the party on the other side from the proposer."""
    if principal.is_admin:
        return True
    return is_activity_party(principal, activity) and principal.role != proposed_by_role


def can_withdraw_proposal(principal: Principal, activity: Activity, proposed_by_role: str) -> bool:
    """Withdraw: admins, and the proposing party."""
    if principal.is_admin:
        return True
    return is_activity_party(principal, activity) and principal.role == proposed_by_role


def can_answer_activity(principal: Principal, activity: Activity) -> bool:
    """Confirm or decline: admins, and the party on the other side from whoever recorded the content.

    When an admin recorded it (or it predates confirmations), either party may answer.
    """
    if principal.is_admin:
        return True
    if not is_activity_party(principal, activity):
        return False
    return principal.role != activity.recorded_by_role


# --- engagements -----------------------------------------------------------------------
# An invitation (the State asked) is answered by the provider; an offer by the State.


def engagement_side(principal: Principal, *, state: str, provider_id: str) -> str | None:
    """ "state" or "provider" when the caller is that party to an engagement of (state, provider), else None."""
    if principal.role == "state" and principal.state == state:
        return "state"
    if principal.role == "provider" and principal.provider_id is not None and principal.provider_id == provider_id:
        return "provider"
    return None


def answering_side(direction: str) -> str:
    """Who answers an engagement: the provider answers an invitation, the State an offer."""
    return "provider" if direction == "invitation" else "state"


def engagement_read_clause(
    principal: Principal, state_column: Mapped[str], provider_column: Mapped[str]
) -> ColumnElement[bool]:
    """The SQL condition selecting the engagements the caller is a party to (all, for admins)."""
    if principal.is_admin:
        return true()
    if principal.role == "state" and principal.state:
        return state_column == principal.state
    if principal.role == "provider" and principal.provider_id:
        return provider_column == principal.provider_id
    return false()
