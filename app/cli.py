"""The `upr-match` command line: it only assembles the commands of `app/commands/`."""

from __future__ import annotations

import typer

from app.commands import (
    analytics,
    backup,
    demo,
    evaluate,
    keys,
    purge,
    recommendations,
    server,
    sync,
    themes,
    webhooks,
    worker,
)
from app.commands.server import alembic_config, ready_banner

__all__ = ["alembic_config", "cli", "main", "ready_banner"]

cli = typer.Typer(
    help="upr-match: UPR technical-cooperation repository and matchmaking engine.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
cli.command()(server.serve)
cli.command()(server.migrate)
cli.command()(server.openapi)
cli.command("import-recommendations")(recommendations.import_recommendations)
cli.command("import-translations")(recommendations.import_translations)
cli.command("link-recommendations")(recommendations.link_recommendations)
cli.command()(sync.sync)
cli.command("import-funding")(analytics.import_funding)
cli.command()(analytics.report)
cli.command()(themes.train)
cli.command("predict-themes")(themes.predict_themes)
cli.command()(evaluate.evaluate)
cli.command()(purge.purge)
cli.command()(worker.worker)
cli.command()(backup.backup)
cli.command()(backup.restore)
cli.add_typer(demo.app, name="demo")
cli.add_typer(keys.app, name="keys")
cli.add_typer(analytics.app, name="analytics")
cli.add_typer(webhooks.app, name="webhooks")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
