"""The `/v1` API router: every resource router is included here."""

from fastapi import APIRouter

api_router = APIRouter()
