"""The floor the service is measured against: a bare FastAPI endpoint on the same uvicorn.

`benchmarks/http_latency.py` starts it with the service's uvicorn settings (workers, no server
header) and divides every endpoint's time by this one's, measured in the same run.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/bare")
def bare() -> dict[str, str]:
    return {"status": "ok"}
