"""Where each official CMS/FDA file is published, and how to tell its newest edition.

CMS renames its files every quarter (``medicare-ncci-2026q3-...-v322r0-f1.zip``), so the
shipped table names the landing page and a pattern for the links on it, never a built URL; the
FDA NDC Directory is the one file with a fixed address. Each entry also says which file names in
a download belong to the table (to sort imported zips), whether the content needs a licence
acceptance (NCCI PTP and MUE files carry CPT codes and descriptors under the AMA licence), and
how old an edition may get before ``edi837 refdata`` warns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

#: The licence CMS puts in front of the NCCI downloads (the ``/license/ama?file=`` click-through).
AMA_LICENSE = "AMA CPT"
AMA_LICENSE_PAGE = "https://www.cms.gov/license/ama"


@dataclass(frozen=True, slots=True)
class Publication:
    """One official table as published.

    Attributes:
        name: Table name, as in :data:`edi837.refdata.OFFICIAL_TABLES`.
        title: Publisher and document.
        url: Landing page (links matched by ``link``) or the file itself.
        link: Pattern of the download links on the landing page; a ``part`` group numbers the
            pieces of one edition (the four NCCI PTP zips).
        member: Pattern of the file names in a download that hold this table.
        license: Licence to accept before downloading, or None.
        stale_after: Quarters (``2q``) or days (``30d``) after which an edition is out of date.
    """

    name: str
    title: str
    url: str
    link: re.Pattern[str]
    member: re.Pattern[str]
    license: str | None
    stale_after: str

    @property
    def stale_limit(self) -> tuple[int, str]:
        """``stale_after`` as (amount, ``q`` or ``d``)."""
        return int(self.stale_after[:-1]), self.stale_after[-1]


_CMS_NCCI = (
    "https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits"
)

# Quarterly NCCI and HCPCS files appear a few weeks before their quarter starts, so one quarter
# behind only happens in those weeks; two quarters behind means an update was missed. The MDRP
# file is published after its quarter closes, and the FDA directory changes every day.
PUBLICATIONS: tuple[Publication, ...] = (
    Publication(
        "ncci-ptp",
        "CMS Medicare NCCI PTP edits, practitioner (four zips per version)",
        f"{_CMS_NCCI}/medicare-ncci-procedure-procedure-ptp-edits",
        re.compile(
            r"ncci-\d{4}-?q[1-4]-practitioner-ptp-edits-ccipra-v\d+r\d+-f(?P<part>\d)\.zip", re.I
        ),
        re.compile(r"^ccipra-v\d+r\d+.*\.txt$", re.I),
        AMA_LICENSE,
        "2q",
    ),
    Publication(
        "mue",
        "CMS Medicare NCCI MUEs, practitioner services",
        f"{_CMS_NCCI}/medicare-ncci-medically-unlikely-edits",
        re.compile(r"ncci-\d{4}-?q[1-4]-practitioner-services-mue-table\.zip", re.I),
        re.compile(r"mue.*practitioner.*\.csv$", re.I),
        AMA_LICENSE,
        "2q",
    ),
    Publication(
        "asp-crosswalk",
        "CMS ASP pricing files, ASP NDC-HCPCS crosswalk",
        "https://www.cms.gov/medicare/payment/part-b-drugs/asp-pricing-files",
        re.compile(r"[a-z]+-\d{4}-(?:asp-)?ndc-hcpcs-crosswalk[^/]*\.zip", re.I),
        re.compile(r"^(?!.*\b(awp|opps|prep)\b).*crosswalk.*\.csv$", re.I),
        None,
        "2q",
    ),
    Publication(
        "hcpcs",
        "CMS HCPCS quarterly update, alpha-numeric file",
        "https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update",
        re.compile(r"[a-z]+-\d{4}-alpha-numeric-hcpcs-files?\.zip", re.I),
        re.compile(r"^HCPC.*\.txt$", re.I),
        None,
        "2q",
    ),
    Publication(
        "ndc-directory",
        "FDA National Drug Code Directory (ndctext.zip)",
        "https://www.accessdata.fda.gov/cder/ndctext.zip",
        re.compile(r"ndctext\.zip", re.I),
        re.compile(r"^(product|package)\.txt$", re.I),
        None,
        "30d",
    ),
    Publication(
        "mdrp",
        "CMS drug products in the Medicaid Drug Rebate Program",
        "https://www.medicaid.gov/medicaid/prescription-drugs/medicaid-drug-rebate-program/"
        "medicaid-drug-rebate-program-data/index.html",
        re.compile(r"drug-?products[^/]*\.(?:csv|zip)", re.I),
        re.compile(r"^drug[-_ ]?products.*\.csv$", re.I),
        None,
        "3q",
    ),
)

BY_NAME = {publication.name: publication for publication in PUBLICATIONS}


class _Links(HTMLParser):
    """Collects the ``href`` of every anchor of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for key, value in attrs if key == "href" and value)


def file_url(page: str, href: str) -> str:
    """The file a link leads to; a licence click-through link leads to its ``file`` target."""
    target = urljoin(page, href)
    parts = urlsplit(target)
    if "/license/" in parts.path:
        files = parse_qs(parts.query).get("file")
        if files:
            return urljoin(target, files[0])
    return target


_MONTHS = {
    month: index // 3 + 1
    for index, month in enumerate(
        (
            "january", "february", "march", "april", "may", "june",
            "july", "august", "september", "october", "november", "december",
        )
    )
}  # fmt: skip


def period_key(name: str) -> tuple[int, int, tuple[int, ...]]:
    """Sort key of a published file name: year, quarter, NCCI version (newest sorts last)."""
    text = unquote(name).lower()
    year_match = re.search(r"(?<!\d)(20\d\d)(?!\d)", text) or re.search(r"(20\d\d)", text)
    year = int(year_match.group(1)) if year_match else 0
    quarter = 0
    q_match = re.search(r"(?<![a-z])q([1-4])(?!\d)", text) or re.search(
        r"(\d)q(?=[-_]?\d{4})", text
    )
    if q_match:
        quarter = int(q_match.group(1))
    else:
        month = next((q for m, q in _MONTHS.items() if m in text), 0)
        quarter = month
    version = re.search(r"v(\d+)r(\d+)", text)
    return year, quarter, tuple(int(v) for v in version.groups()) if version else ()


def newest_links(publication: Publication, page: str, html: str) -> list[str]:
    """The download URLs of the newest edition linked from a landing page (all its parts).

    Returns an empty list when the page links no file of the expected name.
    """
    parser = _Links()
    parser.feed(html)
    found: dict[str, str] = {}
    for href in parser.hrefs:
        url = file_url(page, href)
        if publication.link.search(unquote(urlsplit(url).path)):
            found.setdefault(url, url)
    if not found:
        return []
    keyed = [(period_key(urlsplit(url).path), url) for url in found]
    newest = max(key for key, _ in keyed)
    chosen = [url for key, url in keyed if key == newest]
    if publication.link.groupindex.get("part"):
        # One edition may be linked in pieces: keep one link per part number.
        parts: dict[str, str] = {}
        for url in chosen:
            match = publication.link.search(unquote(urlsplit(url).path))
            parts.setdefault(match["part"] if match else url, url)
        chosen = [parts[p] for p in sorted(parts)]
    else:
        chosen = chosen[:1]
    return chosen


def edition_start(edition: str) -> date | None:
    """First day an edition name stands for (``2026-Q3...`` -> 2026-07-01, or its date)."""
    match = re.match(r"(\d{4})-Q([1-4])", edition)
    if match:
        return date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1)
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", edition)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    return None


def staleness(publication: Publication, edition: str, today: date) -> str | None:
    """Why an edition is out of date on ``today`` (one phrase), or None when it is current."""
    start = edition_start(edition)
    if start is None:
        return None
    amount, unit = publication.stale_limit
    if unit == "d":
        days = (today - start).days
        return f"{days} days old" if days > amount else None
    behind = (today.year * 4 + (today.month - 1) // 3) - (start.year * 4 + (start.month - 1) // 3)
    if behind >= amount:
        return f"{behind} quarters older than today ({today.year}-Q{(today.month - 1) // 3 + 1})"
    return None
