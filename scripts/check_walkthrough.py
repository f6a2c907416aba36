#!/usr/bin/env python3
"""Run the walkthroughs of the README and the guides as written and compare each command's output with the page.

    scripts/check_walkthrough.py            # exit 1 and show the differences if any
    scripts/check_walkthrough.py --update   # rewrite the pages' output blocks

It builds a fresh SQLite database in a temporary folder (migrate + `demo load`),
serves it on a free port with the worker beside it (and a webhook receiver,
`scripts/webhook_receiver.py`, at `HOOKS`), and runs every ```sh block between a
`<!-- checked by scripts/check_walkthrough.py -->` line and the next
`<!-- end of checked blocks -->` line of README.md, then of the guides (CONTRIBUTING.md and
docs/, in `PAGES` order), in one bash session (so variables carry over), with `UPR` and
`ADMIN_KEY_FILE` pointing at that server. A ```text block right after a ```sh
block is that command's expected output; `…` in it matches any text on its line.
A page that shows an output (a ```text block right after a ```sh block) outside
such a region is an error: every output shown is checked.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The pages that show outputs, in the order they run: the README's tour first, then the guides.
PAGES = ("README.md", "docs/walkthrough.md")
BEGIN = "<!-- checked by scripts/check_walkthrough.py -->"
END = "<!-- end of checked blocks -->"
MARK = "#~~upr-walkthrough-block~~"
BLOCK = re.compile(r"```sh\n(?P<cmd>.*?)```\n(?:\n?```text\n(?P<out>.*?)```\n)?", re.S)


def checked_regions(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every region between a BEGIN line and the next END line."""
    regions = []
    for begin in re.finditer(f"^{re.escape(BEGIN)}$", text, re.M):
        end = re.compile(f"^{re.escape(END)}$", re.M).search(text, begin.end())
        if end is None:
            raise ValueError(f"{BEGIN} without a following {END}")
        regions.append((begin.start(), end.start()))
    return regions


def markdown_pages() -> list[Path]:
    """Every page a reader may meet: the README, CONTRIBUTING.md and everything under docs/."""
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [page for page in pages if page.is_file()]


def unchecked_outputs() -> list[str]:
    """Pages showing a command's output outside a checked region, or with checked regions but not in PAGES."""
    problems = []
    for page in markdown_pages():
        rel = page.relative_to(ROOT).as_posix()
        text = page.read_text(encoding="utf-8")
        regions = checked_regions(text)
        if regions and rel not in PAGES:
            problems.append(f"{rel} has checked blocks but is not in PAGES")
        for shown in BLOCK.finditer(text):
            if shown.group("out") is not None and not any(s <= shown.start() < e for s, e in regions):
                line = text.count("\n", 0, shown.start()) + 1
                problems.append(f"{rel}:{line} shows an output outside the checked blocks")
    return problems


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def line_matches(expected: str, actual: str) -> bool:
    if "…" not in expected:
        return expected == actual
    pattern = ".*?".join(re.escape(part) for part in expected.split("…"))
    return re.fullmatch(pattern, actual) is not None


def outputs_match(expected: str, actual: str) -> bool:
    exp = expected.rstrip("\n").split("\n")
    act = actual.rstrip("\n").split("\n")
    return len(exp) == len(act) and all(line_matches(e.rstrip(), a.rstrip()) for e, a in zip(exp, act, strict=True))


def main(update: bool) -> int:
    problems = unchecked_outputs()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    texts = {page: (ROOT / page).read_text(encoding="utf-8") for page in PAGES}
    blocks = [
        (page, block)
        for page, text in texts.items()
        for start, end in checked_regions(text)
        for block in BLOCK.finditer(text, start, end)
    ]
    empty = [page for page in PAGES if not any(p == page for p, _ in blocks)]
    if empty:
        print(f"no checked ```sh blocks in {', '.join(empty)}", file=sys.stderr)
        return 2
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="upr-walkthrough-") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/walkthrough.db",
            "RATE_LIMIT_PER_MINUTE": "100000",
            "LOG_LEVEL": "WARNING",
        }
        key_file = Path(tmp) / "admin_key"
        # The walkthrough shows what `make run` serves, theme tagger included. It is trained
        # once into var/models (as make run does) and reused by later checks.
        env["MODEL_DIR"] = os.environ.get("UPR_TEST_MODEL_DIR", str(ROOT / "var" / "models"))
        if not (Path(env["MODEL_DIR"]) / "theme-tagger.joblib").is_file():
            print(f"training the theme tagger into {env['MODEL_DIR']} (once)...", file=sys.stderr)
            subprocess.run([python, "-m", "app.cli", "train"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([python, "-m", "app.cli", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run(
            [python, "-m", "app.cli", "demo", "load", "--key-file", str(key_file)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        port = free_port()
        # The loop's part needs the worker (the server starts it, as `make run` does) and a receiver on
        # this machine (a loopback address: allowed by WEBHOOK_ALLOW_PRIVATE, for this check only).
        env.update(WEBHOOK_ALLOW_PRIVATE="true", WORKER_POLL_S="0.2")
        hooks_port = free_port()
        receiver = subprocess.Popen(
            [python, str(ROOT / "scripts" / "webhook_receiver.py"), "--port", str(hooks_port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = subprocess.Popen(
            [python, "-m", "app.cli", "serve", "--port", str(port), "--with-worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            # Importing scikit-learn alone takes 15 s on a loaded machine: wait up to two minutes.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(url + "/health/ready", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            # Run in the temp folder (the walkthrough writes need.json, provider.json, upr_client/)
            # with the checkout's scripts/ reachable as from the checkout.
            (Path(tmp) / "scripts").symlink_to(ROOT / "scripts")
            script = "set -u\n" + "".join(f"echo '{MARK}'\n{m.group('cmd')}\n" for _, m in blocks)
            run_env = {
                **env,
                "UPR": url,
                "ADMIN_KEY_FILE": str(key_file),
                "HOOKS": f"http://127.0.0.1:{hooks_port}",
                "PATH": f"{Path(python).parent}:{env['PATH']}",
            }
            result = subprocess.run(
                ["bash", "-c", script], cwd=tmp, env=run_env, capture_output=True, text=True, timeout=300
            )
        finally:
            server.terminate()
            server.wait(30)
            receiver.terminate()
            receiver.wait(15)
    if result.returncode != 0:
        print(f"the walkthrough failed (exit {result.returncode}):\n{result.stderr}", file=sys.stderr)
        return 1
    outputs = result.stdout.split(MARK + "\n")[1:]
    assert len(outputs) == len(blocks), (len(outputs), len(blocks))
    failures = 0
    new_texts = dict(texts)
    for (page, block), actual in reversed(list(zip(blocks, outputs, strict=True))):
        expected = block.group("out")
        if expected is None:
            if actual.strip():
                failures += 1
                print(f"--- {page}: command printed output the page does not show:\n{block.group('cmd')}{actual}")
            continue
        if not outputs_match(expected, actual):
            failures += 1
            print(f"--- {page}: command:\n{block.group('cmd')}--- the page shows:\n{expected}--- it printed:\n{actual}")
            if update:
                s, e = block.span("out")
                text = new_texts[page]
                new_texts[page] = text[:s] + actual.rstrip("\n") + "\n" + text[e:]
    if update:
        changed = [page for page in PAGES if new_texts[page] != texts[page]]
        for page in changed:
            (ROOT / page).write_text(new_texts[page], encoding="utf-8")
            print(f"{page} updated")
        if changed:
            return 0
    pages = ", ".join(PAGES)
    print(f"{len(blocks)} walkthrough commands run ({pages}), {failures} differ from the README and the guides")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main("--update" in sys.argv[1:]))
