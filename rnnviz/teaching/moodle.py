"""Moodle XML: one question per variant and task, the solution as its feedback, images embedded.

The structure is the one Moodle's XML importer (``question/format/xml``) reads: a
``<quiz>`` of ``<question type="...">`` elements, each with ``<name><text>``,
``<questiontext format="html"><text>`` (and its ``<file name path encoding="base64">``
children for images referenced as ``@@PLUGINFILE@@/name``), ``<generalfeedback>``,
``<defaultgrade>``, ``<penalty>`` and ``<hidden>``. Numbers go into ``numerical``
questions (``<answer fraction="100"><text>45</text><tolerance>0</tolerance>``) or,
several to a question, into ``cloze`` questions (``{1:NUMERICAL:=6:0}``); gate roles
into cloze ``MULTICHOICE`` fields; drawing, plotting and derivations into ``essay``
questions whose grader information is the worked solution. Math is written ``\\( \\)``
and ``\\[ \\]`` for Moodle's MathJax filter.

Tolerances (Moodle's numerical tolerance is absolute, so a relative one is written as
its absolute width for that answer): a whole number is graded exactly; a number from
0.1 up to 100 within 0.001 (the question asks for three decimals); a smaller or larger
one within 0.1% of its size (the question asks for four significant digits): three
decimals would let 0 pass for 0.0003 and would ask six digits of 1234.567.

Example:
    >>> from rnnviz.language import load_model
    >>> from rnnviz.teaching.sheet import build_sheet
    >>> sheet = build_sheet(load_model("h_t = relu(V h_{t-1} + W x_t)  V = -3  W = 3  h_0 = 0  x = [2, 3, 1]"), ["forward"])
    >>> xml = moodle_xml(sheet, category="relu")
    >>> "{1:NUMERICAL:=6:0}" in xml and xml.count('<question type="cloze">')
    1
"""

from __future__ import annotations

import base64
import html
import re
from fractions import Fraction
from xml.sax.saxutils import escape

from .document import Figure, to_html
from .sheet import Sheet, SheetVariant
from .tasks import Answer, Part

__all__ = ["moodle_xml", "TOLERANCE", "RELATIVE_TOLERANCE", "tolerance", "relative"]

#: Tolerance of a number that is not whole, from 0.1 up to 100 (the question asks for three decimals).
TOLERANCE = 0.001
#: Relative tolerance of a number below 0.1 or from 100 up (the question asks for four significant digits).
RELATIVE_TOLERANCE = 0.001
#: The magnitudes between which three decimals are asked: [low, high).
DECIMALS_RANGE = (0.1, 100.0)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _number(x: object) -> str:
    """A number as Moodle reads it: a decimal point, enough digits."""
    if isinstance(x, Fraction) and x.denominator == 1:
        return str(x.numerator)
    return f"{float(x):.6g}"


def _whole(x: object) -> bool:
    return isinstance(x, Fraction) and x.denominator == 1


def relative(x: object) -> bool:
    """Whether a number's tolerance is relative to its size (below 0.1 or from 100 up, not whole)."""
    low, high = DECIMALS_RANGE
    return not _whole(x) and not low <= abs(float(x)) < high  # type: ignore[arg-type]


def tolerance(x: object) -> float:
    """The absolute tolerance Moodle grades ``x`` with (see the module's rule).

    Example:
        >>> from fractions import Fraction
        >>> tolerance(Fraction(45)), tolerance(0.5622), tolerance(0.0373194), tolerance(1234.5)
        (0, 0.001, 3.73e-05, 1.23)
    """
    if _whole(x):
        return 0
    if relative(x):
        return float(f"{RELATIVE_TOLERANCE * abs(float(x)):.3g}")  # type: ignore[arg-type]
    return TOLERANCE


def _tolerance(x: object) -> str:
    return repr(tolerance(x)) if tolerance(x) else "0"


def _asking(xs: list) -> str:
    """What the question asks of the numbers that are not whole: three decimals, or four significant digits."""
    xs = [x for x in xs if not _whole(x)]
    if not xs:
        return ""
    rel = [relative(x) for x in xs]
    if all(rel):
        return "four significant digits"
    if any(rel):
        return "three decimals (numbers below 0.1 or from 100 up to four significant digits)"
    return "three decimals"


def _flat(v: object) -> list:
    if isinstance(v, list):
        return [y for x in v for y in _flat(x)]
    return [v]


def _cloze_escape(text: str) -> str:
    return re.sub(r"([}#~/\"\\])", r"\\\1", text)


def _numerical(x: object) -> str:
    return f"{{1:NUMERICAL:={_number(x)}:{_tolerance(x)}}}"


class _Files:
    """The images of one question text or feedback, as ``<file>`` elements."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def image(self, fig: Figure) -> str:
        name = f"{fig.name}.png"
        if name not in self.files:
            self.files[name] = fig.render("png")
        return f"@@PLUGINFILE@@/{name}"

    def xml(self) -> str:
        return "".join(f'<file name="{escape(n)}" path="/" encoding="base64">{base64.b64encode(d).decode("ascii")}'
                       "</file>\n" for n, d in self.files.items())


def _text_field(tag: str, body: str, files: _Files | None = None) -> str:
    extra = files.xml() if files is not None else ""
    return f'<{tag} format="html">\n<text>{_cdata(body)}</text>\n{extra}</{tag}>\n'


def _answer_html(a: Answer, cloze_field: str) -> str:
    return f"<p>\\({html.escape(a.label.latex, quote=False)}\\) = {cloze_field}</p>"


def _question_html(sv: SheetVariant, part: Part, files: _Files) -> str:
    return (to_html(sv.intro, moodle=True, image=files.image) +
            to_html(part.question, moodle=True, image=files.image))


def _feedback(sv: SheetVariant, part: Part) -> tuple[str, _Files]:
    files = _Files()
    return to_html(part.solution, moodle=True, image=files.image), files


def _question(kind: str, name: str, text: str, qfiles: _Files, feedback: str, ffiles: _Files, extra: str = "") -> str:
    return (f'<question type="{kind}">\n<name><text>{escape(name)}</text></name>\n'
            + _text_field("questiontext", text, qfiles)
            + _text_field("generalfeedback", feedback, ffiles)
            + "<defaultgrade>1</defaultgrade>\n<penalty>0.3333333</penalty>\n<hidden>0</hidden>\n"
            + extra + "</question>\n")


def _part_xml(sheet: Sheet, sv: SheetVariant, part: Part) -> str:
    name = f"{sheet.title}: {part.title}" + (f" (variant {sv.variant.index})" if len(sheet.variants) > 1 else "")
    qfiles = _Files()
    text = _question_html(sv, part, qfiles)
    feedback, ffiles = _feedback(sv, part)
    numbers = [a for a in part.answers if a.kind in ("value", "grad", "params", "total")]
    if len(numbers) == 1 and not isinstance(numbers[0].value, list) and len(part.answers) == 1:
        a = numbers[0]
        extra = (f'<answer fraction="100" format="moodle_auto_format">\n<text>{_number(a.value)}</text>\n'
                 f'<feedback format="html"><text></text></feedback>\n<tolerance>{_tolerance(a.value)}</tolerance>\n'
                 "</answer>\n<unitgradingtype>0</unitgradingtype>\n<unitpenalty>0.1</unitpenalty>\n"
                 "<showunits>3</showunits>\n<unitsleft>0</unitsleft>\n")
        if _asking([a.value]):
            text += f"<p>Give the answer to {_asking([a.value])}.</p>"
        return _question("numerical", name, text, qfiles, feedback, ffiles, extra)
    if part.answers:
        fields = []
        roles = sorted({a.value for a in part.answers if a.kind == "gate"})
        cells = sorted(sv.context.model.variables)
        for a in part.answers:
            if a.kind == "gate":
                choices = "~".join(("=" if r == a.value else "") + _cloze_escape(r) for r in roles)
                fields.append(_answer_html(a, f"{{1:MULTICHOICE:{choices}}}"))
            elif a.kind == "cell":
                choices = "~".join(("=" if c == a.value else "") + _cloze_escape(c) for c in cells)
                fields.append(f"<p>The cell state is {{1:MULTICHOICE:{choices}}}</p>")
            elif isinstance(a.value, list):
                inner = ", ".join(_numerical(x) for x in _flat(a.value))
                fields.append(_answer_html(a, f"[{inner}]"))
            else:
                fields.append(_answer_html(a, _numerical(a.value)))
        asking = _asking([x for a in numbers for x in _flat(a.value)])
        if asking:
            text += f"<p>Give numbers that are not whole to {asking}.</p>"
        return _question("cloze", name, text + "\n".join(fields), qfiles, feedback, ffiles)
    extra = ('<responseformat>editor</responseformat>\n<responserequired>1</responserequired>\n'
             '<responsefieldlines>15</responsefieldlines>\n<attachments>1</attachments>\n'
             '<attachmentsrequired>0</attachmentsrequired>\n'
             + _text_field("graderinfo", feedback, None)
             + '<responsetemplate format="html"><text></text></responsetemplate>\n')
    return _question("essay", name, text, qfiles, feedback, ffiles, extra)


def moodle_xml(sheet: Sheet, *, category: str) -> str:
    """The quiz: a category, then one question per variant and task."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n',
           f'<question type="category">\n<category><text>$course$/top/rnnviz/{escape(category)}</text></category>\n'
           "</question>\n"]
    for part_index in range(len(sheet.tasks)):
        for sv in sheet.variants:
            out.append(_part_xml(sheet, sv, sv.parts[part_index]))
    out.append("</quiz>\n")
    return "".join(out)


