"""The `/v1` API router: every resource router is included here."""

from fastapi import APIRouter

from app.routes import activities, audit, classify, drafts, keys, matches, needs, providers, recommendations

api_router = APIRouter()
api_router.include_router(keys.router)
api_router.include_router(audit.router)
api_router.include_router(recommendations.router)
api_router.include_router(providers.router)
api_router.include_router(needs.router)
api_router.include_router(activities.router)
api_router.include_router(matches.router)
api_router.include_router(drafts.router)
api_router.include_router(classify.router)
