"""``edi837 refdata update`` and ``import`` against a local web server serving official layouts.

The server (``http.server`` on 127.0.0.1, a free port, one thread) plays CMS and FDA: landing
pages linking the zips the way cms.gov does (the NCCI ones through the AMA licence
click-through), zips built here from the fixture files in their published layouts, and the
faults a download meets: a file cut short, a changed layout, a 404, a dropped connection that
must resume, a server that stops answering. No other network is used.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837 import api
from edi837.cli import main
from edi837.refdata.published import BY_NAME, staleness
from edi837.refdata.update import read_manifest

FULL = Path(__file__).parent / "fixtures" / "refdata" / "full"
MDRP = Path(__file__).parent / "fixtures" / "refdata_cases" / "drug" / "mdrp"
MUE_CSV = "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
MUE_ZIP = "/files/zip/medicare-ncci-2026-q3-practitioner-services-mue-table.zip"
MUE_NEXT_CSV = "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"
MUE_NEXT_ZIP = "/files/zip/medicare-ncci-2026-q4-practitioner-services-mue-table.zip"
PTP_ZIP = "/files/zip/medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f{}.zip"
ASP_CSV = "section 508 version of October 2026 ASP NDC-HCPCS Crosswalk 091126.csv"


@dataclass
class Site:
    """What the local server publishes and how it misbehaves."""

    files: dict[str, bytes] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    ranges: bool = True
    cut: dict[str, int] = field(default_factory=dict)  # path -> bytes sent, every time
    cut_once: dict[str, int] = field(default_factory=dict)  # path -> bytes sent, first time
    hang: set[str] = field(default_factory=set)
    released: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def page(self, path: str, *links: str) -> str:
        """Publish a landing page linking ``links``; returns its URL."""
        anchors = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
        self.pages[path] = f"<html><body><ul>{anchors}</ul></body></html>"
        return self.url(path)


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def do_GET(self) -> None:
        site = self.site
        path = self.path.split("?", 1)[0]
        site.requests.append((path, self.headers.get("Range")))
        if path in site.hang:
            site.released.wait(30)
            return
        if path in site.pages:
            body = site.pages[path].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        data = site.files.get(path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        wanted = self.headers.get("Range")
        start = 0
        if site.ranges and wanted and wanted.startswith("bytes=") and wanted.endswith("-"):
            start = int(wanted[6:-1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest()[:16] + '"')
        if site.ranges:
            self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        body = data[start:]
        limit = site.cut_once.pop(path, None) if start == 0 else None
        limit = site.cut.get(path, limit)
        if limit is not None:
            # Send part of the promised body, then drop the connection.
            self.wfile.write(body[:limit])
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def site() -> Iterator[Site]:
    published = Site()
    handler = type("Handler", (_Handler,), {"site": published})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    published.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield published
    published.released.set()
    server.shutdown()
    server.server_close()


def zipped(*members: tuple[str, bytes]) -> bytes:
    """A zip archive of ``members``, each dated 2026-12-04 (the FDA edition is that date)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 12, 4, 6, 0, 0)), data)
    return buffer.getvalue()


def fixture(name: str) -> tuple[str, bytes]:
    return name, (FULL / name).read_bytes()


def mue_csv(rows: int = 3, header: str = '"HCPCS/\r\nCPT Code"') -> bytes:
    """An MUE CSV in the published layout (notice record, two-line header cell) with ``rows``."""
    lines = [
        '"CPT codes, descriptions and other data only are copyright 2025 American Medical '
        'Association. All rights reserved.",,,',
        f"{header},Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale",
    ]
    lines += [
        f"ZZ{n:03d},{n % 9},3 Date of Service Edit: Clinical,Clinical: Data" for n in range(rows)
    ]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def publish_all(site: Site) -> dict[str, list[str]]:
    """Every official table on its own landing page; returns the ``[refdata.urls]`` mapping."""
    for part in (1, 2):
        site.files[PTP_ZIP.format(part)] = zipped(fixture(f"ccipra-v322r0-f{part}.TXT"))
    site.files["/files/zip/medicare-ncci-2026q2-practitioner-ptp-edits-ccipra-v321r0-f1.zip"] = (
        zipped(fixture("ccipra-v321r0-f1.TXT"))
    )
    site.files[MUE_ZIP] = zipped(fixture(MUE_CSV), ("MCR_MUE.xlsx", b"PK not read"))
    site.files["/files/zip/october-2026-ndc-hcpcs-crosswalk-final.zip"] = zipped(fixture(ASP_CSV))
    site.files["/files/zip/october-2026-alpha-numeric-hcpcs-file.zip"] = zipped(
        fixture("HCPC2026_OCT_ANWEB.txt")
    )
    site.files["/cder/ndctext.zip"] = zipped(fixture("product.txt"), fixture("package.txt"))
    site.files["/files/drugproducts1q_2025.csv"] = (MDRP / "drugproducts1q_2025.csv").read_bytes()
    licence = "/license/ama?file="
    return {
        "ncci-ptp": [
            site.page(
                "/ptp",
                # Older version first, as a page may list it; the newest version must win.
                licence
                + "/files/zip/medicare-ncci-2026q2-practitioner-ptp-edits-ccipra-v321r0-f1.zip",
                licence + PTP_ZIP.format(1),
                licence + PTP_ZIP.format(2),
            )
        ],
        "mue": [site.page("/mue", licence + MUE_ZIP)],
        "asp-crosswalk": [
            site.page("/asp", "/files/zip/october-2026-ndc-hcpcs-crosswalk-final.zip")
        ],
        "hcpcs": [site.page("/hcpcs", "/files/zip/october-2026-alpha-numeric-hcpcs-file.zip")],
        "ndc-directory": [site.url("/cder/ndctext.zip")],
        "mdrp": [site.page("/mdrp", "/files/drugproducts1q_2025.csv")],
    }


def config(tmp_path: Path, urls: dict[str, list[str]]) -> Path:
    path = tmp_path / "edi837.toml"
    lines = ["[refdata.urls]"] + [f"{name} = {json.dumps(value)}" for name, value in urls.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def update(tmp_path: Path, urls: dict[str, list[str]], *extra: str) -> tuple[int, str, str]:
    """``edi837 refdata update`` of the tables in ``urls`` only (no address but 127.0.0.1)."""
    folder = tmp_path / "refdata"
    only = [] if "--only" in extra else ["--only", ",".join(urls)]
    cfg = str(config(tmp_path, urls))
    return run("refdata", "update", "--dir", str(folder), "--config", cfg, *only, *extra)


def installed(tmp_path: Path) -> dict[str, str]:
    return {
        name: entry["edition"]
        for name, entry in read_manifest(tmp_path / "refdata")["tables"].items()
    }


def test_update_installs_the_newest_edition_of_every_table(site: Site, tmp_path: Path) -> None:
    code, out, err = update(tmp_path, publish_all(site), "--accept-license")
    assert (code, err) == (0, "")
    assert installed(tmp_path) == {
        "ncci-ptp": "2026-Q3-v322r0",
        "mue": "2026-07-01",
        "asp-crosswalk": "2026-Q4",
        "hcpcs": "2026-Q4",
        "ndc-directory": "2026-12-04",
        "mdrp": "2025-Q1",
    }
    assert "mue: installed edition 2026-07-01, 5 rows" in out
    folder = tmp_path / "refdata"
    manifest = read_manifest(folder)
    ptp = manifest["tables"]["ncci-ptp"]
    # The licence link was followed to the file; the older version on the page was not taken.
    assert [f["url"] for f in ptp["files"]] == [site.url(PTP_ZIP.format(p)) for p in (1, 2)]
    assert ptp["files"][0]["sha256"] == hashlib.sha256(site.files[PTP_ZIP.format(1)]).hexdigest()
    assert sorted(p.name for p in (folder / "ncci-ptp" / "2026-Q3-v322r0").iterdir()) == [
        "ccipra-v322r0-f1.TXT",
        "ccipra-v322r0-f2.TXT",
    ]
    assert manifest["tables"]["mue"]["rows"] == 5 and manifest["tables"]["mue"]["fetched"]
    # The Excel copy in the MUE zip is not kept: only the file the loader reads.
    assert [p.name for p in (folder / "mue" / "2026-07-01").iterdir()] == [MUE_CSV]
    # What check and `edi837 refdata` load is what was installed, with nothing left missing.
    shown = json.loads(run("refdata", "--refdata", str(folder), "-f", "json")[1])
    assert shown["missing"] == []
    # A second run finds the same files and changes nothing.
    code, out, _ = update(tmp_path, publish_all(site))
    assert code == 0 and "mue: edition 2026-07-01 is current" in out


def test_the_cpt_licence_is_asked_for_once_and_recorded(site: Site, tmp_path: Path) -> None:
    urls = publish_all(site)
    code, out, err = update(tmp_path, urls)
    assert code == 2
    assert "ncci-ptp: the NCCI files carry CPT codes" in err and "--accept-license" in err
    assert "hcpcs: installed edition 2026-Q4" in out
    assert "mue" not in installed(tmp_path)
    assert not any(path.startswith("/files/zip/medicare") for path, _ in site.requests)

    code, _, _ = update(tmp_path, urls, "--only", "mue", "--accept-license")
    assert code == 0 and installed(tmp_path)["mue"] == "2026-07-01"
    accepted = read_manifest(tmp_path / "refdata")["licenses"]["AMA CPT"]
    assert accepted["accepted"].startswith(str(date.today().year)[:2])

    code, out, err = update(tmp_path, urls, "--only", "ncci-ptp")
    assert (code, err) == (0, "") and "ncci-ptp: installed" in out


def _with_mue(site: Site, tmp_path: Path) -> dict[str, list[str]]:
    """A folder holding the 2026-07-01 MUE edition, and the MUE page now linking 2026-10-01."""
    urls = {"mue": [site.page("/mue", "/license/ama?file=" + MUE_ZIP)]}
    site.files[MUE_ZIP] = zipped(fixture(MUE_CSV))
    assert update(tmp_path, urls, "--accept-license")[0] == 0
    site.page("/mue", "/license/ama?file=" + MUE_NEXT_ZIP)
    return urls


def _previous_mue_kept(tmp_path: Path, err: str) -> None:
    folder = tmp_path / "refdata"
    assert installed(tmp_path) == {"mue": "2026-07-01"}
    assert [p.name for p in (folder / "mue").iterdir()] == ["2026-07-01"]
    assert (folder / "mue" / "2026-07-01" / MUE_CSV).is_file()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("kept edition 2026-07-01")


def test_a_truncated_download_keeps_the_previous_edition(site: Site, tmp_path: Path) -> None:
    urls = _with_mue(site, tmp_path)
    site.files[MUE_NEXT_ZIP] = zipped((MUE_NEXT_CSV, mue_csv(4)))
    site.ranges = False
    site.cut[MUE_NEXT_ZIP] = len(site.files[MUE_NEXT_ZIP]) // 2
    code, _, err = update(tmp_path, urls)
    assert code == 2
    assert "download stopped after" in err and "run again to resume" in err
    _previous_mue_kept(tmp_path, err)
    # Once the server sends the rest, the next run asks only for what is missing.
    site.ranges = True
    del site.cut[MUE_NEXT_ZIP]
    code, out, _ = update(tmp_path, urls)
    assert code == 0 and installed(tmp_path) == {"mue": "2026-10-01"}
    half = len(site.files[MUE_NEXT_ZIP]) // 2
    assert [r for p, r in site.requests if p == MUE_NEXT_ZIP][-1] == f"bytes={half}-"


def test_a_changed_layout_keeps_the_previous_edition(site: Site, tmp_path: Path) -> None:
    urls = _with_mue(site, tmp_path)
    site.files[MUE_NEXT_ZIP] = zipped((MUE_NEXT_CSV, mue_csv(4).replace(b"MUE Values", b"Limit")))
    code, _, err = update(tmp_path, urls)
    assert code == 2
    assert "not in the published layout" in err and "lacks the value or indicator column" in err
    _previous_mue_kept(tmp_path, err)
    # A quarter published as Excel only: nothing the loader reads.
    site.files[MUE_NEXT_ZIP] = zipped(("MCR_MUE_PractitionerServices_Eff_10-01-2026.xlsx", b"PK"))
    code, _, err = update(tmp_path, urls)
    assert code == 2 and "(it holds MCR_MUE_PractitionerServices_Eff_10-01-2026.xlsx)" in err
    _previous_mue_kept(tmp_path, err)


def test_a_missing_file_keeps_the_previous_edition(site: Site, tmp_path: Path) -> None:
    urls = _with_mue(site, tmp_path)
    code, _, err = update(tmp_path, urls)
    assert code == 2 and "HTTP 404" in err
    _previous_mue_kept(tmp_path, err)


def test_a_page_without_the_expected_link_says_so(site: Site, tmp_path: Path) -> None:
    urls = _with_mue(site, tmp_path)
    site.page("/mue", "/files/zip/something-else.zip")
    code, _, err = update(tmp_path, urls)
    assert code == 2 and "links no file matching" in err and "[refdata.urls]" in err
    _previous_mue_kept(tmp_path, err)


def test_an_interrupted_download_resumes_where_it_stopped(site: Site, tmp_path: Path) -> None:
    urls = _with_mue(site, tmp_path)
    site.files[MUE_NEXT_ZIP] = zipped((MUE_NEXT_CSV, mue_csv(4)))
    half = len(site.files[MUE_NEXT_ZIP]) // 2
    site.cut_once[MUE_NEXT_ZIP] = half
    code, out, err = update(tmp_path, urls)
    assert (code, err) == (0, "")
    assert "mue: installed edition 2026-10-01, 4 rows (replaces 2026-07-01)" in out
    assert [r for p, r in site.requests if p == MUE_NEXT_ZIP] == [None, f"bytes={half}-"]
    manifest = read_manifest(tmp_path / "refdata")["tables"]["mue"]
    assert manifest["files"][0]["sha256"] == hashlib.sha256(site.files[MUE_NEXT_ZIP]).hexdigest()
    assert [p.name for p in (tmp_path / "refdata" / "mue").iterdir()] == ["2026-10-01"]


def test_a_server_that_stops_answering_times_out_in_one_line(site: Site, tmp_path: Path) -> None:
    urls = _with_mue(site, tmp_path)
    site.hang.add(MUE_NEXT_ZIP)
    code, _, err = update(tmp_path, urls, "--timeout", "1")
    assert code == 2 and "--timeout" in err
    _previous_mue_kept(tmp_path, err)


def test_a_row_count_far_from_the_previous_one_needs_force(site: Site, tmp_path: Path) -> None:
    urls = _with_mue(site, tmp_path)
    site.files[MUE_NEXT_ZIP] = zipped((MUE_NEXT_CSV, mue_csv(40)))
    code, _, err = update(tmp_path, urls)
    assert code == 2 and "40 rows against 5" in err and "--force" in err
    _previous_mue_kept(tmp_path, err)
    code, out, _ = update(tmp_path, urls, "--force")
    assert code == 0 and installed(tmp_path) == {"mue": "2026-10-01"}


def test_import_installs_zips_downloaded_elsewhere(tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for part in (1, 2):
        (downloads / f"ptp-f{part}.zip").write_bytes(zipped(fixture(f"ccipra-v322r0-f{part}.TXT")))
    (downloads / "hcpcs.zip").write_bytes(zipped(fixture("HCPC2026_OCT_ANWEB.txt")))
    (downloads / "notes.zip").write_bytes(zipped(("readme.txt", b"nothing official")))
    folder = tmp_path / "refdata"
    zips = [str(p) for p in sorted(downloads.iterdir())]
    code, out, err = run("refdata", "import", "--dir", str(folder), "--accept-license", *zips)
    assert code == 2
    assert err.strip().endswith(
        "holds none of the official files (NCCI PTP, MUE, ASP crosswalk, HCPCS, FDA NDC, MDRP)"
    )
    assert "ncci-ptp: installed edition 2026-Q3-v322r0, 11 rows" in out
    assert installed(tmp_path) == {"ncci-ptp": "2026-Q3-v322r0", "hcpcs": "2026-Q4"}
    entry = read_manifest(folder)["tables"]["hcpcs"]
    assert entry["files"][0]["url"] == (downloads / "hcpcs.zip").resolve().as_uri()
    # The same zip again changes nothing.
    again = run("refdata", "import", "--dir", str(folder), str(downloads / "hcpcs.zip"))
    assert again[0] == 0 and "hcpcs: edition 2026-Q4 is current" in again[1]


def test_the_user_data_folder_is_used_once_it_holds_a_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setattr("platformdirs.user_data_dir", lambda *args, **kwargs: str(data))
    monkeypatch.chdir(tmp_path)
    assert not api.load_engine().refdata.loaded("hcpcs")
    hcpcs = tmp_path / "hcpcs.zip"
    hcpcs.write_bytes(zipped(fixture("HCPC2026_OCT_ANWEB.txt")))
    code, out, _ = run("refdata", "import", str(hcpcs))
    assert code == 0 and f"manifest: {data / 'manifest.json'}" in out
    assert api.load_engine().refdata.loaded("hcpcs")
    shown = json.loads(run("refdata", "-f", "json")[1])
    assert "hcpcs" not in shown["missing"]


def test_refdata_warns_when_an_edition_is_out_of_date(tmp_path: Path) -> None:
    mue = BY_NAME["mue"]
    assert staleness(mue, "2026-07-01", date(2026, 12, 5)) is None
    assert staleness(mue, "2026-07-01", date(2027, 1, 4)) == (
        "2 quarters older than today (2027-Q1)"
    )
    assert staleness(BY_NAME["ndc-directory"], "2026-10-01", date(2026, 12, 5)) == "65 days old"
    shutil.copy(MDRP / "drugproducts1q_2025.csv", tmp_path)
    code, _, err = run("refdata", "--refdata", str(tmp_path))
    assert code == 0
    assert "warning: mdrp edition 2025-Q1 is" in err and "edi837 refdata update" in err


def test_the_configuration_names_the_folder_and_refuses_unknown_tables(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    site.files["/cder/ndctext.zip"] = zipped(fixture("product.txt"), fixture("package.txt"))
    ndctext = site.url("/cder/ndctext.zip")
    (tmp_path / "edi837.toml").write_text(
        f'[refdata]\ndir = "cms"\n[refdata.urls]\n"ndc-directory" = "{ndctext}"\n',
        encoding="utf-8",
    )
    code, out, _ = run("refdata", "update", "--only", "ndc-directory")
    assert code == 0 and "ndc-directory: installed edition 2026-12-04, 11 rows" in out
    assert api.load_engine().refdata.loaded("ndc-directory")
    (tmp_path / "edi837.toml").write_text('[refdata.urls]\nmeu = "https://x.example/a.zip"\n')
    code, _, err = run("refdata", "update", "--only", "mue")
    assert code == 2 and "refdata.urls.meu: not a table" in err
    code, _, err = run("check", str(Path(__file__).parents[1] / "samples" / "multi.837"))
    assert code == 2 and "refdata.urls.meu" in err
