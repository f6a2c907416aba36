"""The `/v1` API router: every resource router is included here."""

from fastapi import APIRouter, Depends

from app.http.query_params import reject_unknown_query
from app.routes import (
    activities,
    activity_proposals,
    analytics,
    audit,
    classify,
    coverage,
    drafts,
    engagements,
    inbox,
    keys,
    mappings,
    matches,
    needs,
    providers,
    recommendations,
    related,
    subscriptions,
    webhooks,
)

# Every /v1 operation refuses query parameters it does not declare (422 naming them).
api_router = APIRouter(dependencies=[Depends(reject_unknown_query)])
api_router.include_router(keys.router)
api_router.include_router(audit.router)
# Before `recommendations`: `/recommendations/related` is not a recommendation id.
api_router.include_router(related.router)
api_router.include_router(related.drafting)
api_router.include_router(recommendations.router)
api_router.include_router(coverage.router)
api_router.include_router(analytics.router)
api_router.include_router(providers.router)
api_router.include_router(needs.router)
api_router.include_router(activities.router)
api_router.include_router(activity_proposals.router)
api_router.include_router(engagements.router)
api_router.include_router(inbox.router)
api_router.include_router(subscriptions.router)
api_router.include_router(webhooks.router)
api_router.include_router(matches.router)
api_router.include_router(drafts.router)
api_router.include_router(classify.router)
api_router.include_router(mappings.router)
