"""``check -f html``: one self-contained HTML page of a run, for people and for print.

The page holds everything it shows: styles are inline in one ``<style>``, the chart is inline
SVG, and there are no scripts, fonts, images or links outside the page, so it opens offline and
can be mailed or archived as one file. It is built with lxml element builders, so every value
read from a claim file is escaped as text, never spliced into markup.

Contents: totals by severity and by code (with a bar chart of findings per code, stacked by
severity), a table of files, then for each file the claims that have findings, each with its
service lines and its findings. A finding shows its segment with the offending element marked
(``<mark>``, from the finding's column and width). Clean claims are counted, not listed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from lxml import etree
from lxml import html as lxml_html

from edi837.engine import ClaimView, FileResult
from edi837.findings import Applicability, Finding, Severity
from edi837.reports.summary import Totals, totals
from edi837.version import __version__

Element = etree._Element

#: Worst first, as the page lists them.
SEVERITIES = (Severity.REJECT, Severity.DENY_RISK, Severity.WARNING)
COLOURS = {
    Severity.REJECT: "#b3261e",
    Severity.DENY_RISK: "#c15c00",
    Severity.WARNING: "#1d5fa8",
}

# Characters that HTML cannot carry as text; X12 data should never hold them, but a damaged
# file might, and the page must still be written.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

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
.status.error { color: var(--reject); }
.chart { width: 100%; max-width: 46rem; height: auto; display: block; margin: .5rem 0; }
.claim { border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem;
  margin: 0 0 1rem; }
tr.flagged td { background: #fff6e0; }
td.fix { color: #245c2a; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  .claim, tr, .tile { break-inside: avoid; }
  th, .tile, .sev, mark, tr.flagged td, pre.segment {
    -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _text(value: object) -> str:
    """A value as page text: control characters a damaged file may hold become U+FFFD."""
    return _NOT_TEXT.sub("\ufffd", str(value))


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


def _by_code(results: Sequence[FileResult]) -> dict[str, Counter[Severity]]:
    codes: dict[str, Counter[Severity]] = {}
    for result in results:
        for finding in result.findings:
            codes.setdefault(finding.code, Counter())[finding.severity] += 1
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


def _totals(body: Element, results: Sequence[FileResult], total: Totals) -> None:
    section = _add(body, "section", id="totals")
    _add(section, "h2", "Totals")
    _tiles(section, total)
    codes = _by_code(results)
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
    for code, counts in codes.items():
        row = _add(table, "tr")
        _add(row, "td").append(_code(code))
        cell = _add(row, "td")
        for severity in SEVERITIES:
            if counts.get(severity):
                _severity(cell, severity, f"{counts[severity]} {severity.value}").tail = " "
        _add(row, "td", sum(counts.values()), class_="num")


def _code(text: str) -> Element:
    element = etree.Element("code")
    element.text = _text(text)
    return element


# ---------------------------------------------------------------- files


def _files(body: Element, results: Sequence[FileResult]) -> None:
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
    for result in results:
        counts = Counter(f.severity for f in result.findings)
        row = _add(table, "tr")
        _add(row, "td", result.path, class_="path")
        _add(row, "td", result.status, class_=f"status {result.status}")
        _add(row, "td", result.claims, class_="num")
        _add(row, "td", result.service_lines, class_="num")
        for severity in SEVERITIES:
            _add(row, "td", counts.get(severity, 0), class_="num")
        _add(row, "td", result.error or "", class_="error")


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
    clean = sum(1 for g in groups if g.view is not None and not g.findings)
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


def _segment(parent: Element, finding: Finding) -> None:
    """The segment text with the offending element marked."""
    text = finding.segment_text
    if text is None:
        return
    pre = _add(parent, "pre", class_="segment")
    column, width = finding.column, max(finding.width or 1, 1)
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


def _findings_table(parent: Element, findings: Sequence[Finding]) -> None:
    table = _add(parent, "table", class_="findings")
    _row(table, ["Code", "Severity", "Message", "Location", "Fix"], header=True)
    for finding in findings:
        row = _add(table, "tr", class_=f"finding {finding.severity.value}")
        _add(row, "td").append(_code(finding.code))
        _severity(_add(row, "td"), finding.severity)
        message = _add(row, "td", finding.message, class_="message")
        _segment(message, finding)
        _add(row, "td", _location(finding), class_="location")
        fix = finding.fix
        safe = fix is not None and fix.concrete and fix.applicability is Applicability.SAFE
        _add(row, "td", _fix(finding), class_="fix" if safe else None)


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
        ["LX", "Code", "Modifiers", "Units", "Charge", "Date", "NDC", "Findings"],
        header=True,
    )
    for line in view.lines:
        flagged = line.number is not None and line.number in codes
        row = _add(table, "tr", class_="flagged" if flagged else None)
        _add(row, "td", "" if line.number is None else line.number, class_="num")
        _add(row, "td").append(_code(line.code))
        _add(row, "td", " ".join(line.modifiers))
        _add(row, "td", line.units, class_="num")
        _add(row, "td", line.charge, class_="num")
        _add(row, "td", line.date)
        _add(row, "td").append(_code(line.ndc))
        _add(row, "td", ", ".join(codes.get(line.number, [])) if line.number is not None else "")


def _claim(parent: Element, group: _ClaimGroup, anchor: str) -> None:
    article = _add(parent, "article", class_="claim", id=anchor)
    heading = _add(article, "h4", "Claim ")
    _add(heading, "code", group.key[2], class_="claim-id").tail = " "
    counts = Counter(f.severity for f in group.findings)
    for severity in SEVERITIES:
        if counts.get(severity):
            _severity(heading, severity, f"{counts[severity]} {severity.value}").tail = " "
    view = group.view
    meta = [f"interchange {group.key[0] or '-'}", f"transaction {group.key[1] or '-'}"]
    if view is not None:
        meta += [f"profile {view.profile}", f"total charge {view.charge}"]
    _add(article, "p", ", ".join(meta), class_="meta")
    if view is not None and view.lines:
        _lines_table(article, view, group.findings)
    _findings_table(article, group.findings)


def _claims(body: Element, results: Sequence[FileResult]) -> None:
    section = _add(body, "section", id="claims")
    _add(section, "h2", "Findings by claim")
    anchor = 0
    quiet = [r for r in results if not r.findings]
    if quiet:
        _add(
            section,
            "p",
            f"{_plural(len(quiet), 'file')} without findings (see Files).",
            class_="muted",
        )
    for result in results:
        if not result.findings:
            continue
        part = _add(section, "section", class_="file")
        _add(part, "h3", result.path)
        shown, outside, clean = _group(result)
        if result.claim_views:
            have = "has" if len(shown) == 1 else "have"
            note = f"{len(shown)} of {_plural(result.claims, 'claim')} {have} findings"
            note += f"; the {clean} without findings are not shown." if clean else "."
        else:
            note = (
                f"{_plural(result.claims, 'claim')} checked; service lines are shown only "
                "when the run keeps claim detail."
            )
        _add(part, "p", note, class_="muted clean-claims")
        if outside:
            _add(part, "h4", "Envelope and transaction findings")
            _findings_table(part, outside)
        for group in shown:
            anchor += 1
            _claim(part, group, f"claim-{anchor}")


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


def build_page(results: Sequence[FileResult]) -> Element:
    """The report as an lxml ``<html>`` element (what :func:`write_html` serialises)."""
    total = totals(results)
    root = etree.Element("html", lang="en")
    head = _add(root, "head")
    _add(head, "meta", charset="utf-8")
    _add(head, "meta", name="viewport", content="width=device-width, initial-scale=1")
    _add(head, "meta", name="generator", content=f"edi837 {__version__}")
    _add(head, "title", f"edi837 check: {_plural(total.findings, 'finding')}")
    _add(head, "style", STYLE)
    body = _add(root, "body")
    header = _add(body, "header")
    _add(header, "h1", "edi837 check report")
    _add(header, "p", _summary(total), class_="lede")
    nav = _add(header, "nav")
    for target, label in (("#totals", "Totals"), ("#files", "Files"), ("#claims", "Claims")):
        _add(nav, "a", label, href=target)
    _totals(body, results, total)
    _files(body, results)
    _claims(body, results)
    footer = _add(body, "footer", class_="muted")
    _add(footer, "p", f"Generated by edi837 {__version__}. Rule documentation: edi837 rules CODE.")
    _layout(root)
    return root


_BLOCKS = frozenset(
    {"head", "meta", "title", "style", "body", "header", "nav", "section", "article", "h1",
     "h2", "h3", "h4", "p", "table", "tr", "div", "footer", "svg", "rect", "text", "pre"}
)  # fmt: skip


def _layout(root: Element) -> None:
    """A line break after block elements, so the source reads line by line (not inside pre)."""
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag not in _BLOCKS:
            continue
        parent = element.getparent()
        if parent is not None and parent.tag in ("pre", "h4", "td", "span"):
            continue
        if element.tail is None:
            element.tail = "\n"


def write_html(results: Sequence[FileResult], out: TextIO) -> None:
    """Write the report page for ``results`` to ``out`` (UTF-8 text)."""
    page = lxml_html.tostring(
        build_page(results), doctype="<!DOCTYPE html>", encoding="unicode", method="html"
    )
    out.write(page)
    if not page.endswith("\n"):
        out.write("\n")
