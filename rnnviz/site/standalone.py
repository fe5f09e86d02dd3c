"""KaTeX for a stand-alone HTML file: the shipped copy inlined, fonts as data URIs, no other host.

``rnnviz exercise --format html`` writes sheets that open from a USB stick in a lecture
hall: :func:`katex_head` is the ``<head>`` part that typesets their math, the elements
of class ``math`` (``div.math.display`` for displayed equations).

Example:
    >>> head = katex_head()
    >>> "katex" in head and "data:font/woff2;base64," in head and "http" not in head.split("<script>")[0]
    True
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache

from .fence import ASSETS

__all__ = ["katex_head"]

#: The font families a sheet's math uses; the others' @font-face rules are left out.
_FAMILIES = ("KaTeX_Main", "KaTeX_Math", "KaTeX_AMS", "KaTeX_Size1", "KaTeX_Size2", "KaTeX_Size3", "KaTeX_Size4")

_START = """
(function () {
  "use strict";
  function typeset() {
    document.querySelectorAll(".math").forEach(function (el) {
      var display = el.classList.contains("display");
      window.katex.render(el.textContent, el, { displayMode: display, throwOnError: false });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", typeset); }
  else { typeset(); }
})();
"""


def _font_face(rule: re.Match) -> str:
    body = rule.group(0)
    family = re.search(r"font-family:([\w-]+)", body)
    if not family or family.group(1) not in _FAMILIES:
        return ""
    url = re.search(r"url\(([^)]+)\)", body)
    if not url or not (ASSETS / url.group(1)).exists():
        return ""
    data = base64.b64encode((ASSETS / url.group(1)).read_bytes()).decode("ascii")
    return body.replace(url.group(0), f"url(data:font/woff2;base64,{data})")


@lru_cache(maxsize=1)
def katex_head() -> str:
    """``<style>`` (KaTeX's CSS with its fonts inlined) and ``<script>`` (KaTeX and the start script)."""
    css = re.sub(r"@font-face\{[^}]*\}", _font_face, (ASSETS / "katex.min.css").read_text(encoding="utf-8"))
    js = (ASSETS / "katex.min.js").read_text(encoding="utf-8")
    return f"<style>{css}</style>\n<script>{js}</script>\n<script>{_START}</script>"
