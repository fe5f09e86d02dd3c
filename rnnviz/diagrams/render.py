"""DOT text -> SVG, PNG or PDF with the Graphviz ``dot`` program; SVG made ready to inline.

Building DOT is pure (:mod:`rnnviz.diagrams.dot`); this module is the only one that
runs a program. The SVG it returns has no XML prolog, doctype or generator
comment, keeps its ``viewBox``, starts with a ``<title>`` (accessibility), and
has every ``id`` (and every reference to one) prefixed with a per-diagram
prefix derived from a hash of the DOT text, so several diagrams can share one
HTML page without their ids clashing.

Example:
    >>> svg = render_svg('digraph { a -> b }', title="two nodes")
    >>> svg.startswith("<svg") and "<title" in svg and "viewBox" in svg
    True
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from ..errors import RenderError
from ..limits import GRAPHVIZ_TIMEOUT
from .labels import escape_dot, escape_html
from .svginline import prefix_ids

__all__ = ["FORMATS", "StartedDot", "find_dot", "render", "render_svg", "clean_svg", "diagram_prefix", "standalone_svg"]

#: Output formats Graphviz renders for us, with their file extension.
FORMATS = ("svg", "png", "pdf")


def find_dot() -> str:
    """The path of the Graphviz ``dot`` program.

    Raises:
        RenderError: Graphviz is not installed (one sentence on how to get it).
    """
    path = shutil.which("dot")
    if path is None:
        raise RenderError("the Graphviz program 'dot' was not found; install Graphviz "
                          "(e.g. 'apt install graphviz' or 'brew install graphviz') "
                          "or write DOT text with --format dot")
    return path


def render(dot_text: str, format: str = "svg", *, dpi: int = 150, graph_id: str | None = None,
           svg: str | None = None) -> bytes:
    """Run ``dot -T<format>`` on ``dot_text`` and return what it printed.

    Args:
        dot_text: a whole DOT graph.
        format: ``svg``, ``png`` or ``pdf``.
        dpi: resolution of PNG output (ignored for SVG and PDF, which scale).
        graph_id: the graph's ``id`` (unless the DOT sets one): Graphviz then starts
            every id of its SVG with it (``ID_node1``), so no one has to rewrite them.
        svg: for PNG, Graphviz's SVG of the same graph when the caller has it: its page
            size lets Graphviz paint every pixel of the PNG opaque (see :func:`whole_pixels`);
            without it, a quick SVG run measures the page first.

    Raises:
        RenderError: Graphviz missing, an unknown format, or Graphviz failing.
    """
    cmd = _command(format, dpi)
    if format == "png" and svg is None:
        svg = _page_svg(dot_text)
    if graph_id is not None:
        cmd.append(f"-Gid={graph_id}")
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as err:  # found but cannot run (permissions, broken install)
        raise RenderError(f"could not run Graphviz 'dot': {err.strerror or err}") from None
    return _finish(proc, dot_text, format, dpi, svg)


def _command(format: str, dpi: int) -> list[str]:
    """``dot`` and its options for ``format`` (RenderError for a format or resolution it cannot do)."""
    if format not in FORMATS:
        raise RenderError(f"cannot render '{format}'; the formats are {', '.join(FORMATS)}")
    if format == "png" and not 1 <= dpi <= 2400:
        raise RenderError(f"the resolution must be between 1 and 2400 dpi, got {dpi}")
    cmd = [find_dot(), f"-T{format}"]
    if format == "png":
        cmd.append(f"-Gdpi={int(dpi)}")
    if format == "pdf":
        # Graphviz pads PDF pages with a 36 pt margin on every side; \includegraphics
        # in Beamer would show it as a wide empty frame. The graph's own ``pad`` stays.
        cmd.append("-Gmargin=0")
    return cmd


def _finish(proc: subprocess.Popen, dot_text: str, format: str, dpi: int, svg: str | None = None) -> bytes:
    """Give the running ``dot`` its graph, wait for it and return its output (RenderError if it fails).

    ``svg``: for PNG, Graphviz's SVG of the graph (its page size), or None.
    """
    if format == "png":
        # A PNG lands in slide tools, mail and image viewers, several of which show a
        # transparent background as black (dark text on black): paint the page white.
        # A graph attribute set last wins over the one in the graph statement.
        dot_text = _opaque(dot_text, whole_pixels(dot_text, svg, dpi) if svg is not None else None)
    seconds = graphviz_timeout()
    with proc:
        try:
            stdout, stderr = proc.communicate(dot_text.encode("utf-8"), timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise RenderError(f"Graphviz did not finish drawing this diagram within {seconds:g} seconds",
                              hint="a limit of rnnviz (RNNVIZ_GRAPHVIZ_TIMEOUT=SECONDS raises it); fewer "
                                   "--unroll steps, a smaller --max-columns or the folded view draw faster") from None
        except BaseException:  # KeyboardInterrupt: no dot left running, no pipe left open
            proc.kill()
            raise
    if proc.returncode != 0 or not stdout:
        detail = stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[0] if detail else f"exit code {proc.returncode}"
        raise RenderError(f"Graphviz could not draw this diagram: {reason}")
    if format == "png":
        # A bitmap over 32767 pixels is scaled down by Graphviz ("Scaling by 0.42 to fit"):
        # the file then holds fewer dots per inch than asked, and says so.
        scaled = _SCALED.search(stderr.decode("utf-8", "replace"))
        if scaled is None and _opaque_rgb(stdout):
            return _with_resolution(stdout, dpi)
        return _flatten_png(stdout, dpi * float(scaled.group(1)) if scaled else dpi)
    return _undated(stdout) if format == "pdf" else stdout


#: The head of a DOT graph, up to its opening brace: a graph id can go right after it.
_GRAPH_HEAD = re.compile(r'\s*(?:strict\s+)?(?:di)?graph\s*(?:"(?:[^"\\]|\\.)*"|[A-Za-z_0-9]+)?\s*\{')


class StartedDot:
    """A ``dot -T<format>`` started before its graph is known, waiting on its standard input.

    Graphviz's own start-up (loading its libraries, plugins and configuration, a few
    milliseconds) then runs while Python is still reading the equations and building the
    diagram. :meth:`render` gives it the graph; :meth:`close` ends it unused (on an error).
    A run that could not be started (no Graphviz) leaves its error to :meth:`render`,
    which then runs :func:`render` and fails there, at the moment a plain run would.
    """

    def __init__(self, format: str, *, dpi: int = 150) -> None:
        self.format, self.dpi = format, dpi
        self._proc: subprocess.Popen | None = None
        try:
            self._proc = subprocess.Popen(_command(format, dpi), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE)
        except (RenderError, OSError):  # reported by render(), when the diagram is drawn
            self._proc = None

    def render(self, dot_text: str, *, graph_id: str | None = None, svg: str | None = None) -> bytes:
        """What :func:`render` returns for ``dot_text`` (the id goes into the graph, not the command line;
        ``svg`` as there)."""
        proc, self._proc = self._proc, None
        head = _GRAPH_HEAD.match(dot_text) if graph_id is not None else None
        if proc is None or (graph_id is not None and head is None):
            if proc is not None:
                _end(proc)
            return render(dot_text, self.format, dpi=self.dpi, graph_id=graph_id, svg=svg)
        if head is not None:
            # What -Gid= does: the graph attribute's default, set before any statement of the graph.
            dot_text = f"{dot_text[:head.end()]}\n  id={escape_dot(graph_id)};{dot_text[head.end():]}"
        if self.format == "png" and svg is None:
            try:
                svg = _page_svg(dot_text)
            except BaseException:
                _end(proc)
                raise
        return _finish(proc, dot_text, self.format, self.dpi, svg)

    def close(self) -> None:
        """End the process if it was not used: killed and waited for, its pipes closed."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _end(proc)


def _end(proc: subprocess.Popen) -> None:
    with proc:  # closes the pipes and waits
        proc.kill()


_SCALED = re.compile(r"Scaling by ([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?) to fit")


def graphviz_timeout() -> float:
    """Seconds one Graphviz run may take: :data:`rnnviz.limits.GRAPHVIZ_TIMEOUT`, or the
    environment variable ``RNNVIZ_GRAPHVIZ_TIMEOUT`` when it holds a positive number."""
    text = os.environ.get("RNNVIZ_GRAPHVIZ_TIMEOUT", "")
    try:
        value = float(text)
    except ValueError:
        return GRAPHVIZ_TIMEOUT
    return value if 0 < value < float("inf") else GRAPHVIZ_TIMEOUT


def _flatten_png(png: bytes, dpi: float) -> bytes:
    """The PNG as opaque RGB on white, with its resolution recorded.

    Graphviz's page is a whole number of pixels but its white background covers
    only the drawing's fractional size, leaving a half-transparent last column and
    row; those turn grey or black in some viewers. The ``pHYs`` resolution lets
    slide tools place the image at its intended size.

    The rows are written unfiltered: a diagram is mostly flat colour, which deflate
    packs smaller that way than after Pillow's per-row choice of filters, and without
    trying five filters on every row (a 200 dpi download takes a quarter less time).

    Example:
        >>> import io
        >>> from PIL import Image
        >>> src = io.BytesIO()
        >>> Image.new("RGBA", (3, 2), (10, 20, 30, 255)).save(src, format="PNG")
        >>> with Image.open(io.BytesIO(_flatten_png(src.getvalue(), 200))) as im:
        ...     im.mode, im.size, im.getpixel((2, 1)), round(im.info["dpi"][0])
        ('RGB', (3, 2), (10, 20, 30), 200)
    """
    import io
    import struct
    import zlib

    from PIL import Image  # Pillow comes with matplotlib; only PNG output needs it

    with Image.open(io.BytesIO(png)) as im:
        # Dropping alpha is compositing on white here: everything but that strip is
        # already painted on the opaque white page, and the strip itself is white.
        # The raw RGB packer drops it while copying out (no converted image in between).
        width, height = im.size
        pixels = memoryview(im.tobytes("raw", "RGB") if im.mode in ("RGB", "RGBA") else im.convert("RGB").tobytes())
    stride = 3 * width
    deflate = zlib.compressobj(6)
    idat = []
    for y in range(height):
        idat.append(deflate.compress(b"\0"))  # filter type 0: the row as it is
        idat.append(deflate.compress(pixels[y * stride:(y + 1) * stride]))
    idat.append(deflate.flush())
    return b"".join([b"\x89PNG\r\n\x1a\n",
                     _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
                     _phys(dpi), _png_chunk(b"IDAT", b"".join(idat)), _png_chunk(b"IEND", b"")])


_PDF_DATE = re.compile(rb"/CreationDate\s*\([^)]*\)")


def _undated(pdf: bytes) -> bytes:
    """The PDF without its creation date, so the same diagram gives the same bytes.

    The entry is blanked out with as many spaces (whitespace between dictionary
    entries is allowed), which keeps every byte offset of the cross-reference table.

    Example:
        >>> pdf = b"<< /CreationDate (D:20260101120000Z) >>"
        >>> _undated(pdf).split(), len(_undated(pdf)) == len(pdf)
        ([b'<<', b'>>'], True)
    """
    return _PDF_DATE.sub(lambda m: b" " * len(m.group(0)), pdf)


def _opaque(dot_text: str, pad: str | None = None) -> str:
    """``dot_text`` with a white page instead of a transparent one (and the graph's ``pad``
    set to ``pad``, when given).

    Example:
        >>> _opaque('digraph { a }')
        'digraph { a \\n  bgcolor="white";\\n}'
        >>> _opaque('digraph { a }', "0.2,0.3")
        'digraph { a \\n  bgcolor="white"; pad="0.2,0.3";\\n}'
    """
    body = dot_text.rstrip()
    if not body.endswith("}"):
        return dot_text
    extra = f' pad="{pad}";' if pad is not None else ""
    return body[:-1] + f'\n  bgcolor="white";{extra}\n}}'


#: The ``pad`` of the graph statement's attributes (in inches), as rnnviz's DOT writes it.
_PAD = re.compile(r'^\s*graph\s*\[[^\]\n]*?\bpad="?([0-9]*\.?[0-9]+)"?[,;\s\]]', re.M)
_VIEWBOX = re.compile(r'<svg\b[^>]*?\bviewBox="\s*([-0-9.]+)[ ,]+([-0-9.]+)[ ,]+([0-9.]+)[ ,]+([0-9.]+)\s*"')


def _pad_of(dot_text: str) -> float | None:
    """The graph's ``pad`` in points, when its DOT sets it once as one number (rnnviz's does).

    Example:
        >>> _pad_of('digraph {\\n  graph [fontsize="14", pad="0.15"];\\n  a\\n}')
        10.8
        >>> _pad_of('digraph { a }') is None
        True
    """
    found = _PAD.findall(dot_text)
    return round(float(found[0]) * 72, 9) if len(found) == 1 else None


def whole_pixels(dot_text: str, svg: str, dpi: float) -> str | None:
    """The ``pad`` (``"x,y"``, inches) that makes the PNG page of ``dot_text`` a whole number of
    pixels at ``dpi``, or None when it is one already or cannot be told (the page within
    the ``viewBox``'s rounding of half a pixel, which Graphviz may round either way).

    Graphviz sizes a bitmap to the page (drawing and pad) rounded to whole pixels, and
    paints the page's background only over its exact, fractional size: when the page was
    rounded up, its last column or row is left half transparent, and the PNG is written with
    an alpha channel that a slide tool shows grey or black. Padding the page by less than a
    pixel (on both sides, so the drawing moves by less than half a pixel: 0.09 pt at 200
    dpi) until it covers the rounded size makes every pixel opaque: Graphviz (cairo) then
    writes plain RGB, which needs no second encoding. ``svg`` is Graphviz's SVG of the
    same graph: its ``viewBox`` is the page in points (to 0.005 pt).

    Example:
        >>> dot = 'digraph {\\n  graph [pad="0.15"];\\n  a\\n}'
        >>> whole_pixels(dot, '<svg width="63pt" height="50pt" viewBox="0.00 0.00 62.60 49.73">', 200)
        '0.150350,0.150000'
        >>> whole_pixels(dot, '<svg viewBox="0.00 0.00 72.02 36.02">', 200) is None  # 200.06 x 100.06 px
        True
    """
    pad = _pad_of(dot_text)
    box = _VIEWBOX.search(svg)
    if pad is None or box is None:
        return None
    scale = dpi / 72
    # The viewBox is rounded to 0.005 pt; the page must cover the rounded size whatever the
    # true one was, and stay below where Graphviz would round to one pixel more.
    margin = 0.005 * scale * 2 + 0.001
    if margin >= 0.45:
        return None
    pads, grown = [], False
    for size in (float(box.group(3)), float(box.group(4))):
        pixels = size * scale
        if abs(pixels % 1 - 0.5) <= margin:  # Graphviz may round either way: leave it as it is
            return None
        whole = int(pixels + 0.5)  # what Graphviz makes of it (ROUND)
        if pixels >= whole + margin:
            pads.append(pad)
            continue
        target = whole + margin
        pads.append(pad + (target - pixels) / scale / 2)
        grown = True
    if not grown:
        return None
    return ",".join(f"{p / 72:.6f}" for p in pads)


def _page_svg(dot_text: str) -> str | None:
    """Graphviz's SVG of ``dot_text``, to measure its page for :func:`whole_pixels` (None when
    the graph's ``pad`` cannot be told, so that no run is spent on it)."""
    return render(dot_text, "svg").decode("utf-8", "replace") if _pad_of(dot_text) is not None else None


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    import struct
    import zlib

    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _phys(dpi: float) -> bytes:
    """The ``pHYs`` chunk that records ``dpi`` (pixels per metre, as Pillow writes dpi=(dpi, dpi))."""
    import struct

    per_metre = int(dpi / 0.0254 + 0.5)
    return _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))


def _opaque_rgb(png: bytes) -> bool:
    """Whether ``png`` is 8-bit RGB without transparency: ready as it is, but for its resolution.

    Example:
        >>> import struct
        >>> _opaque_rgb(b"\\x89PNG\\r\\n\\x1a\\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0) + bytes(4))
        True
    """
    return (len(png) >= 33 and png[12:16] == b"IHDR" and png[24] == 8 and png[25] == 2
            and b"tRNS" not in png[33:png.find(b"IDAT")])


def _with_resolution(png: bytes, dpi: float) -> bytes:
    """``png`` with a ``pHYs`` chunk that records ``dpi`` (in place of any it had), right after its header.

    Example:
        >>> import io, struct, zlib
        >>> from PIL import Image
        >>> src = io.BytesIO()
        >>> Image.new("RGB", (3, 2), (10, 20, 30)).save(src, format="PNG")
        >>> with Image.open(io.BytesIO(_with_resolution(src.getvalue(), 200))) as im:
        ...     im.mode, im.size, im.getpixel((2, 1)), round(im.info["dpi"][0])
        ('RGB', (3, 2), (10, 20, 30), 200)
    """
    import struct

    out, pos = [png[:33], _phys(dpi)], 33  # the signature and IHDR
    while pos + 8 <= len(png):
        length = struct.unpack(">I", png[pos:pos + 4])[0]
        end = pos + 12 + length
        if png[pos + 4:pos + 8] != b"pHYs":
            out.append(png[pos:end])
        pos = end
    return b"".join(out)


def diagram_prefix(dot_text: str) -> str:
    """A short id prefix derived from the DOT text: same diagram, same prefix.

    Example:
        >>> diagram_prefix("digraph { a }") == diagram_prefix("digraph { a }")
        True
        >>> diagram_prefix("digraph { a }").startswith("rv")
        True
    """
    return "rv" + _sha256(dot_text.encode("utf-8")).hexdigest()[:10]


def _sha256(data: bytes):
    """SHA-256 of ``data`` from Python's built-in module: the same digest as hashlib's, without
    loading OpenSSL (~2 ms of every ``rnnviz draw``, for one short hash)."""
    try:
        from _sha256 import sha256  # Python 3.10, 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # Python 3.12 and later
        except ImportError:  # a build without them
            from hashlib import sha256
    return sha256(data)


_SVG_OPEN = re.compile(r"<svg\b[^>]*>", re.S)
_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.S)


def _foreign_id(svg: str, prefix: str) -> bool:
    """Whether some id of ``svg`` is not one Graphviz made from the graph id ``prefix``.

    With the graph's ``id`` set, Graphviz names the graph ``prefix``, its objects
    ``prefix_node1`` and their links ``a_prefix_node1``: nothing is left to rename, and
    finding that out is one scan instead of rewriting every id (~70 ms per MB).

    Example:
        >>> _foreign_id('<svg><g id="p"/><g id="p_node1"/><g id="a_p_node1"/></svg>', "p")
        False
        >>> _foreign_id('<svg><g id="p_node1"/><linearGradient id="l_1"/></svg>', "p")
        True
    """
    own = re.escape(prefix)
    # No \b before "id": it would make the search try every position (0.7 s on 11 MB).
    # An attribute merely ending in "id" can only send the SVG down the slow, exact path.
    return re.search(rf'id="(?!(?:a_)?{own}(?:_|"))', svg) is not None


def clean_svg(svg: str, prefix: str, *, title: str | None = None) -> str:
    """Make Graphviz SVG ready to inline in HTML.

    Removes the prolog, doctype and comments; prefixes every id and every
    ``#id`` reference with ``prefix`` (unless Graphviz did, see :func:`render_svg`); adds ``role="img"`` and a leading
    ``<title>`` (``title`` or ``"diagram"``); keeps ``viewBox``.

    Example:
        >>> s = '<?xml version="1.0"?><svg viewBox="0 0 1 1"><g id="node1"><a xlink:href="#node1"/></g></svg>'
        >>> print(clean_svg(s, "p", title="a < b"))
        <svg viewBox="0 0 1 1" role="img" aria-labelledby="p-title"><title id="p-title">a &lt; b</title><g id="p-node1"><a xlink:href="#p-node1"/></g></svg>
    """
    svg = _PROLOG.sub("", svg).strip()
    if _foreign_id(svg, prefix):
        svg = prefix_ids(svg, prefix)
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise RenderError("Graphviz returned something that is not SVG")
    head = match.group(0)
    new_head = head[:-1].rstrip() + f' role="img" aria-labelledby="{prefix}-title">'
    title_el = f'<title id="{prefix}-title">{escape_html(title or "diagram")}</title>'
    return svg[:match.start()] + new_head + title_el + svg[match.end():].lstrip("\n")


def render_svg(dot_text: str, *, title: str | None = None, prefix: str | None = None,
               started: StartedDot | None = None) -> str:
    """Render DOT to SVG ready to inline (see :func:`clean_svg`).

    The prefix is the graph's ``id``, so Graphviz writes the ids prefixed itself.
    ``started``: a ``dot -Tsvg`` already running (:class:`StartedDot`) to draw it with.

    Raises:
        RenderError: Graphviz missing or failing.
    """
    prefix = prefix or diagram_prefix(dot_text)
    if started is not None:
        raw = started.render(dot_text, graph_id=prefix).decode("utf-8")
    else:
        raw = render(dot_text, "svg", graph_id=prefix).decode("utf-8")
    return clean_svg(raw, prefix, title=title)


#: Prolog of an SVG file that stands alone (opened by a browser, a slide tool, Inkscape).
XML_PROLOG = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'


#: Graphviz's font lists -> lists that also name the faces Windows and Linux have:
#: a slide tool on another machine then keeps the Times-like math and the sans numbers.
_FONT_FALLBACKS = {
    "Times,serif": "Times,Times New Roman,Liberation Serif,serif",
    "Helvetica,sans-Serif": "Helvetica,Arial,Liberation Sans,sans-serif",
}


def standalone_svg(svg: str) -> str:
    """Inline SVG (as :func:`clean_svg` makes it) turned into the text of a ``.svg`` file.

    Adds the XML declaration and makes sure the SVG and XLink namespaces are
    declared, so the file is valid XML on its own; names common faces after
    Graphviz's font names (Times New Roman, Arial) before the generic family;
    ends with a newline.

    Example:
        >>> print(standalone_svg('<svg viewBox="0 0 1 1"></svg>'))
        <?xml version="1.0" encoding="UTF-8" standalone="no"?>
        <svg viewBox="0 0 1 1" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"></svg>
        <BLANKLINE>
    """
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise RenderError("Graphviz returned something that is not SVG")
    head = match.group(0)
    extra = ""
    if 'xmlns="' not in head:
        extra += ' xmlns="http://www.w3.org/2000/svg"'
    if "xmlns:xlink=" not in head:
        extra += ' xmlns:xlink="http://www.w3.org/1999/xlink"'
    if extra:
        head = head[:-1].rstrip() + extra + ">"
    body = svg[match.end():]
    for family, fallback in _FONT_FALLBACKS.items():
        body = body.replace(f'font-family="{family}"', f'font-family="{fallback}"')
    text = XML_PROLOG + svg[:match.start()].lstrip() + head + body
    return text if text.endswith("\n") else text + "\n"
