"""MkDocs hooks of the project's own site (mkdocs.yml: ``hooks:``).

``<!-- rnnviz:cli -->`` in a page becomes the ``--help`` of ``rnnviz`` and of each of
its subcommands, taken from the parser itself at build time, so the command-line
reference can never disagree with the program. The footer of every page names the
version of rnnviz that built the site (from pyproject.toml, through ``rnnviz.version``).
"""

from __future__ import annotations

import argparse
import os

MARKER = "<!-- rnnviz:cli -->"


def _help(parser: argparse.ArgumentParser) -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "90"  # argparse wraps to the terminal; a page has a fixed width
    try:
        return parser.format_help().rstrip()
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def cli_reference() -> str:
    """Markdown: the main ``--help``, then one section per subcommand."""
    from rnnviz.cli import get_parser

    parser = get_parser()
    parts = ["```text", "$ rnnviz --help", _help(parser), "```", ""]
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for action in subs:
        for name, sub in action.choices.items():
            parts += [f"## rnnviz {name}", "", "```text", f"$ rnnviz {name} --help", _help(sub), "```", ""]
    return "\n".join(parts)


def on_config(config, **kwargs):
    from rnnviz.version import version

    config.copyright = f"Built with rnnviz {version()}"
    return config


def on_page_markdown(markdown: str, **kwargs) -> str:
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, cli_reference())
    return markdown
