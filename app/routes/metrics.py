"""Prometheus metrics of every worker (admin keys only; or on their own port with METRICS_PORT)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.core import metrics
from app.http.auth import AdminDep
from app.http.deps import SessionDep
from app.http.errors_doc import problems
from app.match_index.change_log import newest_log_seq

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    operation_id="get_metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Every series in the Prometheus text format, summed over the server's workers.",
            "content": {metrics.CONTENT_TYPE: {"schema": {"type": "string"}, "example": "upr_http_requests_total"}},
        },
        **problems(401, 403),
    },
)
def get_metrics(session: SessionDep, _: AdminDep) -> Response:
    """Requests and latency by route and status, match latency, index size and log lag, pool use, tagger load time."""
    return Response(metrics.exposition(newest_log_seq(session)), media_type=metrics.CONTENT_TYPE)
