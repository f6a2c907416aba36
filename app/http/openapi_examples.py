"""Examples for every schema of the OpenAPI document, from one consistent story.

Mexico's mission files a need on torture investigations; the Association for the
Prevention of Torture is among the ranked partners. `tests/security/test_surface.py`
checks that every component has examples and that each example is valid against
its own schema, so these cannot drift from the models.
"""

from __future__ import annotations

import copy

from app.core.jsontypes import JsonObject
from app.models.related import SCORE_SCALE

NEED_ID = "7b14ab16-b407-4bd6-9dc9-fef08494e072"
PROVIDER_ID = "0f5c1e2a-8d0e-4a53-9a77-5f1c2b9d6e11"
ACTIVITY_ID = "c3a9e0d4-51b7-4f2e-8a0c-2d6f4b8e9a10"
KEY_ID = "22fdea3a-7e23-4acc-ab06-b63c9431e8ca"
REC_IDS = ["uprinfo-c2-s17-MEX-05749e9c4c", "uprinfo-c2-s17-MEX-24e08436ec"]
WHEN = "2026-11-26T22:00:00Z"
TORTURE = "Torture and other CID treatment"

PROVIDER_FIELDS: JsonObject = {
    "name": "Association for the Prevention of Torture",
    "acronym": "APT",
    "kind": "ngo",
    "description": "Advises governments and national preventive mechanisms on monitoring places of detention "
    "and on safeguards in the first hours of police custody.",
    "themes": [TORTURE, "Detention"],
    "sdgs": [16],
    "countries": [],
    "regions": ["global"],
    "languages": ["en", "fr", "es"],
    "modalities": ["training", "legal_review", "expert_deployment"],
    "website": "https://www.apt.ch",
}
PROVIDER_PUBLIC = {
    "id": PROVIDER_ID,
    "slug": "apt",
    **PROVIDER_FIELDS,
    "is_demo": True,
    "version": 3,
    "created_at": WHEN,
    "updated_at": WHEN,
}
PROVIDER_PRIVATE = {**PROVIDER_PUBLIC, "contact_email": "cooperation@apt.example.org"}

NEED_FIELDS: JsonObject = {
    "title": "Investigating torture complaints independently",
    "description": "Training and legal advice for an independent complaints and investigation mechanism.",
    "recommendation_ids": REC_IDS,
    "themes": [TORTURE, "Human rights violations by state agents"],
    "languages": ["es"],
    "modalities": ["training", "legal_review"],
    "priority": "high",
    "status": "open",
    "visibility": "public",
}
NEED_PUBLIC = {
    "id": NEED_ID,
    "state": "MEX",
    **NEED_FIELDS,
    "is_demo": False,
    "version": 1,
    "created_at": WHEN,
    "updated_at": WHEN,
}
ACTIVITY_FIELDS: JsonObject = {
    "title": "Workshop on investigating torture allegations for federal prosecutors",
    "description": "Three-day workshop on the Istanbul Protocol for prosecutors and forensic doctors.",
    "modality": "training",
    "status": "completed",
    "start_date": "2026-03-02",
    "end_date": "2026-03-04",
    "funding_source": "UPR Voluntary Fund for Financial and Technical Assistance",
    "outcomes": "42 prosecutors trained; a protocol for independent investigations drafted.",
    "challenges": "Forensic doctors from three states could not attend; their sessions were recorded.",
    "lessons": "Pairing each prosecutor with a forensic doctor worked; we would do the case exercises again.",
    "documents": ["https://example.org/reports/istanbul-protocol-workshop.pdf"],
    "need_id": NEED_ID,
    "recommendation_ids": REC_IDS[:1],
}
ACTIVITY_PUBLIC = {
    "id": ACTIVITY_ID,
    "provider_id": PROVIDER_ID,
    "state": "MEX",
    **ACTIVITY_FIELDS,
    "is_demo": False,
    "confirmation": "confirmed",
    "recorded_by": "provider",
    "confirmed_by": "state",
    "confirmed_at": WHEN,
    "decline_reason": None,
    "version": 2,
    "created_at": WHEN,
    "updated_at": WHEN,
}
PROPOSAL_ID = "b8e4d2a6-1f3c-4e97-8d05-6a2c9f7e3b41"
PROPOSED_OUTCOMES = "45 prosecutors trained; the investigation protocol adopted in May 2026."
ACTIVITY_PROPOSAL = {
    "id": PROPOSAL_ID,
    "activity_id": ACTIVITY_ID,
    "kind": "change",
    "changes": {"outcomes": PROPOSED_OUTCOMES},
    "status": "pending",
    "base_version": 2,
    "proposed_by": "state",
    "answered_by": None,
    "answered_at": None,
    "answer_message": None,
    "version": 1,
    "created_at": WHEN,
    "updated_at": WHEN,
}
ACTIVITY_VERSION = {
    "number": 2,
    "origin": "proposal",
    "content": {**ACTIVITY_FIELDS, "outcomes": PROPOSED_OUTCOMES},
    "changed": ["outcomes"],
    "recorded_by": "state",
    "recorded_at": WHEN,
    "accepted_by": "provider",
    "accepted_at": WHEN,
    "proposal_id": PROPOSAL_ID,
}
AUDIT_EVENT = {
    "id": 1042,
    "at": WHEN,
    "actor_key_id": KEY_ID,
    "actor_role": "state",
    "actor_name": "Permanent Mission of Mexico",
    "resource": "activity",
    "resource_id": ACTIVITY_ID,
    "action": "confirm",
    "version_before": 1,
    "version_after": 2,
    "detail": {},
}
KEY_PUBLIC = {
    "id": KEY_ID,
    "name": "Permanent Mission of Mexico",
    "role": "state",
    "state": "MEX",
    "provider_id": None,
    "prefix": "6a68d1d1",
    "created_at": WHEN,
    "revoked_at": None,
}
RECOMMENDATION = {
    "id": REC_IDS[1],
    "source": "upr_info_via_terman",
    "cycle": 2,
    "session": 17,
    "state_under_review": "MEX",
    "state_under_review_name": "Mexico",
    "recommending_states": ["CHE"],
    "recommending_state_names": ["Switzerland"],
    "text": "Ensure that investigations of alleged torture are not carried out by the same authority accused of "
    "committing acts of torture",
    "response": "supported",
    "response_raw": "accepted",
    "themes": [TORTURE],
    "theme_scheme": "upr_info_issues",
    "themes_predicted": False,
    "sdgs": [],
    "affected_groups": [],
    "action_category": 4,
    "source_document": None,
    "paragraph": None,
    "provisional": False,
    "sdg_targets": [],
    "publication_date": None,
    "canonical_id": None,
    "link_method": None,
    "linked_ids": [],
    "linked_sources": [],
}
TERM = {"term": "torture", "weight": 0.1812}
SIGNAL = {"value": 0.6, "weight": 0.08, "detail": "works in the region (Latin America and the Caribbean)"}
EXPLANATION = {
    "terms": [TERM, {"term": "investigation", "weight": 0.0521}],
    "themes": [TORTURE],
    "signals": {
        "text": {"value": 0.31, "weight": 0.45, "detail": "shared words"},
        "theme": {"value": 0.71, "weight": 0.55, "detail": f"shared themes: {TORTURE}"},
        "presence": {"value": 0.3, "weight": 0.08, "detail": "works worldwide"},
        "language": {"value": 1.0, "weight": 0.05, "detail": "works in Spanish"},
    },
    "summary": f"shares: {TORTURE}, torture, investigation; works worldwide; works in Spanish",
}
ENGINE = {"version": "302.4", "documents": 82, "log_position": 302}
PROVIDER_MATCH = {"provider": PROVIDER_PUBLIC, "score": 0.377, "explanation": EXPLANATION}
NEED_MATCH = {"need": NEED_PUBLIC, "score": 0.309, "explanation": EXPLANATION}
DRAFT_ASK = {"ids": REC_IDS, "text": RECOMMENDATION["text"]}


ENGAGEMENT_ID = "5d0f6c1e-3b7a-4c55-9f3e-0b8a7e2d4c61"
WEBHOOK_ID = "9a1e7c2b-6f4d-4e8a-b3c5-7d2f1e0a9b84"
SUBSCRIPTION_ID = "e4b2c7a1-0d9f-4a36-8c51-2f7e6b3d9a05"
DELIVERY_ID = "1c6a9e3f-5b2d-4f87-a0e4-8d3b7c2f6e19"
ENGAGEMENT = {
    "id": ENGAGEMENT_ID,
    "need_id": NEED_ID,
    "provider_id": PROVIDER_ID,
    "state": "MEX",
    "direction": "invitation",
    "status": "accepted",
    "message": "Could you train our federal prosecutors on the Istanbul Protocol next spring?",
    "answer_message": "Gladly: we propose a three-day workshop in March.",
    "decline_reason": None,
    "activity_id": ACTIVITY_ID,
    "initiated_by": "state",
    "answered_by": "provider",
    "answered_at": WHEN,
    "version": 2,
    "created_at": WHEN,
    "updated_at": WHEN,
}
INBOX_ITEM = {
    "id": 311,
    "type": "engagement.proposed",
    "title": "Mexico asks Association for the Prevention of Torture for help with "
    "“Investigating torture complaints independently”",
    "resource": "engagement",
    "resource_id": ENGAGEMENT_ID,
    "need_id": NEED_ID,
    "action_required": True,
    "read": False,
    "read_at": None,
    "created_at": WHEN,
    "data": {"engagement": {**ENGAGEMENT, "status": "proposed", "answer_message": None, "activity_id": None}},
}
INBOX_WAITING = {"engagements": 1, "activities": 0}
SUBSCRIPTION = {
    "id": SUBSCRIPTION_ID,
    "provider_id": PROVIDER_ID,
    "themes": [TORTURE],
    "states": [],
    "regions": ["latin_america_caribbean"],
    "min_score": 0.3,
    "version": 1,
    "created_at": WHEN,
    "updated_at": WHEN,
}
WEBHOOK = {
    "id": WEBHOOK_ID,
    "state": None,
    "provider_id": PROVIDER_ID,
    "url": "https://hooks.apt.example.org/upr-match",
    "events": ["need.matched", "engagement.*"],
    "description": "Our case management system",
    "status": "active",
    "disabled_at": None,
    "disabled_reason": None,
    "failing_since": None,
    "version": 1,
    "created_at": WHEN,
    "updated_at": WHEN,
}
ATTEMPT = {
    "attempted_at": WHEN,
    "duration_ms": 84,
    "address": "203.0.113.10",
    "status_code": 204,
    "error": None,
    "response_body": "",
}
DELIVERY = {
    "id": DELIVERY_ID,
    "webhook_id": WEBHOOK_ID,
    "msg_id": "msg_3f1c0a9e5b7d2c4e8a6f1b3d5c7e9a0b",
    "event_type": "engagement.proposed",
    "status": "succeeded",
    "attempt_count": 1,
    "next_attempt_at": None,
    "last_status_code": 204,
    "last_error": None,
    "created_at": WHEN,
    "delivered_at": WHEN,
    "payload": {"type": "engagement.proposed", "timestamp": WHEN, "data": INBOX_ITEM["data"]},
    "attempts": [ATTEMPT],
}

RELATED_TEXT = "Train prosecutors to investigate complaints of torture in police custody."
RELATED = {
    "recommendation": RECOMMENDATION,
    "score": 0.412,
    "reasons": [f"shared themes: {TORTURE}", "shared terms: torture, investigate"],
    "shared_themes": [TORTURE],
    "shared_terms": ["torture", "investigate"],
    "affected_persons": [],
    "explanation": EXPLANATION,
}
MAPPING_ID = "6e2d8b4f-1a7c-4e93-b0d5-3f9a2c7e1b68"
MAPPING_FILTERS = {"state": "MEX", "cycle": None, "session": None, "response": ["supported"], "theme": None}
MAPPING_LINK = {
    "recommendation_id": RECOMMENDATION["id"],
    "state_under_review": "MEX",
    "text": RECOMMENDATION["text"],
    "response": "supported",
    "rank": 1,
    "score": 0.412,
    "reasons": [f"shared themes: {TORTURE}", "shared terms: torture, investigate"],
    "decision": "accepted",
}
MAPPING_ITEM = {"number": 1, "label": "1", "text": RELATED_TEXT, "links": [MAPPING_LINK]}
MAPPING_SUMMARY = {
    "id": MAPPING_ID,
    "title": "Civil society submission on torture",
    "filename": "submission.docx",
    "kind": "docx",
    "public": False,
    "filters": MAPPING_FILTERS,
    "item_count": 1,
    "version": 2,
    "created_at": WHEN,
    "updated_at": WHEN,
    "mine": True,
}


def _page(item: JsonObject) -> JsonObject:
    return {"items": [item], "total": 1, "limit": 20, "offset": 0}


EXAMPLES: dict[str, JsonObject] = {
    "ProviderCreate": {**PROVIDER_FIELDS, "contact_email": "cooperation@apt.example.org"},
    "ProviderUpdate": {"languages": ["en", "fr", "es", "pt"]},
    "ProviderPublic": PROVIDER_PUBLIC,
    "ProviderPrivate": PROVIDER_PRIVATE,
    "NeedCreate": {**NEED_FIELDS, "state": "MEX"},
    "NeedUpdate": {"status": "matched"},
    "NeedPublic": NEED_PUBLIC,
    "ActivityCreate": {**ACTIVITY_FIELDS, "provider_id": PROVIDER_ID, "state": "MEX"},
    "ActivityUpdate": {"status": "completed", "outcomes": ACTIVITY_FIELDS["outcomes"]},
    "ActivityPublic": ACTIVITY_PUBLIC,
    "ActivityDecline": {"reason": "The workshop was postponed; no prosecutors from Mexico attended."},
    "ActivityProposalPublic": ACTIVITY_PROPOSAL,
    "ActivityVersionPublic": ACTIVITY_VERSION,
    "ProposalAnswer": {"message": "Agreed: the protocol was adopted in May."},
    "AuditEventPublic": AUDIT_EVENT,
    "ApiKeyCreate": {"name": "Permanent Mission of Mexico", "role": "state", "state": "MEX"},
    "ApiKeyPublic": KEY_PUBLIC,
    "ApiKeyCreated": {**KEY_PUBLIC, "key": "upr_6a68d1d1_Hdzl90x9GJB4JDC8djP6TJi7s8KDfXuB"},
    "RecommendationPublic": RECOMMENDATION,
    "TermOut": TERM,
    "SignalOut": SIGNAL,
    "Explanation": EXPLANATION,
    "EngineInfo": ENGINE,
    "ProviderMatch": PROVIDER_MATCH,
    "NeedMatch": NEED_MATCH,
    "NeedMatches": {"items": [NEED_MATCH], "engine": ENGINE},
    "ProviderMatches": {"items": [PROVIDER_MATCH], "engine": ENGINE},
    "DraftAsk": DRAFT_ASK,
    "DraftNeed": {
        "theme": TORTURE,
        "title": f"{TORTURE}: support to implement 2 supported recommendations",
        "recommendation_ids": REC_IDS,
        "asks": [DRAFT_ASK],
        "suggested_providers": [PROVIDER_MATCH],
    },
    "FacetCount": {"value": "MEX", "count": 18},
    "ThemeFacetCount": {
        "value": "D25",
        "label": "Prohibition of torture & cruel, inhuman or degrading treatment",
        "count": 18,
    },
    "ThemeScore": {"theme": TORTURE, "probability": 0.93, "predicted": True},
    "FieldError": {
        "loc": ["body", "recommendation_ids", 1],
        "pointer": "/body/recommendation_ids/1",
        "field": "recommendation_ids",
        "detail": (
            "recommendation uprinfo-c1-s4-MEX-0a1b2c3d4e was noted by MEX; "
            "needs may cite supported recommendations only"
        ),
        "type": "value_error",
    },
    "Liveness": {"status": "ok", "version": "0.1.0"},
    "Readiness": {
        "status": "ok",
        "version": "0.1.0",
        "checks": {
            "database": {"ok": True, "backend": "postgresql"},
            "matcher": {"ok": True, "providers": 81, "needs": 10, "log_position": 302},
        },
    },
    "EngagementCreate": {"provider_id": PROVIDER_ID, "message": ENGAGEMENT["message"]},
    "EngagementAccept": {"message": ENGAGEMENT["answer_message"]},
    "EngagementDecline": {"reason": "no_capacity", "message": "Our trainers are fully booked until next year."},
    "EngagementPublic": ENGAGEMENT,
    "InboxItemPublic": INBOX_ITEM,
    "InboxWaiting": INBOX_WAITING,
    "InboxPage": {
        **_page(INBOX_ITEM),
        "unread": 1,
        "unread_by_type": {"engagement.proposed": 1},
        "waiting": INBOX_WAITING,
    },
    "InboxRead": {"ids": [311]},
    "InboxReadResult": {"marked": 1, "unread": 0},
    "SubscriptionCreate": {"themes": [TORTURE], "regions": ["latin_america_caribbean"], "min_score": 0.3},
    "SubscriptionUpdate": {"min_score": 0.35},
    "SubscriptionPublic": SUBSCRIPTION,
    "WebhookCreate": {"url": WEBHOOK["url"], "events": WEBHOOK["events"], "description": WEBHOOK["description"]},
    "WebhookUpdate": {"events": ["need.matched", "engagement.*", "activity.*"]},
    "WebhookPublic": WEBHOOK,
    "WebhookCreated": {**WEBHOOK, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    "AttemptPublic": ATTEMPT,
    "DeliveryPublic": DELIVERY,
    "Page_ActivityPublic_": _page(ACTIVITY_PUBLIC),
    "Page_ActivityProposalPublic_": _page(ACTIVITY_PROPOSAL),
    "Page_ActivityVersionPublic_": _page(ACTIVITY_VERSION),
    "Page_DeliveryPublic_": _page(DELIVERY),
    "Page_EngagementPublic_": _page(ENGAGEMENT),
    "Page_SubscriptionPublic_": _page(SUBSCRIPTION),
    "Page_WebhookPublic_": _page(WEBHOOK),
    "Page_ApiKeyPublic_": _page(KEY_PUBLIC),
    "Page_AuditEventPublic_": _page(AUDIT_EVENT),
    "Page_NeedPublic_": _page(NEED_PUBLIC),
    "Page_RecommendationPublic_": _page(RECOMMENDATION),
    "RelatedRecommendation": RELATED,
    "RelatedRecommendations": {
        "items": [RELATED],
        "total": 1,
        "limit": 10,
        "offset": 0,
        "scale": SCORE_SCALE,
        "language": "en",
        "engine": ENGINE,
    },
    "NeedDraftFromText": {
        "state": "MEX",
        "description": RELATED_TEXT,
        "recommendations": [RELATED],
        "total": 1,
        "scale": SCORE_SCALE,
        "language": "en",
    },
    "MappingFilters": MAPPING_FILTERS,
    "LinkOut": MAPPING_LINK,
    "ItemOut": MAPPING_ITEM,
    "MappingSummary": MAPPING_SUMMARY,
    "MappingOut": {**MAPPING_SUMMARY, "items": [MAPPING_ITEM]},
    "Page_MappingSummary_": _page(MAPPING_SUMMARY),
    "Page_Union_ProviderPublic__ProviderPrivate__": _page(PROVIDER_PUBLIC),
}


def add_examples(schema: JsonObject) -> None:
    """Give every component schema without examples the one from `EXAMPLES` (copied)."""
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        if "examples" not in component and name in EXAMPLES:
            component["examples"] = [copy.deepcopy(EXAMPLES[name])]
