"""Make an SVG document fit to sit inside an HTML page, several to a page.

Graphviz and matplotlib write stand-alone SVG files: an XML prolog, a doctype,
fixed ``width``/``height`` in points, and ids such as ``node1`` or ``clip0``
that repeat from one file to the next. Inlined as is, two diagrams on one page
share ids, so ``url(#clip0)`` and ``href="#a"`` of the second point into the
first. :func:`inline_svg` fixes all of that and tags the ``<svg>`` with CSS
classes so a stylesheet can adapt its colors to light and dark pages.

Example:
    >>> doc = ('<?xml version="1.0"?>\\n<svg width="80pt" height="40pt" viewBox="0 0 80 40">'
    ...        '<g id="a"><use href="#a"/><rect style="clip-path:url(#a)"/></g></svg>')
    >>> print(inline_svg(doc, "d1", classes=("rnnviz-svg",)))
    <svg viewBox="0 0 80 40" style="width:80pt;max-width:100%" class="rnnviz-svg"><g id="d1-a"><use href="#d1-a"/><rect style="clip-path:url(#d1-a)"/></g></svg>
"""

from __future__ import annotations

import re

__all__ = ["first_svg", "inline_svg", "prefix_ids", "standalone_svg", "svg_ids", "svg_smallest_text", "svg_text_px",
           "svg_width_pt"]

_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.S)
_SVG_OPEN = re.compile(r"<svg\b[^>]*>", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
_SIZE = re.compile(r'\s(?:width|height)="[^"]*"')
_CLASS = re.compile(r'\sclass="([^"]*)"')


def svg_ids(svg: str) -> list[str]:
    """Every ``id`` attribute in ``svg``, in document order (duplicates kept).

    Example:
        >>> svg_ids('<svg><g id="a"/><g id="b"/></svg>')
        ['a', 'b']
    """
    return _ID.findall(svg)


def _rewrite_refs(svg: str, mapping: dict[str, str]) -> str:
    """Point ``#id`` references (href, url(), aria attributes) at the renamed ids."""
    if not mapping:
        return svg

    def ref(m: re.Match) -> str:
        old = m.group(2)
        return f"{m.group(1)}{mapping.get(old, old)}"

    # href="#x", xlink:href="#x" and url(#x) (in attributes and style).
    svg = re.sub(r'((?:xlink:)?href="#)([^"]+)', ref, svg)
    svg = re.sub(r"(url\(#)([^)\s]+)", ref, svg)

    def aria(m: re.Match) -> str:
        names = " ".join(mapping.get(n, n) for n in m.group(2).split())
        return f'{m.group(1)}{names}"'

    return re.sub(r'((?:aria-labelledby|aria-describedby)=")([^"]*)"', aria, svg)


def prefix_ids(svg: str, prefix: str) -> str:
    """Drop the prolog, doctype and comments; rename every id to ``prefix-id``, references too.

    Example:
        >>> prefix_ids('<?xml version="1.0"?><svg><g id="a"><use xlink:href="#a"/></g></svg>', "p")
        '<svg><g id="p-a"><use xlink:href="#p-a"/></g></svg>'
    """
    svg = _PROLOG.sub("", svg).strip()
    mapping = {old: f"{prefix}-{old}" for old in dict.fromkeys(svg_ids(svg))}
    svg = _ID.sub(lambda m: f'id="{mapping[m.group(1)]}"', svg)
    return _rewrite_refs(svg, mapping)


def inline_svg(svg: str, prefix: str, *, classes: tuple[str, ...] = (), keep_size: bool = False) -> str:
    """Return ``svg`` ready to inline: prolog dropped, ids prefixed, size left to CSS.

    Args:
        svg: a complete SVG document (text).
        prefix: put before every id (``prefix-id``); unique per diagram on a page.
        classes: CSS classes added to the root ``<svg>`` element.
        keep_size: keep the root's ``width``/``height`` (by default they are dropped
            so the ``viewBox`` scales the drawing to its container).
    """
    svg = prefix_ids(svg, prefix)
    m = _SVG_OPEN.search(svg)
    if m is None:
        return svg
    head = m.group(0)
    if not keep_size:
        # Drawn size, scaled down to the width of the column: the whole diagram is always
        # in view and nothing scrolls sideways (the fence links wide ones at full size).
        width = re.search(r'\swidth="([\d.]+)(pt|px)?"', head)
        head = _SIZE.sub("", head)
        if width and "style=" not in head:
            w, unit = float(width.group(1)), width.group(2) or "px"
            style = f"width:{w:g}{unit};max-width:100%"
            head = head[:-1].rstrip("/").rstrip() + f' style="{style}"' + ("/>" if head.endswith("/>") else ">")
    if classes:
        found = _CLASS.search(head)
        if found:
            merged = " ".join(dict.fromkeys(found.group(1).split() + list(classes)))
            head = head[: found.start()] + f' class="{merged}"' + head[found.end():]
        else:
            head = head[:-1].rstrip("/").rstrip() + f' class="{" ".join(classes)}"' + (
                "/>" if head.endswith("/>") else ">")
    return svg[: m.start()] + head + svg[m.end():]


_STYLE = re.compile(r'\sstyle="[^"]*"')
_VIEWBOX = re.compile(r'\sviewBox="([-\d.]+)[ ,]+([-\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)"')
_STYLE_WIDTH = re.compile(r'style="width:([\d.]+)(pt|px)')


def svg_width_pt(svg: str) -> float | None:
    """The drawn width, in points, of an SVG made by :func:`inline_svg` (None if unknown).

    Example:
        >>> svg_width_pt('<svg viewBox="0 0 80 40" style="width:80pt;max-width:100%">')
        80.0
    """
    m = _SVG_OPEN.search(svg)
    w = _STYLE_WIDTH.search(m.group(0)) if m else None
    if w is None:
        return None
    return float(w.group(1)) * (0.75 if w.group(2) == "px" else 1.0)


_TEXT = re.compile(r"<text\b([^>]*)>(.*?)</text>", re.S)
_FONT_SIZE = re.compile(r'\sfont-size="([\d.]+)"')


def svg_smallest_text(svg: str) -> tuple[float, float] | None:
    """(the smallest font size of a non-empty text, the viewBox width) of the first ``<svg>``
    in ``svg``, both in the SVG's own units; None without text or viewBox.

    Example:
        >>> svg_smallest_text('<svg viewBox="0 0 200 50"><text font-size="14">h</text>'
        ...                   '<text font-size="10"> </text><text font-size="11">x</text></svg>')
        (11.0, 200.0)
    """
    one = first_svg(svg)
    m = _SVG_OPEN.search(one)
    box = _VIEWBOX.search(m.group(0)) if m else None
    sizes = [float(f.group(1)) if (f := _FONT_SIZE.search(attrs)) else 14.0
             for attrs, body in _TEXT.findall(one) if re.sub(r"<[^>]*>", "", body).strip()]
    if box is None or not sizes or float(box.group(3)) <= 0:
        return None
    return min(sizes), float(box.group(3))


def svg_text_px(svg: str, column_px: float) -> float | None:
    """The smallest text of ``svg`` (made by :func:`inline_svg`) in CSS pixels, as a page
    column ``column_px`` wide shows it: at its drawn size, or scaled down to the column.

    Example:
        >>> svg_text_px('<svg viewBox="0 0 600 50" style="width:600pt;max-width:100%">'
        ...             '<text font-size="12">h</text></svg>', 400)
        8.0
    """
    found, width = svg_smallest_text(svg), svg_width_pt(first_svg(svg))
    if found is None or width is None:
        return None
    font, box = found
    shown = min(width * 4 / 3, column_px)
    return font * shown / box


def first_svg(html: str) -> str:
    """The first ``<svg>...</svg>`` element in ``html`` (Graphviz's and matplotlib's SVG nest none).

    Example:
        >>> first_svg('<div><svg a="1"><g/></svg><svg a="2"></svg></div>')
        '<svg a="1"><g/></svg>'
    """
    m = _SVG_OPEN.search(html)
    if m is None:
        return html
    end = html.find("</svg>", m.end())
    return html[m.start(): end + len("</svg>")] if end >= 0 else html[m.start():]


def standalone_svg(svg: str) -> str:
    """An SVG document again from one made by :func:`inline_svg`: its drawn size, a prolog.

    A browser opens it at full size (and zooms it), which a scaled-down picture
    in a narrow page column needs.

    Example:
        >>> print(standalone_svg('<svg viewBox="0 0 80 40" style="width:80pt;max-width:100%" '
        ...                      'class="rnnviz-svg"><g/></svg>'))
        <?xml version="1.0" encoding="UTF-8" standalone="no"?>
        <svg viewBox="0 0 80 40" class="rnnviz-svg" width="80pt" height="40pt" xmlns="http://www.w3.org/2000/svg"><g/></svg>
    """
    m = _SVG_OPEN.search(svg)
    if m is None:
        return svg
    head = m.group(0)
    width, box = svg_width_pt(svg), _VIEWBOX.search(head)
    head = _STYLE.sub("", head)
    extra = ""
    if width is not None and box is not None and float(box.group(3)) > 0:
        height = width * float(box.group(4)) / float(box.group(3))
        extra += f' width="{width:g}pt" height="{height:.4g}pt"'
    if "xmlns=" not in head:
        extra += ' xmlns="http://www.w3.org/2000/svg"'
    if "xlink:" in svg and "xmlns:xlink" not in head:
        extra += ' xmlns:xlink="http://www.w3.org/1999/xlink"'
    head = head[:-1].rstrip() + extra + ">"
    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            + svg[: m.start()] + head + svg[m.end():])
