"""Numbers as a solution sheet writes them: exact fractions where the inputs are exact.

A value line gives a float (``0.3``, ``\\frac{1}{3}``); :func:`exact` recovers the
fraction it was written as, so that hand calculations stay exact (``3/2``, not
``1.5000001``). Sigmoid, tanh, exp and log of anything but their few exact points
make floats, and a float stays a float. :func:`fmt` prints either kind, plain or
LaTeX; :func:`parse_number` reads a number as a student writes it.

Example:
    >>> from fractions import Fraction
    >>> exact(0.3), exact(1 / 3), exact(2.0)
    (Fraction(3, 10), Fraction(1, 3), Fraction(2, 1))
    >>> fmt(Fraction(3, 2)), fmt(Fraction(-3, 2), latex=True), fmt(0.56217652)
    ('3/2', '-\\\\frac{3}{2}', '0.5622')
    >>> fmt(Fraction(7, 10), fractions=False), fmt(Fraction(1, 3), fractions=False)
    ('0.7', '1/3')
    >>> parse_number("2/3"), parse_number(r"\\frac{3}{2}"), parse_number("-0.25")
    (Fraction(2, 3), Fraction(3, 2), Fraction(-1, 4))
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

__all__ = ["Number", "exact", "fmt", "fmt_full", "parse_number", "is_exact", "close", "to_float", "decimal_text",
           "value_line_number", "number_matches"]

#: A number of a hand calculation: exact (Fraction) or not (float).
Number = Fraction | float

#: Denominators a course writes by hand; a float close to p/q with q up to this is read as p/q.
MAX_DENOMINATOR = 1000


def exact(x: float) -> Number:
    """The fraction a float from a value line was written as, else the float itself."""
    if isinstance(x, Fraction):
        return x
    x = float(x)
    if not math.isfinite(x):
        return x
    short = Fraction(repr(x))
    if short.denominator <= 10 ** 6:  # a decimal as written: 0.3, 0.25, 0.01
        return short
    near = Fraction(x).limit_denominator(MAX_DENOMINATOR)
    if abs(float(near) - x) <= 1e-12 * max(1.0, abs(x)):  # \frac{1}{3}
        return near
    return x


def is_exact(x: object) -> bool:
    return isinstance(x, Fraction)


def to_float(x: Number) -> float:
    return float(x)


def close(a: Number, b: Number, *, rel: float = 1e-6, abs_: float = 1e-9) -> bool:
    """Equal for exact numbers; within a relative tolerance when either is a float."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def _float_text(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    if digits >= 6 and 1 <= abs(x) < 1e6:  # an answer: six decimals (1.435738), as sheets give them
        return f"{x:.{digits}f}".rstrip("0").rstrip(".")
    s = f"{x:.{digits}g}"
    if "e" in s:
        mant, exp = s.split("e")
        return f"{mant}e{int(exp)}"
    return s


def decimal_text(x: Fraction) -> str | None:
    """A fraction that is a decimal of at most 6 places, written so (``0.25``), else None."""
    for places in range(7):
        y = x * 10 ** places
        if y.denominator == 1:
            if places == 0:
                return str(y.numerator)
            digits = f"{abs(y.numerator):0{places + 1}d}"
            return ("-" if x < 0 else "") + f"{digits[:-places]}.{digits[-places:]}"
    return None


def fmt(x: Number, *, latex: bool = False, digits: int = 4, fractions: bool = True) -> str:
    """A number for a worked step: ``6``, ``3/2`` (``\\frac{3}{2}``), ``0.5622``.

    With ``fractions=False`` (a sheet whose values are decimals) an exact number that
    is a short decimal prints as one (``0.25``, ``1.5``); others stay fractions.
    """
    if isinstance(x, Fraction):
        if x.denominator == 1:
            return str(x.numerator)
        if not fractions:
            text = decimal_text(x)
            if text is not None:
                return text
        if latex:
            sign = "-" if x < 0 else ""
            return f"{sign}\\frac{{{abs(x.numerator)}}}{{{x.denominator}}}"
        return f"{x.numerator}/{x.denominator}"
    s = _float_text(float(x) + 0.0, digits)
    if latex and "e" in s:
        mant, exp = s.split("e")
        return f"{mant} \\cdot 10^{{{exp}}}"
    return s


def fmt_full(x: Number, *, latex: bool = False, fractions: bool = True) -> str:
    """A number for an answer line: exact, or a float to 6 decimals (6 significant digits below 1).

    Example:
        >>> fmt_full(1.4357384), fmt_full(0.03731942), fmt_full(-0.3611823)
        ('1.435738', '0.0373194', '-0.361182')
    """
    return fmt(x, latex=latex, digits=6, fractions=fractions)


def value_line_number(x: Number) -> str:
    """A number as the equation language reads it back exactly: ``-3``, ``0.25``, ``\\frac{1}{3}``."""
    if isinstance(x, Fraction):
        if x.denominator == 1:
            return str(x.numerator)
        d = x.denominator
        while d % 2 == 0:
            d //= 2
        while d % 5 == 0:
            d //= 5
        if d == 1:  # a finite decimal
            return repr(float(x))
        sign = "-" if x < 0 else ""
        return f"{sign}\\frac{{{abs(x.numerator)}}}{{{x.denominator}}}"
    return repr(float(x))


_FRAC = re.compile(r"^(-)?\s*\\[dt]?frac\s*\{\s*(-?\d+)\s*\}\s*\{\s*(\d+)\s*\}$")
_RATIO = re.compile(r"^(-?\d+)\s*/\s*(\d+)$")
_DECIMAL = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def parse_number(text: str) -> Number | None:
    """A number as written on a sheet (``6``, ``-0.25``, ``2/3``, ``\\frac{2}{3}``, ``−1``), or None."""
    t = text.strip().replace("\u2212", "-").replace(" ", "")
    t = t.strip("$")
    m = _FRAC.match(t)
    if m:
        value = Fraction(int(m.group(2)), int(m.group(3))) if int(m.group(3)) else None
        return -value if value is not None and m.group(1) else value
    m = _RATIO.match(t)
    if m:
        return Fraction(int(m.group(1)), int(m.group(2))) if int(m.group(2)) else None
    if _DECIMAL.match(t):
        return Fraction(t)  # exactly as written, 3.3e-5 included: its places set the rounding allowed
    return None


def _places(x: Fraction) -> int | None:
    """How many decimal places a decimal the student wrote has."""
    for k in range(0, 16):
        if (x * 10 ** k).denominator == 1:
            return k
    return None


def number_matches(given: Number, expected: Number) -> bool:
    """Whether a number a sheet writes answers ``expected``: exact, or the right value rounded to the
    places written (``0.667`` for 2/3), or a float within a relative 1e-6."""
    if isinstance(given, Fraction) and isinstance(expected, Fraction) and given == expected:
        return True
    if isinstance(given, float):
        return math.isclose(given, float(expected), rel_tol=1e-6, abs_tol=1e-12)
    places = _places(given)
    if places is None or places == 0:
        return isinstance(expected, float) and math.isclose(float(given), float(expected), rel_tol=1e-9)
    if isinstance(expected, Fraction) and _places(expected) is not None:
        return given == expected  # an exact decimal must be written exactly
    # A rounding of an inexact value (0.667 for 2/3, 0.5436 for sigmoid(0.175)).
    return abs(float(given) - float(expected)) <= 0.5 * 10.0 ** -places * (1 + 1e-9)
