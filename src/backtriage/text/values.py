"""Values read from text with regular expressions: age, sex, duration, weeks of conservative
care, measurements (with unit conversion), and the location and side of the back pain.

These are shapes of text (numbers with units, "58 yo M"), not clinical concepts, so plain
regular expressions over the original string are simpler than token rules and give exact
character offsets.  Each extractor returns the value and the span it came from; the first
plausible match wins (the complaint is read before the note).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, Literal, TypeVar

Side = Literal["left", "right", "bilateral", "central"]
Sex = Literal["male", "female"]


T = TypeVar("T")


@dataclass(frozen=True)
class Found(Generic[T]):
    value: T
    start: int
    end: int


_WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "several": 3, "few": 3,
    "a few": 3, "couple of": 2, "a couple of": 2, "fourteen": 14, "eighteen": 18, "twenty": 20,
}  # fmt: skip
_NUM = (
    r"(?:\d+(?:\.\d+)?|a couple of|couple of|a few|an|a|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve|fourteen|eighteen|twenty|several|few)"
)
_UNIT_DAYS = {
    "d": 1, "day": 1, "days": 1, "/7": 1, "dy": 1, "dys": 1,
    "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7, "/52": 7, "wk.": 7,
    "m": 30, "mo": 30, "mos": 30, "mth": 30, "mths": 30, "month": 30, "months": 30, "/12": 30,
    "y": 365, "yr": 365, "yrs": 365, "year": 365, "years": 365,
    "h": 0, "hr": 0, "hrs": 0, "hour": 0, "hours": 0,
}  # fmt: skip
_UNIT = r"(?:days?|dys?|d|weeks?|wks?\.?|w|months?|mths?|mos?|m|years?|yrs?|y|hours?|hrs?|h)"


def _number(text: str) -> float:
    t = text.lower().strip()
    if t in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[t])
    return float(t)


def _cannot_match(text: str, needs: tuple[str, ...]) -> bool:
    """Whether ``text`` is ASCII and holds none of ``needs`` (lower case), one of which every
    match of a case-insensitive pattern contains: then searching it is skipped.

    Searching a note for a pattern that is not there cost ~0.1 ms each.  In ASCII text,
    ignoring case matches an ASCII letter by its lower case alone; elsewhere ("ſ" matches
    "s", ignoring case) the pattern is searched.
    """
    if not text.isascii():
        return False
    lower = text.lower()
    return not any(needed in lower for needed in needs)


def _search(pattern: re.Pattern[str], text: str, needs: tuple[str, ...]) -> re.Match[str] | None:
    """``pattern.search(text)``, skipped when :func:`_cannot_match`."""
    return None if _cannot_match(text, needs) else pattern.search(text)


def _finditer(
    pattern: re.Pattern[str], text: str, needs: tuple[str, ...]
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, skipped when :func:`_cannot_match`."""
    return iter(()) if _cannot_match(text, needs) else pattern.finditer(text)


# --- age and sex ---------------------------------------------------------------------------
_SEX_WORDS: dict[str, Sex] = {
    "m": "male", "male": "male", "man": "male", "gentleman": "male", "gent": "male", "boy": "male",
    "mr": "male", "he": "male", "his": "male", "him": "male",
    "f": "female", "female": "female", "woman": "female", "lady": "female", "girl": "female",
    "mrs": "female", "ms": "female", "miss": "female", "she": "female", "her": "female",
}  # fmt: skip


def _sex_word(word: str | None) -> Sex | None:
    """The sex a matched word names.  Case-insensitive matching also accepts letters whose lower
    case is longer ("HİS" lowers to "hi̇s", with a combining dot): drop the dot, and take anything
    still unknown as no clue rather than fail."""
    if word is None:
        return None
    return _SEX_WORDS.get(word.lower().replace("\u0307", ""))


_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}  # fmt: skip
_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TENS_WORDS = rf"(?:{'|'.join(_TENS)})(?:[\s-](?:{'|'.join(_UNITS)})\b)?"


def _age_number(m: re.Match[str]) -> int:
    groups = m.groupdict()
    words = groups.get("word") or groups.get("word2")
    if words is None:
        return int(m.group("age"))
    parts = re.split(r"[\s-]+", words.lower())
    return _TENS[parts[0]] + (_UNITS.index(parts[1]) + 1 if len(parts) > 1 else 0)


_SEX_NOUN = r"(?P<sex>male|female|man|woman|gentleman|gent|lady|boy|girl|m|f)"
_AGE_PATTERNS = [
    # "58 yo M", "58-year-old woman", "58 y/o male", "58yo", "58 year old", "58M", "34F"
    re.compile(
        r"\b(?P<age>\d{1,3})[\s-]*(?:y/?o|yrs?\.?\s*old|years?[\s-]*old|yo|y\.o\.|yr[\s-]*old|year|yrs?|y)?"
        r"(?:[\s,-]*" + _SEX_NOUN + r")\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?P<age>\d{1,3})[\s-]*(?:y/?o|yrs?[\s-]+old|years?[\s-]*old|yo|y\.o\.)\b", re.IGNORECASE
    ),
    # "F 34", "M, 58", "male 58", "female aged 34"
    re.compile(
        r"\b(?=[bfglmw])"
        + _SEX_NOUN
        + r"[\s,]+(?:aged?\s*)?(?P<age>\d{1,3})\b(?!\s*(?:%|mg|kg|cm|mm|/|\.\d))",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?=a)(?:aged?|age:?)\s*(?P<age>\d{1,3})\b", re.IGNORECASE),
    # "72 years of age"; "M/72", "72/M" (a slash with a sex letter, "5/5" and "2/52" have none)
    re.compile(r"\b(?P<age>\d{1,3})\s*(?:years?|yrs?)\s+of\s+age\b", re.IGNORECASE),
    re.compile(r"\b(?P<sex>[MF])/(?P<age>\d{1,3})\b(?!/)"),
    re.compile(r"\b(?P<age>\d{1,3})/(?P<sex>[MF])\b"),
    # "72 yrs" or "72yrs" opening the text or a line: elsewhere "10 yrs" is most often a duration.
    re.compile(
        r"^[ \t]*(?P<age>\d{1,3})[ \t]*yrs?\b\.?(?![ \t]*(?:ago|of|hx|history|duration))",
        re.IGNORECASE | re.MULTILINE,
    ),
    # "Mr Smith, 72, presents", "Mrs Jones 72": a title, a capitalised name, then the number
    # ending the phrase (not "Mr Smith 72 kg").
    re.compile(
        r"\b(?P<sex>Mr|Mrs|Ms|Miss|MR|MRS|MS)\.?\s+[A-Z][A-Za-z'-]+,?\s+(?P<age>\d{1,3})"
        r"(?=\s*(?:$|[,.;)]|y|years?\b|presents?\b|with\b))"
    ),
    # "pt is 72", "patient is 72." (the number ends the clause)
    re.compile(
        r"\b(?=[pshPSH])(?:pt|patient|he|she)\s+is\s+(?P<age>\d{1,3})(?=\s*(?:$|[,.;]|years?\b))",
        re.IGNORECASE,
    ),
    # "aged seventy-two", "sixty-eight year old"
    re.compile(
        r"\b(?:aged\s+(?P<word>" + _TENS_WORDS + r")\b|(?P<word2>" + _TENS_WORDS + r")"
        r"[\s-]*(?:years?[\s-]*old|yrs?[\s-]+old|y/?o)\b)",
        re.IGNORECASE,
    ),
    # "in his 70s": the decade's first year; only from the sixties, where that is over 50 (a
    # man "in his 50s" may be 50 or 59, so it is left unread rather than read as 50).
    re.compile(
        r"\bin\s+(?:his|her|their)\s+(?:early\s+|mid[\s-]*|late\s+)?(?P<age>[6-9]0)'?s\b",
        re.IGNORECASE,
    ),
]
# The age of someone else: "lifting her 2 year old", "his 90 year old mother".
_OTHERS_AGE_BEFORE = re.compile(r"\b(?:my|his|her|their|our|your)\s+$", re.IGNORECASE)
_OTHERS_AGE_AFTER = re.compile(
    r"[\s-]*(?:son|daughter|child|kid|baby|toddler|mother|father|mum|mom|dad|grandson|"
    r"granddaughter|grandchild|grandmother|grandfather|brother|sister|wife|husband|partner|"
    r"nephew|niece|dog|cat)\b",
    re.IGNORECASE,
)
# A lookahead on the first letters of a regex's alternatives ("(?=[hs])") changes no match;
# it saves trying every alternative at every word (Python's regex engine does not), which
# matters for the regexes searched over a whole note.
_PRONOUN = re.compile(r"\b(?=[hs])(he|his|him|she|her)\b", re.IGNORECASE)
_SEX_ALONE = re.compile(
    r"\b(?=[fglmw])(male|female|man|woman|gentleman|lady|mr|mrs|ms|miss)\b\.?", re.IGNORECASE
)


def find_age_sex(text: str) -> tuple[Found[int] | None, Found[Sex] | None]:
    age: Found[int] | None = None
    sex: Found[Sex] | None = None
    for pattern in _AGE_PATTERNS:
        for m in pattern.finditer(text):
            value = _age_number(m)
            if not 0 < value <= 120:
                continue
            if _OTHERS_AGE_BEFORE.search(text, max(0, m.start() - 8), m.start()) or (
                m.groupdict().get("sex") is None and _OTHERS_AGE_AFTER.match(text, m.end())
            ):
                continue
            sex_word = m.groupdict().get("sex")
            # "58 M" is a sex only next to an age; "5 m" (metres, months) is not an age.
            single = sex_word is not None and sex_word.lower() in {"m", "f"}
            if single and (value < 12 or _unit_follows(text, m.end())):
                continue
            if age is None or m.start() < age.start:
                age = Found(value, m.start(), m.end())
                kind = _sex_word(sex_word)
                if kind is not None:
                    sex = Found(kind, m.start(), m.end())
            break
    if sex is None:
        m2 = _SEX_ALONE.search(text)
        kind = None if m2 is None else _sex_word(m2.group(1))
        if m2 is not None and kind is not None:
            sex = Found(kind, m2.start(), m2.end(1))
    if sex is None:
        # Pronouns are the weakest clue; use them only when they all agree.
        found = [(kind, m) for m in _PRONOUN.finditer(text) if (kind := _sex_word(m.group(1)))]
        kinds = {k for k, _ in found}
        if len(kinds) == 1 and found:
            first = found[0][1]
            sex = Found(found[0][0], first.start(), first.end())
    return age, sex


def _unit_follows(text: str, pos: int) -> bool:
    return re.match(r"\s*(?:onths?|ins?|eters?|etres?|g\b|l\b|/)", text[pos : pos + 8]) is not None


# --- duration ------------------------------------------------------------------------------
_DURATION_PATTERNS = [
    # "x3/7", "x 2/52", "x4 days", "x 3 wks"
    re.compile(
        r"\bx\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<u>/7|/52|/12|" + _UNIT + r")(?![a-z])", re.IGNORECASE
    ),
    re.compile(r"(?P<n>\d+)\s*(?P<u>/7|/52|/12)\b", re.IGNORECASE),
    # "for 3 weeks", "for the past 2 months", "over the last 10 days", "past 3 days"
    re.compile(
        r"\b(?:for|over|in|during|x|since)\s+(?:the\s+)?(?:past|last|previous|preceding)?\s*(?:about|approx\.?|approximately|around|~|almost|nearly|over|>|roughly)?\s*"
        r"(?P<n>" + _NUM + r")[\s-]*(?P<u>" + _UNIT + r")\b",
        re.IGNORECASE,
    ),
    # "3-week history", "3 day hx", "2 weeks of back pain", "10 days ago"
    re.compile(
        r"\b(?=[\dacefnost])(?P<n>"
        + _NUM
        + r")[\s-]*(?P<u>"
        + _UNIT
        + r")[\s-]*(?:history|hx|h/o|of\b|duration|ago|old)",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?=[lp])(?:past|last)\s+(?P<u>week|month|year|fortnight)\b", re.IGNORECASE),
    re.compile(r"\b(?=[ao])(?:a|one)\s+(?P<u>fortnight)\b", re.IGNORECASE),
]
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_SINCE = re.compile(
    r"\b(?=[bfos])(?:since|from|started|began|onset)\s+(?:on\s+|last\s+)?"
    r"(?P<when>monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|last night|"
    r"this morning|today|the weekend|last week|last month)\b",
    re.IGNORECASE,
)
_START_DATE = re.compile(
    r"\b(?:since|from|started|began|onset)\s+(?:on\s+)?(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"
)


# Per duration pattern: words one of which its every match holds (see ``_search``).
_DURATION_NEEDS: list[tuple[str, ...]] = [(), (), (), (), (), ("fortnight",)]


def find_duration(text: str, today: date | None) -> Found[int] | None:
    best: Found[int] | None = None
    lower = text.lower() if text.isascii() else None
    for pattern, needs in zip(_DURATION_PATTERNS, _DURATION_NEEDS, strict=True):
        if needs and lower is not None and not any(needed in lower for needed in needs):
            continue  # no match in this text
        for m in pattern.finditer(text):
            groups = m.groupdict()
            unit = groups["u"].lower().rstrip(".")
            if unit == "fortnight":
                days = 14
            elif "n" in groups and groups["n"] is not None:
                per = _UNIT_DAYS.get(unit)
                if per is None:
                    continue
                days = round(_number(groups["n"]) * per)
            else:
                days = {"week": 7, "month": 30, "year": 365}[unit]
            if unit in {"m"} and not re.search(r"\d", groups.get("n") or ""):
                continue
            if best is None or m.start() < best.start:
                best = Found(days, m.start(), m.end())
            break
    if today is not None:
        for m in _SINCE.finditer(text):
            since = _days_since(m.group("when").lower(), today)
            if since is not None and (best is None or m.start() < best.start):
                best = Found(since, m.start(), m.end())
            break
        for m in _START_DATE.finditer(text):
            try:
                start = date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
            except ValueError:
                continue
            if start <= today and (best is None or m.start() < best.start):
                best = Found((today - start).days, m.start(), m.end())
            break
    return best


def _days_since(when: str, today: date) -> int | None:
    if when in _WEEKDAYS:
        # "since Monday" on a Monday means a week ago: today would be "since this morning".
        back = (today.weekday() - _WEEKDAYS.index(when)) % 7
        return back or 7
    fixed = {"yesterday": 1, "last night": 1, "this morning": 0, "today": 0,
             "last week": 7, "last month": 30}  # fmt: skip
    if when in fixed:
        return fixed[when]
    if when == "the weekend":
        saturday = today - timedelta(days=(today.weekday() - 5) % 7 or 7)
        return (today - saturday).days
    return None


# --- conservative therapy -------------------------------------------------------------------
_CARE = (
    r"(?:conservative\s+(?:management|treatment|therapy|care|measures)|physio(?:therapy)?|PT|"
    r"physical\s+therapy|NSAIDs?|anti-?inflammatories|analgesia|painkillers|chiropractic|"
    r"chiropractor|osteopathy|exercises?|exercise\s+programme|home\s+exercises|HEP|McKenzie|"
    r"non-?operative\s+(?:management|treatment))"
)
_CARE_PATTERNS = [
    re.compile(
        r"\b(?=[\dacefnost])(?P<n>"
        + _NUM
        + r")[\s-]*(?P<u>weeks?|wks?|months?|mths?|/52|/12|days?)\s+(?:of\s+)?"
        r"(?:failed\s+|unsuccessful\s+|regular\s+|supervised\s+)?" + _CARE,
        re.IGNORECASE,
    ),
    re.compile(
        _CARE
        + r"\s+(?:\w+\s+){0,4}?(?:for|over|x)\s+(?:the\s+)?(?:past\s+|last\s+)?(?P<n>"
        + _NUM
        + r")[\s-]*(?P<u>weeks?|wks?|months?|mths?|/52|/12|days?)\b",
        re.IGNORECASE,
    ),
]


_CARE_HINT = re.compile(
    r"(?=[acehimnop])(?:conservative|physio|\bPT\b|physical\s+therapy|NSAID|inflammator|"
    r"analgesia|painkiller|chiropract|osteopath|exercise|\bHEP\b|McKenzie|operative)",
    re.IGNORECASE,
)


def find_conservative_weeks(text: str) -> Found[float] | None:
    best: Found[float] | None = None
    # The full patterns are slow to try at every position; look near the care words only.
    for hint in _CARE_HINT.finditer(text):
        lo, hi = max(0, hint.start() - 40), min(len(text), hint.end() + 80)
        found = _care_near(text, lo, hi)
        if found is not None and (best is None or found.start < best.start):
            best = found
        if best is not None and best.start <= hint.start():
            break
    return best


def _care_near(text: str, lo: int, hi: int) -> Found[float] | None:
    best: Found[float] | None = None
    for pattern in _CARE_PATTERNS:
        m = pattern.search(text, lo, hi)
        if m is None:
            continue
        unit = m.group("u").lower()
        n = _number(m.group("n"))
        if unit.startswith(("month", "mth")) or unit == "/12":
            weeks = n * 30 / 7
        elif unit.startswith("day"):
            weeks = n / 7
        else:
            weeks = n
        if best is None or m.start() < best.start:
            best = Found(round(weeks, 1), m.start(), m.end())
    return best


# --- measurements ---------------------------------------------------------------------------
_TEMP = re.compile(
    r"\b(?=[fmpst])(?:(?:my\s+)?temp(?:erature)?\.?(?:\s*\((?:oral|tympanic|axillary|rectal)\))?"
    r"(?:\s+(?:was|is|of|up\s+to|reading|reached|peaked\s+at))?|T|tmax|t\s*max|"
    r"febrile(?:\s+to)?|pyrexial(?:\s+to)?|pyrexia\s+of|fever\s+of|thermometer\s+(?:said|read|showed)|"
    r"spiked(?:\s+(?:a\s+)?(?:temp(?:erature)?|fever))?(?:\s+(?:to|of|at))?)\s*[:=]?\s*(?:of\s+)?"
    r"(?P<v>\d{2,3}(?:\.\d+)?)(?!\d|\s*(?:mins?\b|minutes|%|/10|out\s+of|times))\s*(?P<u>°\s*[CF]|º\s*[CF]|deg(?:rees)?\s*[CF]?|[CF]\b|celsius|fahrenheit)?",
    re.IGNORECASE,
)
# A number is a temperature by its unit alone only when the unit says so: "39.2 °C", "39C",
# "38.9 degrees" (bare "degrees" needs a decimal: "SLR at 40 degrees" is an angle).  A bare
# "F" is left out ("72F" is an age and sex), and a bare "39" stays unread.
_TEMP_UNIT = re.compile(
    r"(?<![\w.])(?P<v>\d{2}(?:\.\d+)?)\s*(?:[°º]\s*C|deg(?:rees)?\s*C|C(?![\w-])|celsius)"
    r"|(?<![\w.])(?P<d>\d{2}\.\d+)\s*deg(?:rees)?\b",
    re.IGNORECASE,
)
# After a value: the whole number ("ESR 30 days" must not read "3"), and not a time ("ESR 3
# days ago 65": 3 is no ESR).
_NOT_A_TIME = (
    r"(?!\d|[.,]\d)(?!\s*(?:days?|weeks?|wks?|months?|hours?|hrs?|years?|yrs?|/\s*(?:7|52|12))\b)"
)
_ESR = re.compile(
    r"\b(?:ESR|sed(?:imentation)?\s+rate)\s*(?:of|was|is|:|=|-(?!>)|"
    r"(?:raised|elevated|high|up)\s*(?:at|to|of)?\s*\(?)?\s*(?:>\s*)?(?P<v>\d{1,3}(?:\.\d+)?)"
    + _NOT_A_TIME
    + r"\s*(?:mm\s*/\s*h(?:r|our)?|mm/1st\s*hr|mm)?",
    re.IGNORECASE,
)
# "CRP >300" is at least 300, so reading the number is safe for a high threshold; "CRP <5" is
# below 5, and reading 5 states no CRP over 10 either.
_CRP = re.compile(
    r"\b(?:CRP|C-reactive\s+protein)\s*(?:of|was|is|:|=|-(?!>)|"
    r"(?:raised|elevated|high|up)\s*(?:at|to|of)?\s*\(?)?\s*(?:[<>]\s*)?(?P<v>\d{1,4}(?:\.\d+)?)"
    + _NOT_A_TIME
    + r"\s*(?P<u>mg\s*/\s*dl|mg\s*/\s*l|mg/L)?",
    re.IGNORECASE,
)
_WBC = re.compile(
    r"\b(?=[lw])(?:WBC|WCC|white\s+(?:cell|blood\s+cell)\s+count|white\s+count|leucocytes|leukocytes)\s*(?:of|was|is|:|=)?\s*"
    r"(?P<v>\d{1,3}(?:[.,]\d+)?)"
    + _NOT_A_TIME
    + r"\s*(?P<u>x\s*10\s*\^?\s*9\s*/\s*l|x\s*10\s*\^?\s*3\s*/\s*(?:u|µ|μ)l"
    r"|k/(?:u|µ|μ)l|/(?:mm3|µl|μl|ul)|×\s*10\^?9/l)?",
    re.IGNORECASE,
)


# A trend after a value: "CRP 5 -> 150", "T 37.8 then 39.1", "ESR 40, rising to 85".
_TREND = re.compile(
    r"[ \t]*,?[ \t]*(?:-+>|→|=>|then|(?:rising|rose|risen|up|increasing|increased)[ \t]+to|now)"
    r"[ \t]*(?P<v>\d{1,4}(?:\.\d+)?)" + _NOT_A_TIME,
    re.IGNORECASE,
)


def _with_trend(m: re.Match[str], text: str) -> Iterator[tuple[float, int, int]]:
    """The value of ``m`` and those of a trend right after it, with their spans."""
    yield float(m.group("v")), m.start(), m.end()
    at = m.end()
    while (t := _TREND.match(text, at)) is not None:
        yield float(t.group("v")), t.start("v"), t.end()
        at = t.end()


def find_measurements(text: str) -> dict[str, list[Found[float]]]:
    """Every temperature, ESR, CRP and white count stated in ``text``, in SI units, in order.

    A note may give several ("T 37.2 now, Tmax 39.4 overnight", "CRP 5 -> 150"): all are
    returned, and the reader uses the highest (see :meth:`TextReader.read`).
    """
    out: dict[str, list[Found[float]]] = {}

    def add(key: str, value: float, start: int, end: int) -> None:
        end = start + len(text[start:end].rstrip())  # the unit's optional space is no evidence
        out.setdefault(key, []).append(Found(value, start, end))

    for m in _TEMP.finditer(text):
        unit = (m.group("u") or "").lower().replace(" ", "")
        for value, start, end in _with_trend(m, text):
            fahrenheit = (
                unit.endswith("f")
                or "fahrenheit" in unit
                or (not unit.endswith("c") and 93 <= value <= 110)
            )
            celsius = value if not fahrenheit else (value - 32) * 5 / 9
            if 30 <= celsius <= 44:
                add("temperature_c", round(celsius, 1), start, end)
    for m in _finditer(_TEMP_UNIT, text, ("c", "deg")):
        value = float(m.group("v") or m.group("d"))
        start, end = m.span()
        labelled = out.get("temperature_c", [])
        if any(f.start <= start < f.end or start <= f.start < end for f in labelled):
            continue  # "T 38.9°C" was read with its label
        if 30 <= value <= 44:
            add("temperature_c", value, start, end)
    for m in _finditer(_ESR, text, ("esr", "sed")):
        for value, start, end in _with_trend(m, text):
            if value <= 200:
                add("esr_mm_h", value, start, end)
    for m in _finditer(_CRP, text, ("crp", "reactive")):
        unit = (m.group("u") or "").lower().replace(" ", "")
        for value, start, end in _with_trend(m, text):
            value = value * 10 if unit == "mg/dl" else value
            if value <= 1000:
                add("crp_mg_l", round(value, 2), start, end)
    for m in _finditer(_WBC, text, ("wbc", "wcc", "white", "leucocytes", "leukocytes")):
        raw = m.group("v")
        unit = (m.group("u") or "").lower().replace(" ", "")
        if "," in raw and len(raw.split(",")[1]) == 3:
            value = float(raw.replace(",", "")) / 1000  # "14,200" per µL
        else:
            value = float(raw.replace(",", "."))
            if unit.startswith("/") or value > 500:
                value = value / 1000
        if value <= 500:
            add("wbc_10e9_l", round(value, 2), m.start(), m.end())
    return out


# --- location and side -----------------------------------------------------------------------
_LEVEL = (
    r"(?:mid[\s-]*(?:to[\s-]*)?lower|mid[\s-]*low|lower|low|upper|mid|middle|"
    r"thoraco[\s-]*lumbar|lumbo[\s-]*sacral|lumbar|sacral|thoracic|sacroiliac|si|paraspinal|"
    r"central|midline|l4/5|l5/s1)"
)
_SIDE = r"(?:left|right|bilateral|both[\s-]sided|central|midline|l|r|lt|rt)(?:[\s-]*sided)?"
_LOCATION = re.compile(
    r"\b(?P<loc>(?:"
    + _SIDE
    + r"|"
    + _LEVEL
    + r")(?:[\s,-]+(?:and\s+)?(?:"
    + _SIDE
    + r"|"
    + _LEVEL
    + r"))*)"
    r"[\s-]+(?P<what>back\s*pain|back|lbp|spine|spinal\s+pain|lumbar\s+(?:region|pain|spine)|region|pain)\b",
    re.IGNORECASE,
)
_THORACOLUMBAR = re.compile(r"\b(thoraco[\s-]*lumbar|lumbo[\s-]*sacral)\b", re.IGNORECASE)
_SIDE_WORDS: dict[str, Side] = {
    "left": "left", "l": "left", "lt": "left", "right": "right", "r": "right", "rt": "right",
    "bilateral": "bilateral", "both": "bilateral", "central": "central", "midline": "central",
}  # fmt: skip


@dataclass(frozen=True)
class Location:
    location: str | None
    side: Side | None
    start: int
    end: int


def find_location(text: str) -> Location | None:
    for m in _LOCATION.finditer(text):
        loc = m.group("loc")
        words = [w for w in re.split(r"[\s,]+", loc.lower()) if w and w != "and"]
        what = m.group("what").lower()
        if what in {"pain", "region"} and not any(re.fullmatch(_LEVEL, w) for w in words):
            continue  # "left pain" says nothing about the back
        if what == "lbp":
            words.append("lower")
        if (
            len(loc.strip()) <= 2
            and what in {"back", "spine"}
            and loc.strip().lower() in {"l", "r"}
        ):
            pass
        side: Side | None = None
        for w in words:
            key = w.replace("-sided", "").replace("sided", "").strip("- ")
            key = key.split("-")[0] if key.startswith("both") else key
            if key in _SIDE_WORDS:
                side = _SIDE_WORDS[key]
        cleaned = []
        for w in words:
            w2 = w.replace("-sided", "").replace("sided", "").strip("- ")
            full = {"l": "left", "lt": "left", "r": "right", "rt": "right", "low": "lower"}.get(
                w2, w2
            )
            if full:
                cleaned.append(full)
        location = " ".join(cleaned) if cleaned else None
        return Location(location, side, m.start("loc"), m.end("loc"))
    m2 = _search(_THORACOLUMBAR, text, ("thoraco", "lumbo"))
    if m2 is not None:
        return Location(m2.group(1).lower(), None, m2.start(), m2.end())
    return None
