"""``check -f html``: one self-contained HTML page of a run, for people and for print.

The page holds everything it shows: styles are inline in one ``<style>``, the chart is inline
SVG, and there are no scripts, fonts, images or links outside the page, so it opens offline and
can be mailed or archived as one file. It is built with lxml element builders, so every value
read from a claim file is escaped as text, never spliced into markup; control characters are
shown as visible escapes (:func:`~edi837.reports.escape.escape_text`).

Contents: totals by severity and by code (with a bar chart of findings per code, stacked by
severity, and a one-line description of each rule), a table of files, then for each file the
claims that have findings. A claim card shows what a billing manager needs to find the claim in
the practice system: patient name and member id, payer, billing NPI, total charge as money;
then its service lines (dates as dates, charges as money, the NDC with its quantity and unit,
the 96372 line each drug line is paired with) and its findings, each with its segment and the
offending element marked (``<mark>``). Clean claims are counted, not listed.

Claims can be filtered by severity and by rule code without any script: radio buttons and CSS
``:has()`` rules hide the cards (and finding rows) that do not match; printing shows what is
on screen, without the filter controls.

Memory: the page is written while results arrive (:func:`write_html` takes an iterable). Each
file's claim cards are serialised one at a time to a temporary file, since the totals at the
top of the page are known only at the end; then the head, totals and file table are written
and the cards copied after them. What stays in memory is one file's result and one card.

With ``redact``, patient data is masked (:mod:`edi837.redaction`): patient name, member id
and billing NPI on the card, and the values of NM1, N3, N4, DMG, person REF and PER segments in
segment text and messages.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import BinaryIO, TextIO

from lxml import etree
from lxml import html as lxml_html

from edi837.causes import by_cause
from edi837.engine import ClaimView, FileResult, LineView
from edi837.findings import Applicability, Finding, Severity
from edi837.redaction import MASK, redact_finding_message, redact_finding_text
from edi837.reports.escape import escape_text
from edi837.reports.stream import text_target
from edi837.reports.summary import Totals, add_result
from edi837.version import __version__

Element = etree._Element

#: Worst first, as the page lists them.
SEVERITIES = (Severity.REJECT, Severity.DENY_RISK, Severity.WARNING)
COLOURS = {
    Severity.REJECT: "#b3261e",
    Severity.DENY_RISK: "#c15c00",
    Severity.WARNING: "#1d5fa8",
}

# Characters that HTML cannot carry at all (noncharacters); control characters are shown as
# visible escapes (escape_text) before this applies.
_NOT_TEXT = re.compile("[\ufffe\uffff]")

STYLE = """
:root { --reject: #b3261e; --deny-risk: #c15c00; --warning: #1d5fa8; --ok: #2e7d32;
  --line: #d8dce3; --muted: #5f6673; --soft: #f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1.5rem 2rem 3rem; color: #1b1f24;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; padding-bottom: .3rem;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; overflow-wrap: anywhere; }
h4 { font-size: 1rem; margin: 0 0 .35rem; overflow-wrap: anywhere; }
p { margin: .3rem 0 .6rem; }
.muted, .meta { color: var(--muted); }
nav { margin: .5rem 0 0; font-size: .9rem; }
nav a { margin-right: 1rem; color: #1d5fa8; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem;
  border-bottom: 1px solid var(--line); }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td code { white-space: nowrap; }
table.narrow { width: auto; min-width: 24rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.path, td.error { overflow-wrap: anywhere; }
td.error { color: var(--reject); }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono",
  monospace; font-size: .85rem; }
pre.segment { margin: .35rem 0 0; padding: .3rem .45rem; background: var(--soft);
  border-left: 3px solid var(--line); white-space: pre-wrap; overflow-wrap: anywhere; }
mark { background: #ffe08a; color: inherit; outline: 1px solid #d9a400; border-radius: 2px; }
mark.absent { background: #ffb4a8; outline-color: var(--reject); }
.tiles { display: flex; gap: .75rem; flex-wrap: wrap; margin: .5rem 0 1rem; }
.tile { flex: 1 1 9rem; padding: .6rem .9rem; border: 1px solid var(--line);
  border-top: 5px solid var(--muted); border-radius: 6px; }
.tile .count { display: block; font-size: 1.7rem; font-weight: 700; }
.tile.reject { border-top-color: var(--reject); }
.tile.deny-risk { border-top-color: var(--deny-risk); }
.tile.warning { border-top-color: var(--warning); }
.sev { display: inline-block; padding: 0 .45rem; border-radius: 999px; color: #fff;
  font-size: .8rem; font-weight: 600; white-space: nowrap; }
.sev.reject { background: var(--reject); }
.sev.deny-risk { background: var(--deny-risk); }
.sev.warning { background: var(--warning); }
.status { font-weight: 600; }
.status.ok { color: var(--ok); }
.status.findings { color: var(--deny-risk); }
tr.consequence td.code { padding-left: 2em; }
.follows { display: block; font-size: 0.85em; color: #666; }
.status.error { color: var(--reject); }
.chart { width: 100%; max-width: 46rem; height: auto; display: block; margin: .5rem 0; }
.claim { border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem;
  margin: 0 0 1rem; }
tr.flagged td { background: #fff6e0; }
td.fix { color: #245c2a; }
td.code .rule, td.rule { display: block; color: var(--muted); font-size: .8rem;
  max-width: 16rem; }
td.rule { display: table-cell; max-width: 28rem; }
td.date { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.ndc .ndc-amount { color: var(--muted); white-space: nowrap; }
td.paired { white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr));
  gap: .3rem 1rem; margin: .2rem 0 .7rem; }
dl.facts .fact { margin: 0; }
dl.facts dt { font-size: .75rem; text-transform: uppercase; letter-spacing: .03em;
  color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: 0 0 1rem;
  padding: .5rem .8rem; background: var(--soft); border-radius: 6px; }
form.filters fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap;
  align-items: center; gap: .2rem .6rem; }
form.filters legend { float: left; font-weight: 600; margin-right: .4rem; padding: 0; }
form.filters label { font-size: .85rem; margin-right: .2rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav, form.filters { display: none; }
  a { color: inherit; text-decoration: none; }
  dl.facts { grid-template-columns: repeat(4, 1fr); }
  h2 { break-after: avoid; }
  .claim, tr, .tile { break-inside: avoid; }
  th, .tile, .sev, mark, tr.flagged td, pre.segment {
    -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _text(value: object) -> str:
    """A value as page text: control characters a damaged file may hold shown escaped."""
    return _NOT_TEXT.sub("\ufffd", escape_text(str(value), keep="\t\n\r"))


def _add(parent: Element, tag: str, text: object = None, **attrs: str | None) -> Element:
    """Append a child element with text and attributes (lxml escapes both).

    ``class_`` sets ``class`` and ``aria_label`` sets ``aria-label``; ``None`` leaves an
    attribute out.
    """
    attrib = {
        key.rstrip("_").replace("_", "-"): _text(value)
        for key, value in attrs.items()
        if value is not None
    }
    child = etree.SubElement(parent, tag, attrib)
    if text is not None:
        child.text = _text(text)
    return child


def _row(table: Element, cells: Iterable[object], header: bool = False) -> Element:
    row = _add(table, "tr")
    for cell in cells:
        _add(row, "th" if header else "td", "" if cell is None else cell)
    return row


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _severity(parent: Element, severity: Severity, text: str | None = None) -> Element:
    return _add(parent, "span", text or severity.value, class_=f"sev {severity.value}")


# ---------------------------------------------------------------- totals


def _tiles(parent: Element, total: Totals) -> None:
    tiles = _add(parent, "div", class_="tiles")
    for severity in SEVERITIES:
        tile = _add(tiles, "div", class_=f"tile {severity.value}")
        _add(tile, "span", total.by_severity.get(severity, 0), class_="count").tail = " "
        _add(tile, "span", severity.value, class_="label")
    fixable = _add(tiles, "div", class_="tile")
    _add(fixable, "span", total.safe_fixes, class_="count").tail = " "
    more = f" (+{total.unsafe_fixes} unsafe)" if total.unsafe_fixes else ""
    _add(fixable, "span", f"fixable with edi837 fix{more}", class_="label")


def _count_codes(codes: dict[str, Counter[Severity]], result: FileResult) -> None:
    for finding in result.findings:
        codes.setdefault(finding.code, Counter())[finding.severity] += 1


def _ranked(codes: dict[str, Counter[Severity]]) -> dict[str, Counter[Severity]]:
    return dict(sorted(codes.items(), key=lambda item: (-sum(item[1].values()), item[0])))


def _chart(parent: Element, codes: dict[str, Counter[Severity]]) -> None:
    """A horizontal bar per code, stacked by severity, as inline SVG."""
    label_width, bar_width, count_width = 96, 440, 48
    row_height, bar_height, top = 24, 15, 6
    width = label_width + bar_width + count_width
    height = top + row_height * len(codes) + 30
    most = max(sum(c.values()) for c in codes.values())
    svg = _add(
        parent,
        "svg",
        id="chart-by-code",
        class_="chart",
        viewBox=f"0 0 {width} {height}",
        width=str(width),
        height=str(height),
        role="img",
        aria_label="Findings per rule code, stacked by severity",
    )
    _add(svg, "title", "Findings per rule code, stacked by severity")
    for index, (code, counts) in enumerate(codes.items()):
        y = top + index * row_height
        _add(
            svg,
            "text",
            code,
            x=str(label_width - 8),
            y=str(y + bar_height - 3),
            text_anchor="end",
            font_size="12",
            font_family="monospace",
            fill="#1b1f24",
        )
        x = float(label_width)
        for severity in SEVERITIES:
            n = counts.get(severity, 0)
            if not n:
                continue
            span = max(bar_width * n / most, 2.0)
            rect = _add(
                svg,
                "rect",
                x=f"{x:.1f}",
                y=str(y),
                width=f"{span:.1f}",
                height=str(bar_height),
                fill=COLOURS[severity],
                class_=f"bar {severity.value}",
            )
            _add(rect, "title", f"{code}: {n} {severity.value}")
            x += span
        _add(
            svg,
            "text",
            sum(counts.values()),
            x=f"{x + 6:.1f}",
            y=str(y + bar_height - 3),
            font_size="12",
            fill="#1b1f24",
        )
    legend_y = top + row_height * len(codes) + 8
    x = float(label_width)
    for severity in SEVERITIES:
        _add(
            svg,
            "rect",
            x=f"{x:.1f}",
            y=str(legend_y),
            width="11",
            height="11",
            fill=COLOURS[severity],
        )
        _add(svg, "text", severity.value, x=f"{x + 16:.1f}", y=str(legend_y + 10), font_size="12")
        x += 110


def _totals(body: Element, codes: dict[str, Counter[Severity]], total: Totals) -> None:
    section = _add(body, "section", id="totals")
    _add(section, "h2", "Totals")
    _tiles(section, total)
    if not codes:
        _add(section, "p", "No findings.", class_="muted")
        return
    _add(section, "h3", "Findings by code")
    _chart(section, codes)
    table = _add(section, "table", id="by-code", class_="narrow")
    head = _add(table, "tr")
    for title in ("Code", "Severity"):
        _add(head, "th", title)
    _add(head, "th", "Findings", class_="num")
    _add(head, "th", "What the rule checks")
    for code, counts in codes.items():
        row = _add(table, "tr")
        _add(row, "td").append(_code(code))
        cell = _add(row, "td")
        for severity in SEVERITIES:
            if counts.get(severity):
                _severity(cell, severity, f"{counts[severity]} {severity.value}").tail = " "
        _add(row, "td", sum(counts.values()), class_="num")
        _add(row, "td", rule_summary(code), class_="rule")


def _code(text: str) -> Element:
    element = etree.Element("code")
    element.text = _text(text)
    return element


# ---------------------------------------------------------------- values


@cache
def _rule_summaries() -> dict[str, str]:
    from edi837.rules import default_registry

    return {rule.code: rule.summary for rule in default_registry().all()}


def rule_summary(code: str) -> str:
    """The one-line description of a rule code (its catalogue summary), ``""`` if unknown."""
    return _rule_summaries().get(code, "")


def as_date(text: str) -> str:
    """An X12 date (D8 ``CCYYMMDD`` or RD8 ``CCYYMMDD-CCYYMMDD``) as ``2025-03-14``.

    Anything else is shown as sent, so a malformed date stays visible as it is.
    """

    def one(value: str) -> str | None:
        if len(value) == 8 and value.isdecimal():
            return f"{value[:4]}-{value[4:6]}-{value[6:]}"
        return None

    single = one(text)
    if single is not None:
        return single
    first, dash, last = text.partition("-")
    start, end = one(first), one(last)
    if dash and start is not None and end is not None:
        return start if start == end else f"{start} to {end}"
    return text


def as_money(text: str) -> str:
    """An X12 amount (type R: ``168``, ``35.5``) as money: ``$168.00``; else as sent."""
    if not text or len(text) > 18 or not text.replace(".", "", 1).lstrip("-").isdecimal():
        return text
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def _masked(value: str, redact: bool) -> str:
    return MASK if redact and value else value


# ---------------------------------------------------------------- files


@dataclass
class _FileRow:
    """What the file table needs of a result, kept after its findings are written out."""

    path: str
    status: str
    claims: int
    service_lines: int
    counts: Counter[Severity]
    error: str

    @classmethod
    def of(cls, result: FileResult) -> _FileRow:
        counts = Counter(f.severity for f in result.findings)
        return cls(
            result.path,
            result.status,
            result.claims,
            result.service_lines,
            counts,
            result.error or "",
        )


def _files(body: Element, rows: Sequence[_FileRow]) -> None:
    section = _add(body, "section", id="files")
    _add(section, "h2", "Files")
    table = _add(section, "table", id="file-table")
    head = _add(table, "tr")
    for title, numeric in (
        ("Path", False),
        ("Status", False),
        ("Claims", True),
        ("Service lines", True),
        *((s.value, True) for s in SEVERITIES),
        ("Error", False),
    ):
        _add(head, "th", title, class_="num" if numeric else None)
    for file in rows:
        row = _add(table, "tr")
        _add(row, "td", file.path, class_="path")
        _add(row, "td", file.status, class_=f"status {file.status}")
        _add(row, "td", file.claims, class_="num")
        _add(row, "td", file.service_lines, class_="num")
        for severity in SEVERITIES:
            _add(row, "td", file.counts.get(severity, 0), class_="num")
        _add(row, "td", file.error, class_="error")


# ---------------------------------------------------------------- claims


@dataclass
class _ClaimGroup:
    """The findings of one claim, with its view when the run kept claim detail."""

    key: tuple[str | None, str | None, str]
    view: ClaimView | None = None
    findings: list[Finding] = field(default_factory=list)


def _group(result: FileResult) -> tuple[list[_ClaimGroup], list[Finding], int]:
    """Claims with findings in file order, findings outside claims, and clean claims."""
    groups = [_ClaimGroup((v.interchange, v.transaction, v.id), v) for v in result.claim_views]
    by_key: dict[tuple[str | None, str | None, str], list[_ClaimGroup]] = {}
    for group in groups:
        by_key.setdefault(group.key, []).append(group)
    outside: list[Finding] = []
    for finding in result.findings:
        if finding.claim is None:
            outside.append(finding)
            continue
        key = (finding.interchange, finding.transaction, finding.claim)
        candidates = by_key.get(key)
        if not candidates:
            candidates = [_ClaimGroup(key)]
            by_key[key] = candidates
            groups.append(candidates[0])
        _pick(candidates, finding).findings.append(finding)
    shown = [g for g in groups if g.findings]
    # The engine keeps views only of claims with findings: the others are counted.
    clean = max(result.claims - len(shown), 0)
    return shown, outside, clean


def _pick(candidates: list[_ClaimGroup], finding: Finding) -> _ClaimGroup:
    """The claim a finding belongs to when a claim id repeats in one transaction.

    Claims of the same id are told apart by position: the last one whose first service line
    starts before the finding's segment.
    """
    if len(candidates) == 1 or finding.segment_number is None:
        return candidates[0]
    chosen = candidates[0]
    for candidate in candidates:
        view = candidate.view
        if view is None or not view.lines:
            continue
        if view.lines[0].segment_number <= finding.segment_number:
            chosen = candidate
    return chosen


def _segment(parent: Element, finding: Finding, redact: bool) -> None:
    """The segment text with the offending element marked."""
    text, column, width = finding.segment_text, finding.column, finding.width
    if redact:
        text, column, width = redact_finding_text(finding)
    if text is None:
        return
    pre = _add(parent, "pre", class_="segment")
    width = max(width or 1, 1)
    if column is None or column < 0:
        pre.text = _text(text)
        return
    pre.text = _text(text[:column])
    if column >= len(text):
        mark = _add(pre, "mark", "\u00a0", class_="absent", title="element absent")
    else:
        mark = _add(pre, "mark", text[column : column + width], title=finding.element or "")
    mark.tail = _text(text[column + width :])


def _location(finding: Finding) -> str:
    parts = []
    if finding.element:
        parts.append(finding.element)
    elif finding.segment_id:
        parts.append(finding.segment_id)
    if finding.segment_number is not None:
        where = f"segment {finding.segment_number}"
        if finding.line_number is not None:
            where += f" (file line {finding.line_number})"
        parts.append(where)
    if finding.loop:
        parts.append(f"loop {finding.loop}")
    if finding.line is not None:
        parts.append(f"service line {finding.line}")
    return ", ".join(parts) or "file"


def _fix(finding: Finding) -> str:
    fix = finding.fix
    if fix is None:
        return ""
    if not fix.concrete:
        return f"suggestion: {fix.description}"
    return f"fix ({fix.applicability.value}): {fix.description}"


def _code_class(code: str) -> str | None:
    """The CSS class that the code filter selects on (codes are letters, digits and '-')."""
    return f"code-{code}" if _CLASS_SAFE.fullmatch(code) else None


_CLASS_SAFE = re.compile("[A-Za-z0-9-]{1,40}")


def _findings_table(parent: Element, findings: Sequence[Finding], redact: bool) -> None:
    table = _add(parent, "table", class_="findings")
    _row(table, ["Code", "Severity", "Message", "Location", "Fix"], header=True)
    for finding in by_cause(findings):
        classes = f"finding {finding.severity.value} {_code_class(finding.code) or ''}"
        if finding.caused_by is not None:
            classes += " consequence"
        row = _add(table, "tr", class_=classes.strip())
        code_cell = _add(row, "td", class_="code")
        if finding.caused_by is not None:
            # Shown under the finding that made it inevitable: one fault, one entry.
            _add(code_cell, "span", f"↳ follows from {finding.caused_by.code}", class_="follows")
        code_cell.append(_code(finding.code))
        summary = rule_summary(finding.code)
        if summary:
            _add(code_cell, "span", summary, class_="rule")
        _severity(_add(row, "td"), finding.severity)
        message = redact_finding_message(finding) if redact else finding.message
        cell = _add(row, "td", message, class_="message")
        _segment(cell, finding, redact)
        _add(row, "td", _location(finding), class_="location")
        fix = finding.fix
        safe = fix is not None and fix.concrete and fix.applicability is Applicability.SAFE
        _add(row, "td", _fix(finding), class_="fix" if safe else None)


def _pairing_text(line: LineView) -> str:
    if not line.paired_with:
        return ""
    role = "drug line" if line.code == "96372" else "injection line"
    plural = "s" if len(line.paired_with) > 1 and line.code == "96372" else ""
    return f"{role}{plural} " + ", ".join(str(n) for n in line.paired_with)


def _lines_table(parent: Element, view: ClaimView, findings: Sequence[Finding]) -> None:
    codes: dict[int, list[str]] = {}
    for finding in findings:
        if finding.line is not None:
            codes.setdefault(finding.line, [])
            if finding.code not in codes[finding.line]:
                codes[finding.line].append(finding.code)
    table = _add(parent, "table", class_="lines")
    _row(
        table,
        ["LX", "Code", "Modifiers", "Units", "Charge", "Date", "NDC", "Paired with", "Findings"],
        header=True,
    )
    for line in view.lines:
        flagged = line.number is not None and line.number in codes
        row = _add(table, "tr", class_="flagged" if flagged else None)
        _add(row, "td", "" if line.number is None else line.number, class_="num")
        _add(row, "td").append(_code(line.code))
        _add(row, "td", " ".join(line.modifiers))
        _add(row, "td", line.units, class_="num")
        _add(row, "td", as_money(line.charge), class_="num")
        _add(row, "td", as_date(line.date), class_="date")
        ndc = _add(row, "td", class_="ndc")
        if line.ndc:
            ndc.append(_code(line.ndc))
            ndc[-1].tail = " "
            amount = " ".join(p for p in (line.ndc_quantity, line.ndc_unit) if p)
            if amount:
                _add(ndc, "span", amount, class_="ndc-amount")
        _add(row, "td", _pairing_text(line), class_="paired")
        _add(row, "td", ", ".join(codes.get(line.number, [])) if line.number is not None else "")


def _facts(article: Element, group: _ClaimGroup, redact: bool) -> None:
    """Who and what the claim is about, as a definition list."""
    view = group.view
    facts: list[tuple[str, str]] = []
    if view is not None:
        payer = view.payer + (f" ({view.payer_id})" if view.payer_id else "")
        facts += [
            ("Patient", _masked(view.patient, redact)),
            ("Member id", _masked(view.member_id, redact)),
            ("Payer", payer),
            ("Billing NPI", _masked(view.billing_npi, redact)),
            ("Total charge", as_money(view.charge)),
            ("Profile", view.profile),
        ]
    facts += [
        ("Interchange", group.key[0] or "-"),
        ("Transaction", group.key[1] or "-"),
    ]
    listing = _add(article, "dl", class_="facts")
    for term, value in facts:
        item = _add(listing, "div", class_=f"fact {term.lower().replace(' ', '-')}")
        _add(item, "dt", term)
        _add(item, "dd", value or "-")


def _claim(group: _ClaimGroup, anchor: str, redact: bool) -> Element:
    severities = {f.severity.value for f in group.findings}
    codes = {c for c in (_code_class(f.code) for f in group.findings) if c}
    classes = ["claim", *sorted(f"sev-{s}" for s in severities), *sorted(codes)]
    article = etree.Element("article", {"class": " ".join(classes), "id": anchor})
    heading = _add(article, "h4", "Claim ")
    _add(heading, "code", group.key[2], class_="claim-id").tail = " "
    counts = Counter(f.severity for f in group.findings)
    for severity in SEVERITIES:
        if counts.get(severity):
            _severity(heading, severity, f"{counts[severity]} {severity.value}").tail = " "
    _facts(article, group, redact)
    view = group.view
    if view is not None and view.lines:
        _lines_table(article, view, group.findings)
    _findings_table(article, group.findings, redact)
    return article


def _serialise(element: Element) -> str:
    _layout(element)
    return str(lxml_html.tostring(element, encoding="unicode", method="html"))


class _ClaimsWriter:
    """Writes each file's part of the claims section to a temporary file as results arrive."""

    def __init__(self, redact: bool) -> None:
        self.redact = redact
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self.anchor = 0
        self.quiet = 0

    def add(self, result: FileResult) -> None:
        if not result.findings:
            self.quiet += 1
            return
        out = self.spool
        out.write('<section class="file">\n')
        shown, outside, clean = _group(result)
        out.write(_serialise(_element("h3", result.path)))
        if result.claim_views:
            have = "has" if len(shown) == 1 else "have"
            note = f"{len(shown)} of {_plural(result.claims, 'claim')} {have} findings"
            note += f"; the {clean} without findings are not shown." if clean else "."
        else:
            note = (
                f"{_plural(result.claims, 'claim')} checked; service lines are shown only "
                "when the run keeps claim detail."
            )
        out.write(_serialise(_element("p", note, class_="muted clean-claims")))
        if outside:
            part = etree.Element("div", {"class": "outside"})
            _add(part, "h4", "Envelope and transaction findings")
            _findings_table(part, outside, self.redact)
            out.write(_serialise(part))
        for group in shown:
            self.anchor += 1
            out.write(_serialise(_claim(group, f"claim-{self.anchor}", self.redact)))
        out.write("</section>\n")

    def close(self) -> None:
        self.spool.close()


def _element(tag: str, text: object, **attrs: str | None) -> Element:
    holder = etree.Element("div")
    child = _add(holder, tag, text, **attrs)
    holder.remove(child)
    return child


def _filters(parent: Element, codes: dict[str, Counter[Severity]]) -> None:
    """Radio buttons that the page's CSS turns into claim filters (no script)."""
    form = _add(parent, "form", class_="filters", id="filters")
    for legend, name, choices in (
        (
            "Severity",
            "sev",
            [("all", "all")] + [(s.value, s.value) for s in SEVERITIES],
        ),
        (
            "Code",
            "code",
            [("all", "all")] + [(c, c) for c in codes if _code_class(c)],
        ),
    ):
        group = _add(form, "fieldset")
        _add(group, "legend", legend)
        for value, label in choices:
            ident = f"f-{name}-{value}"
            box = _add(
                group,
                "input",
                type="radio",
                name=f"filter-{name}",
                id=ident,
                value=value,
                checked="checked" if value == "all" else None,
            )
            box.tail = None
            _add(group, "label", label, for_=ident)


def _filter_css(codes: Iterable[str]) -> str:
    """The CSS that hides claim cards and finding rows not matching the checked filters."""
    rules = []
    for severity in SEVERITIES:
        value = severity.value
        rules.append(
            f"body:has(#f-sev-{value}:checked) article.claim:not(.sev-{value}),\n"
            f"body:has(#f-sev-{value}:checked) tr.finding:not(.{value}) {{ display: none; }}"
        )
    for code in codes:
        name = _code_class(code)
        if name is None:
            continue
        rules.append(
            f"body:has(#f-code-{code}:checked) article.claim:not(.{name}),\n"
            f"body:has(#f-code-{code}:checked) tr.finding:not(.{name}) {{ display: none; }}"
        )
    return "\n".join(rules) + "\n"


# ---------------------------------------------------------------- page


def _summary(total: Totals) -> str:
    checked = (
        f"{_plural(total.files, 'file')}, {_plural(total.claims, 'claim')} and "
        f"{_plural(total.service_lines, 'service line')} checked"
    )
    if total.errors:
        checked += f"; {_plural(total.errors, 'file')} unreadable"
    if not total.findings:
        return f"{checked}: no findings."
    counts = ", ".join(f"{total.by_severity.get(s, 0)} {s.value}" for s in SEVERITIES)
    return f"{checked}: {_plural(total.findings, 'finding')} ({counts})."


def _top(total: Totals, codes: dict[str, Counter[Severity]], rows: Sequence[_FileRow]) -> Element:
    """Everything before the claims: head, header, totals, files, the claims heading."""
    root = etree.Element("html", lang="en")
    head = _add(root, "head")
    _add(head, "meta", charset="utf-8")
    _add(head, "meta", name="viewport", content="width=device-width, initial-scale=1")
    _add(head, "meta", name="generator", content=f"edi837 {__version__}")
    _add(head, "title", f"edi837 check: {_plural(total.findings, 'finding')}")
    _add(head, "style", STYLE + _filter_css(codes))
    body = _add(root, "body")
    header = _add(body, "header")
    _add(header, "h1", "edi837 check report")
    _add(header, "p", _summary(total), class_="lede")
    nav = _add(header, "nav")
    for target, label in (("#totals", "Totals"), ("#files", "Files"), ("#claims", "Claims")):
        _add(nav, "a", label, href=target)
    _totals(body, codes, total)
    _files(body, rows)
    return root


def _claims_head(quiet: int, codes: dict[str, Counter[Severity]]) -> Element:
    holder = etree.Element("div")
    _add(holder, "h2", "Findings by claim")
    if codes:
        _filters(holder, codes)
    if quiet:
        _add(holder, "p", f"{_plural(quiet, 'file')} without findings (see Files).", class_="muted")
    return holder


def build_page(results: Iterable[FileResult], redact: bool = False) -> Element:
    """The report as an lxml ``<html>`` element (the same page :func:`write_html` writes)."""
    out = io.StringIO()
    write_html(results, out, redact=redact)
    return lxml_html.document_fromstring(out.getvalue())


def write_html(
    results: Iterable[FileResult], out: TextIO | BinaryIO, *, redact: bool = False
) -> None:
    """Write the report page for ``results`` to ``out`` (a binary ``out`` gets UTF-8).

    ``results`` may be a generator; see the module docstring for what is kept in memory.
    """
    total = Totals()
    codes: dict[str, Counter[Severity]] = {}
    rows: list[_FileRow] = []
    claims = _ClaimsWriter(redact)
    try:
        for result in results:
            add_result(total, result)
            _count_codes(codes, result)
            rows.append(_FileRow.of(result))
            claims.add(result)
        codes = _ranked(codes)
        top = _serialise(_top(total, codes, rows))
        # The page so far ends with the files section; the claims section follows it.
        opening, closing = top.rsplit("</body>", 1)
        with text_target(out) as text:
            text.write("<!DOCTYPE html>\n")
            text.write(opening)
            text.write('<section id="claims">\n')
            for child in _claims_head(claims.quiet, codes):
                text.write(_serialise(child))
            claims.spool.seek(0)
            shutil.copyfileobj(claims.spool, text, 1 << 20)
            text.write("</section>\n")
            footer = _element("footer", None, class_="muted")
            _add(
                footer,
                "p",
                f"Generated by edi837 {__version__}. Rule documentation: edi837 rules CODE.",
            )
            text.write(_serialise(footer))
            text.write("</body>" + closing)
            if not closing.endswith("\n"):
                text.write("\n")
    finally:
        claims.close()


_BLOCKS = frozenset(
    {"head", "meta", "title", "style", "body", "header", "nav", "section", "article", "h1",
     "h2", "h3", "h4", "p", "table", "tr", "div", "footer", "svg", "rect", "text", "pre",
     "dl", "form", "fieldset"}
)  # fmt: skip


def _layout(root: Element) -> None:
    """A line break after block elements, so the source reads line by line (not inside pre)."""
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag not in _BLOCKS:
            continue
        parent = element.getparent()
        if parent is not None and parent.tag in ("pre", "h4", "td", "span", "dd", "dt"):
            continue
        if element.tail is None:
            element.tail = "\n"
