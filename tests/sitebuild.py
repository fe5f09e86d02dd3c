"""Helpers for the site tests: build the project's site once, parse pages, serve it locally."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_site(dest: Path, *, config: Path = ROOT / "mkdocs.yml") -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``config`` into ``dest`` (no network is needed)."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(dest)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=config.parent, env=env)


def html_pages(site: Path) -> list[Path]:
    """Every page of a built site (404 included), sorted."""
    return sorted(p for p in site.rglob("*.html"))


class PageParser(HTMLParser):
    """Ids, <svg> attributes and the URLs of every asset a page loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.svgs: list[dict] = []
        self.assets: list[tuple[str, str]] = []  # (tag, url)
        self.inline_styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "svg":
            self.svgs.append(a)
        if tag == "script" and a.get("src"):
            self.assets.append((tag, a["src"]))
        if tag == "link" and a.get("href") and set((a.get("rel") or "").split()) & {
                "stylesheet", "icon", "preload", "modulepreload", "manifest"}:
            self.assets.append((tag, a["href"]))
        if tag in ("img", "source", "iframe", "audio", "video", "embed") and a.get("src"):
            self.assets.append((tag, a["src"]))
        if tag in ("image", "use") and (a.get("href") or a.get("xlink:href", "")).startswith("http"):
            self.assets.append((tag, a.get("href") or a.get("xlink:href")))
        if tag == "style":
            self._in_style = True

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.inline_styles.append(data)


def parse(path: Path) -> PageParser:
    p = PageParser()
    p.feed(path.read_text(encoding="utf-8"))
    return p


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


class LocalServer:
    """A static file server for a built site on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_Quiet, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "LocalServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@functools.lru_cache(maxsize=None)
def real_site() -> tuple[Path, subprocess.CompletedProcess]:
    """The project's site, built once per test session into a temporary folder."""
    import tempfile

    dest = Path(tempfile.mkdtemp(prefix="rnnviz-site-")) / "site"
    return dest, build_site(dest)
