"""Photograph pages (or local HTML files) at 1280 and 375 px, full height, with headless Chromium.

    python scripts/screenshot_pages.py NAME=URL [NAME=URL ...] [--out artifacts/screenshots]

Each page is saved as <out>/<NAME>-<width>.png and checked not to scroll sideways. URLs may be
http(s):// or file:// (e.g. a report written by `upr-match report`). Uses Debian's chromium and
chromedriver (/usr/bin), offline (SE_OFFLINE: Selenium Manager downloads nothing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

WIDTHS = (1280, 375)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="+", help="NAME=URL")
    parser.add_argument("--out", type=Path, default=Path("artifacts/screenshots"))
    args = parser.parse_args()
    os.environ["SE_OFFLINE"] = "true"
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        for spec in args.pages:
            name, url = spec.split("=", 1)
            for width in WIDTHS:
                metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500}
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
                driver.get(url)
                WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
                overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
                height = int(driver.execute_script("return document.documentElement.scrollHeight"))
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": min(height, 12000)})
                path = args.out / f"{name}-{width}.png"
                driver.save_screenshot(str(path))
                note = f" (scrolls sideways by {overflow} px)" if overflow > 1 else ""
                print(f"{path}: {width} x {min(height, 12000)} px{note}")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
