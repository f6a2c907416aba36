"""A worker multiplies matrices on its own thread: the workers, not BLAS threads, use the cores.

OpenBLAS sizes its pool to every core; with one worker per core, each worker's pool spins threads
that compete with the other workers (at 10,000 providers a theme product cost 4 ms of CPU instead
of 0.06 ms). uvicorn runs the start-up in a worker's main thread, as this test does, in a fresh
process whose pool is set to two threads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, json
from threadpoolctl import threadpool_info
from app.core.config import Settings
from app.main import create_app

def blas():
    return sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})

app = create_app(Settings(_env_file=None))
before = blas()

async def start():
    async with app.router.lifespan_context(app):
        return blas()

print(json.dumps({"before": before, "started": asyncio.run(start())}))
"""


def test_a_started_worker_uses_one_blas_thread(db_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "ENVIRONMENT": "test",
        "MODEL_DIR": str(tmp_path),
        "SECRET_KEY_FILE": str(tmp_path / "secret"),
        "OPENBLAS_NUM_THREADS": "2",
    }
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"before": [2], "started": [1]}
