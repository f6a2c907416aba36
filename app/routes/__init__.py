"""The `/v1` API router: every resource router is included here."""

from fastapi import APIRouter

from app.routes import keys, recommendations

api_router = APIRouter()
api_router.include_router(keys.router)
api_router.include_router(recommendations.router)
