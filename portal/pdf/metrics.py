"""How wide a text is in the PDFs' typeface, so the statement can place its columns before WeasyPrint draws them.

The PDFs name Helvetica, Arial, sans-serif; on Linux fontconfig gives Liberation Sans, whose advance widths
are Arial's and Helvetica's by design. The tables hold Liberation Sans Regular's and Bold's advance widths
in font units (2,048 to the em), read from each font's `hmtx` table with fontTools and grouped by width.
The statement's rows are set with kerning and ligatures off, so Pango advances exactly these widths.
"""

UNITS_PER_EM = 2048


class _Widths(dict):
    """Advance widths in ems by character; a character outside the table counts as a full em (another
    script, drawn from a fallback font): wider than almost any glyph, so an unknown text wraps early
    rather than running into the next column."""

    def __missing__(self, char: str) -> float:
        return 1.0


def _table(groups: dict[int, str]) -> _Widths:
    return _Widths({char: units / UNITS_PER_EM for units, chars in groups.items() for char in chars})


_REGULAR = _table({
    391: "'",
    455: "ijlįĵĺļłſ‘’",
    532: "|¦",
    569: " !,./:;I[\\]ft\xa0·ÌÍÎÏìíîïĨĩĪīĬĭĮİıţŧ·",
    597: "ľ",
    682: "()-`r¡¨²³´¸¹ŕŗř“”",
    684: "{}ŀ",
    717: "•",
    727: '"',
    748: "º",
    758: "ª",
    768: "ť",
    797: "*",
    819: "°",
    909: "ĳ",
    961: "^",
    1024: "JcksvxyzçýÿćĉċčĴķĸśŝşšŷźżž",
    1100: "¶",
    1124: "±÷",
    1131: "¯",
    1139: "#$0123456789?L_abdeghnopqu¢£¤¥§«»àáâãäåèéêëðñòóôõöùúûüþāăąđēĕėęěĝğġģĥħĹĻĽĿŁńņňŋōŏőũūŭůűų–€",
    1180: "µ",
    1196: "+<=>~¬×−",
    1237: "ŉ",
    1251: "FTZ¿ßøŢŤŦŹŻŽ",
    1259: "ď",
    1366: "&ABEKPSVXYÀÁÂÃÄÅÈÉÊËÝÞĀĂĄĒĔĖĘĚĶŚŜŞŠŶŸ",
    1479: "CDHNRUwÇÐÑÙÚÛÜĆĈĊČĎĐĤĦŃŅŇŔŖŘŨŪŬŮŰŲŵ",
    1481: "Ŋ",
    1505: "Ĳ",
    1509: "©®",
    1593: "GOQÒÓÔÕÖØĜĞĠĢŌŎŐ",
    1706: "Mm",
    1708: "¼½¾",
    1821: "%æ",
    1933: "WœŴ",
    2048: "ÆŒ—…",
    2079: "@",
})
_BOLD = _table({
    487: "'",
    569: " ,./I\\ijl\xa0·ÌÍÎÏìíîïĨĩĪīĬĭĮįİıĵĺļłſ·‘’",
    573: "|¦",
    682: "!()-:;[]`ft¡¨²³´¸¹ţŧ",
    717: "•",
    748: "º",
    758: "ª",
    789: "ľ",
    797: "*r{}ŕŗř",
    819: "°",
    971: '"',
    981: "ŀť",
    1024: "zźżž“”",
    1124: "±÷",
    1131: "¯",
    1139: "#$0123456789J_aceksvxy¢£¤¥§«¶»àáâãäåçèéêëýÿāăąćĉċčēĕėęěĳĴķĸśŝşšŷ–€",
    1180: "µ",
    1196: "+<=>^~¬×−",
    1251: "?FLTZbdghnopqu¿ßðñòóôõöøùúûüþđĝğġģĥħĹĻĽĿŁńņňŋōŏőŢŤŦũūŭůűųŹŻŽ",
    1366: "EPSVXYÈÉÊËÝÞĒĔĖĘĚŚŜŞŠŶŸ",
    1451: "ŉ",
    1472: "ď",
    1479: "&ABCDHKNRUÀÁÂÃÄÅÇÐÑÙÚÛÜĀĂĄĆĈĊČĎĐĤĦĶŃŅŇŔŖŘŨŪŬŮŰŲ",
    1481: "Ŋ",
    1509: "©®",
    1593: "GOQwÒÓÔÕÖØĜĞĠĢŌŎŐŵ",
    1607: "Ĳ",
    1706: "M",
    1708: "¼½¾",
    1821: "%mæ",
    1933: "WœŴ",
    1997: "@",
    2048: "ÆŒ—…",
})



def text_width(text: str, size_pt: float, *, bold: bool = False) -> float:
    """The width of `text` set in `size_pt` points, in points."""
    return sum(map((_BOLD if bold else _REGULAR).__getitem__, text)) * size_pt


def wrap(text: str, width_pt: float, size_pt: float, *, bold: bool = False) -> list[str]:
    """`text` broken into lines no wider than `width_pt`: at spaces, and inside a word only when the word
    alone is wider than the line. Always at least one line (an empty text is one empty line)."""
    lines: list[str] = []
    current, used = "", 0.0
    space = text_width(" ", size_pt, bold=bold)
    for word in text.split():
        width = text_width(word, size_pt, bold=bold)
        if current and used + space + width <= width_pt:
            current, used = f"{current} {word}", used + space + width
            continue
        if current:
            lines.append(current)
        while width > width_pt:  # a word longer than the line (a reference without spaces): cut it
            cut = _fitting_prefix(word, width_pt, size_pt, bold)
            lines.append(word[:cut])
            word = word[cut:]
            width = text_width(word, size_pt, bold=bold)
        current, used = word, width
    lines.append(current)
    return lines


def _fitting_prefix(word: str, width_pt: float, size_pt: float, bold: bool) -> int:
    """How many characters of `word` fit in `width_pt` (at least one, so cutting always moves on)."""
    used = 0.0
    for index, char in enumerate(word):
        used += text_width(char, size_pt, bold=bold)
        if used > width_pt:
            return max(index, 1)
    return len(word)
