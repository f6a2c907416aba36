"""How right the themes predicted for a provider profile are (`themes_predicted`, shown for confirmation).

Each demo profile (`app/demo/providers.json`) is read as if registered with its name and
description only, by the service's theme space with the trained tagger (`upr-match train`, cached
in `benchmarks/out/models`, or `--model-dir`), and its predicted themes are compared with the
themes it declares. A profile is never its own example (`matching.examples`), so each is read
with the other demo profiles as examples, as a new provider is read with all of them. Printed for
the service's reading and for the same reading without example profiles.

The tagger was trained on every State's recommendations, not on any profile: the profiles are
unseen text, but the demo profiles are also the examples, written by the same hands, so an
organisation writing differently will find fewer of its themes.

    python benchmarks/profile_themes.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.match_index.ranker import EXAMPLE_PROFILES, MAIN_SCHEME, ranking_space  # noqa: E402
from app.services import themes as theme_service  # noqa: E402
from benchmarks.service_setup import trained_tagger  # noqa: E402
from matching.schemes import MultiSchemeTagger  # noqa: E402
from matching.texts import provider_text  # noqa: E402
from matching.theme_space import ThemeSpace, service_space  # noqa: E402


def scores(space: ThemeSpace, profiles: list[dict]) -> tuple[int, int, int]:
    """Predicted themes that are declared, predicted themes, declared themes (over all profiles)."""
    right = predicted = declared = 0
    for p in profiles:
        found = theme_service.profile_themes(space, provider_text(p["name"], None, p["description"], []))
        right += len(set(found) & set(p["themes"]))
        predicted += len(found)
        declared += len(p["themes"])
    return right, predicted, declared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    artifact = trained_tagger(args.model_dir) / theme_service.ARTIFACT
    model = MultiSchemeTagger.load(artifact)[MAIN_SCHEME]
    profiles = json.loads(EXAMPLE_PROFILES.read_text(encoding="utf-8"))
    print(f"{len(profiles)} demo profiles; predicted: weight >= {theme_service.PROFILE_THEME_MIN} of the strongest")
    for name, space in (
        ("the service's reading", ranking_space(model)),
        ("without example profiles", service_space(model)),
    ):
        right, predicted, declared = scores(space, profiles)
        print(
            f"{name}: precision {right / predicted:.3f} ({right}/{predicted}), "
            f"recall {right / declared:.3f} ({right}/{declared})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
