"""Locust scenarios for upr-match (BENCHMARKS.md, "Service"). Driven by `benchmarks/load.py`.

User classes (pick one on the command line, e.g. `python -m locust -f benchmarks/locustfile.py ReadUser`):

- `ReadUser`   read mix: recommendation lists with filters, full-text search, facets, provider
               and need lists, single items, health. 1 request/s per user.
- `MatchUser`  GET /v1/needs/{id}/matches, GET /v1/providers/{id}/matches, POST /v1/match; 1 request/s per user.
- `MixedUser`  ~90% the read mix (and a few matches), ~10% writes: POST /v1/needs as a State key,
               GET + PATCH (If-Match) of a provider as admin. 1 task/s per user.
- `SoakUser`   the read mix with ~10% matches; 1 request/s per user.

Arrivals (`BENCH_ARRIVALS`): `poisson` (the default) makes each user an independent visitor,
its requests 1 s apart on average with exponential gaps (capped at 4 s), so 100 users send 100 requests a
second spread over the second, as independent people do. `lockstep` is locust's
`constant_throughput(1)`: every user waits for its answer and then to its next second, so once
one burst has been answered together they stay in step; measured on this service (server log
of the read mix, 100 users), every request of a second arrived within the same 200 ms: a burst
of 100 simultaneous requests each second, the worst case rather than the traffic of 100 users.

Keys come from the environment (load.py creates them): `BENCH_ADMIN_KEY`, and
`BENCH_STATE_KEYS` = "MEX:key,LSO:key,...". Reads are anonymous.

Expected answers that are not failures: 409 on POST /v1/needs (an exact duplicate,
by design) and 412 on PATCH (another user changed the provider between our GET and
PATCH). Both count as successes in locust's stats and are tallied separately in
the JSON file named by `BENCH_EXPECTED_FILE` (written at test stop).
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import urllib.parse
from typing import Any

import requests
from locust import HttpUser, constant_throughput, events, task

DEMO_STATES = ("MEX", "LSO", "KHM", "GEO", "SVN")
OTHER_STATES = ("FRA", "BRA", "IND", "NGA", "DEU", "KEN", "PHL", "USA", "CHN", "ZAF", "ARG", "EGY")
QUERIES = (
    "torture optional protocol",
    "death penalty",
    "female genital mutilation",
    "freedom of expression journalists",
    "birth registration",
    "domestic violence",
    '"national human rights institution"',
    "child labour",
    "trafficking persons",
    "rights of persons with disabilities",
    "independence judiciary",
    "indigenous peoples land",
    "migrant workers convention",
    "prison conditions -death",
    "climate change",
)
MATCH_TEXTS = (
    "Ratify the Optional Protocol to the Convention against Torture and set up a national preventive mechanism",
    "Training for judges and prosecutors on gender-based violence and access to justice for women",
    "Strengthen birth registration in rural areas and for indigenous children",
    "Support to draft a law protecting journalists and human rights defenders",
    "Technical assistance for the national human rights institution to comply with the Paris Principles",
    "Improve prison conditions and reduce pre-trial detention",
)
RESPONSES = ("supported", "noted")

log = logging.getLogger("bench")

# Filled once at test start from the target (ids to read and match).
DATA: dict[str, Any] = {
    "needs": [],
    "providers": [],
    "recommendations": [],
    "themes": [],
    "supported": {},
    "descriptions": {},
}
_lock = threading.Lock()
_counter = [0]


def _get(host: str, path: str, **kw: Any) -> Any:
    r = requests.get(host.rstrip("/") + path, timeout=60, **kw)
    r.raise_for_status()
    return r.json()


@events.test_start.add_listener
def _prefetch(environment: Any, **_: Any) -> None:
    host = environment.host
    admin = os.environ.get("BENCH_ADMIN_KEY")
    auth = {"Authorization": f"Bearer {admin}"} if admin else {}
    DATA["needs"] = [n["id"] for n in _get(host, "/v1/needs?limit=100")["items"]]
    providers = _get(host, "/v1/providers?limit=100", headers=auth)["items"]
    DATA["providers"] = [p["id"] for p in providers]
    DATA["descriptions"] = {p["id"]: p["description"].split(" [bench rev")[0] for p in providers}
    recs = []
    for st in DEMO_STATES + OTHER_STATES[:4]:
        recs += [r["id"] for r in _get(host, f"/v1/recommendations?state={st}&limit=100")["items"]]
    DATA["recommendations"] = recs
    facets = _get(host, "/v1/recommendations/facets")
    themes = facets.get("themes") or facets.get("theme") or []
    DATA["themes"] = [
        t["value"] if isinstance(t, dict) and "value" in t else (t.get("name") if isinstance(t, dict) else t)
        for t in themes
    ][:40]
    DATA["themes"] = [t for t in DATA["themes"] if isinstance(t, str)]
    for st in DEMO_STATES:
        DATA["supported"][st] = [
            r["id"] for r in _get(host, f"/v1/recommendations?state={st}&response=supported&limit=100")["items"]
        ]
    log.info(
        "prefetched %d needs, %d providers, %d recommendations, %d themes",
        len(DATA["needs"]),
        len(DATA["providers"]),
        len(DATA["recommendations"]),
        len(DATA["themes"]),
    )
    if not DATA["needs"] or not DATA["providers"]:
        raise RuntimeError("no demo data on the target: run `upr-match demo load`")


EXPECTED: dict[str, int] = {}


def _expected(what: str) -> None:
    with _lock:
        EXPECTED[what] = EXPECTED.get(what, 0) + 1


@events.test_stop.add_listener
def _write_expected(environment: Any, **_: Any) -> None:
    path = os.environ.get("BENCH_EXPECTED_FILE")
    if path:
        with open(path, "w") as f:
            json.dump(EXPECTED, f)


def _state_keys() -> dict[str, str]:
    out = {}
    for part in filter(None, os.environ.get("BENCH_STATE_KEYS", "").split(",")):
        st, key = part.split(":", 1)
        out[st] = key
    return out


class _Base(HttpUser):
    abstract = True

    # --- the read mix -------------------------------------------------------------------
    def read_list(self) -> None:
        st = random.choice(DEMO_STATES + OTHER_STATES)
        choice = random.random()
        if choice < 0.4:
            path = f"/v1/recommendations?state={st}&limit=20"
        elif choice < 0.6:
            path = f"/v1/recommendations?state={st}&response={random.choice(RESPONSES)}&limit=50"
        elif choice < 0.8 and DATA["themes"]:
            path = f"/v1/recommendations?theme={urllib.parse.quote(random.choice(DATA['themes']))}&limit=20"
        else:
            path = f"/v1/recommendations?cycle={random.randint(1, 4)}&limit=20&offset={random.randint(0, 2000)}"
        self.client.get(path, name="GET /v1/recommendations [filters]")

    def read_search(self) -> None:
        q = urllib.parse.quote(random.choice(QUERIES))
        extra = f"&state={random.choice(OTHER_STATES)}" if random.random() < 0.3 else ""
        self.client.get(f"/v1/recommendations?q={q}{extra}&limit=20", name="GET /v1/recommendations?q=")

    def read_facets(self) -> None:
        if random.random() < 0.5:
            path = f"/v1/recommendations/facets?state={random.choice(DEMO_STATES + OTHER_STATES)}"
        else:
            path = f"/v1/recommendations/facets?q={urllib.parse.quote(random.choice(QUERIES))}"
        self.client.get(path, name="GET /v1/recommendations/facets")

    def read_providers(self) -> None:
        self.client.get(f"/v1/providers?limit=20&offset={random.choice((0, 20, 40, 60))}", name="GET /v1/providers")

    def read_needs(self) -> None:
        self.client.get("/v1/needs?limit=20", name="GET /v1/needs")

    def read_one(self) -> None:
        r = random.random()
        if r < 0.5:
            self.client.get(
                f"/v1/recommendations/{random.choice(DATA['recommendations'])}", name="GET /v1/recommendations/{id}"
            )
        elif r < 0.75:
            self.client.get(f"/v1/providers/{random.choice(DATA['providers'])}", name="GET /v1/providers/{id}")
        else:
            self.client.get(f"/v1/needs/{random.choice(DATA['needs'])}", name="GET /v1/needs/{id}")

    def read_health(self) -> None:
        self.client.get("/health/live", name="GET /health/live")

    def read_mix(self) -> None:
        """One request of the read mix, by weight."""
        fn = random.choices(
            (
                self.read_list,
                self.read_search,
                self.read_facets,
                self.read_providers,
                self.read_needs,
                self.read_one,
                self.read_health,
            ),
            weights=(30, 20, 10, 10, 8, 17, 5),
        )[0]
        fn()

    # --- matches --------------------------------------------------------------------------
    def match_need(self) -> None:
        self.client.get(f"/v1/needs/{random.choice(DATA['needs'])}/matches", name="GET /v1/needs/{id}/matches")

    def match_provider(self) -> None:
        self.client.get(
            f"/v1/providers/{random.choice(DATA['providers'])}/matches", name="GET /v1/providers/{id}/matches"
        )

    def match_text(self) -> None:
        body = {"text": random.choice(MATCH_TEXTS)}
        if random.random() < 0.5:
            body["state"] = random.choice(DEMO_STATES)
        self.client.post("/v1/match", json=body, name="POST /v1/match")

    def match_any(self) -> None:
        random.choice((self.match_need, self.match_provider, self.match_text))()


def one_per_second() -> Any:
    """The users' wait time: 1 request/s each, as `BENCH_ARRIVALS` says (poisson or lockstep)."""
    arrivals = os.environ.get("BENCH_ARRIVALS", "poisson")
    if arrivals == "lockstep":
        return constant_throughput(1)
    if arrivals != "poisson":
        raise ValueError(f"BENCH_ARRIVALS must be poisson or lockstep, not {arrivals!r}")

    def wait_time(user: Any) -> float:
        # The next start is drawn from the previous planned start, not from the end of the answer:
        # a slow answer does not lower the rate offered (an open arrival process, as real users).
        now = time.monotonic()
        planned = getattr(user, "_next_start", None) or now + random.random()
        planned = max(planned, now - 5.0)  # far behind (a stall): no catching up in a burst
        # Gaps capped at 4 s, under the server's 5 s keep-alive: a longer idle lets the server close
        # the connection just as the client reuses it, a reset browsers retry and locust does not.
        next_start: float = planned + min(4.0, random.expovariate(1.0))
        user._next_start = next_start
        return max(0.0, next_start - now)

    return wait_time


class ReadUser(_Base):
    wait_time = one_per_second()

    @task
    def read(self) -> None:
        self.read_mix()


class MatchUser(_Base):
    wait_time = one_per_second()

    @task
    def match(self) -> None:
        self.match_any()


class SoakUser(_Base):
    wait_time = one_per_second()

    @task(9)
    def read(self) -> None:
        self.read_mix()

    @task(1)
    def match(self) -> None:
        self.match_any()


class MixedUser(_Base):
    """~10% of requests write (SQLite single-writer test)."""

    wait_time = one_per_second()

    def on_start(self) -> None:
        self.state_keys = _state_keys()
        self.admin_key = os.environ.get("BENCH_ADMIN_KEY", "")
        if not self.state_keys or not self.admin_key:
            raise RuntimeError("MixedUser needs BENCH_STATE_KEYS and BENCH_ADMIN_KEY")

    @task(86)
    def read(self) -> None:
        self.read_mix()

    @task(3)
    def match(self) -> None:
        self.match_any()

    @task(7)
    def create_need(self) -> None:
        st = random.choice(list(self.state_keys))
        supported = DATA["supported"].get(st) or []
        if not supported:
            return
        with _lock:
            _counter[0] += 1
            n = _counter[0]
        # Titles vary, but repeat now and then (a 1-in-~2000 chance per pair) so that some
        # requests are exact duplicates: 409 by design.
        title = f"Bench need {random.randint(1, 2000)}: support for implementing recommendations"
        body = {
            "title": title,
            "description": f"Filed by the load test (request {n}); technical assistance wanted.",
            "recommendation_ids": [random.choice(supported)],
        }
        with self.client.post(
            "/v1/needs",
            json=body,
            headers={"Authorization": f"Bearer {self.state_keys[st]}"},
            name="POST /v1/needs",
            catch_response=True,
        ) as r:
            if r.status_code == 409:
                r.success()
                _expected("POST /v1/needs 409 duplicate")
            elif r.status_code != 201:
                r.failure(f"{r.status_code}: {r.text[:200]}")

    @task(3)
    def patch_provider(self) -> None:
        pid = random.choice(DATA["providers"])
        auth = {"Authorization": f"Bearer {self.admin_key}"}
        r = self.client.get(f"/v1/providers/{pid}", headers=auth, name="GET /v1/providers/{id} (before PATCH)")
        etag = r.headers.get("ETag")
        if r.status_code != 200 or not etag:
            return
        with _lock:
            _counter[0] += 1
            n = _counter[0]
        body = {"description": f"{DATA['descriptions'][pid]} [bench rev {n}]"}
        with self.client.patch(
            f"/v1/providers/{pid}",
            json=body,
            headers={**auth, "If-Match": etag},
            name="PATCH /v1/providers/{id}",
            catch_response=True,
        ) as p:
            if p.status_code == 412:
                p.success()
                _expected("PATCH /v1/providers/{id} 412 stale")
            elif p.status_code != 200:
                p.failure(f"{p.status_code}: {p.text[:200]}")
