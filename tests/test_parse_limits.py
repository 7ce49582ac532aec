"""No document can stall, exhaust or crash the parse stage (warehouse.stages.workers).

Hostile documents are generated here and archived beside real reports; parse_archive runs with
small limits. Every one ends within its limit (or is refused sooner by the parser's own
checks), is quarantined with its reason and provenance, the rest of the run commits, nothing
archived before is lost, and the next run does not parse it again unless the parser changed or
`retry_quarantined` asks.

Two kinds of documents:
- real hostile files: a PDF page of very many tiny ruled cells, a PDF of many pages of such
  grids, a PDF of more pages than any report, a DOCX zip bomb, a DOCX whose text is too big for
  the memory limit, an HTML page of huge colspan x rowspan products, an HTML page whose markup
  tree outgrows the memory limit. The parser refuses some of them with its cheap checks
  (warehouse.parse, quarantined as `unsupported`); the others meet the worker limits.
- documents that make the parser spin, allocate or crash, for the exact reason of each
  limit whatever the parser's checks become: the workers are separate processes, so the test
  puts a `sitecustomize` on their PYTHONPATH that wraps warehouse.parse.parse_bytes for bodies
  starting with a HOSTILE- marker.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from warehouse.storage.archive import RawArchive
from warehouse.stages.parse_archive import parse_archive
from warehouse.storage.parsed import current_version
from warehouse.stages.workers import LIMIT_REASONS

pytestmark = pytest.mark.slow  # worker processes

PROJECT = Path(__file__).resolve().parents[1]
TABLES = PROJECT / "tests" / "fixtures" / "tables"
BASE = "http://127.0.0.1:8799"
AGENCY = "云岭市示范区管委会"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
HTML = "text/html; charset=utf-8"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

TIMEOUT, MEMORY_MB = 6.0, 300        # the real hostile files: slow ones run for minutes, the memory ones reach 300 MB in ~3 s
HOOK_TIMEOUT = 1.0                   # the document that spins

SITECUSTOMIZE = '''
import os, resource, signal, time

if os.environ.get("PARSE_LIMITS_TEST_HOOK") == "1":
    import warehouse.parse as parse

    _real = parse.parse_bytes

    def parse_bytes(data, *args, **kwargs):
        head = bytes(data[:32])
        if head.startswith(b"HOSTILE-SLEEP"):
            time.sleep(600)
        elif head.startswith(b"HOSTILE-SPIN"):
            while True:
                pass
        elif head.startswith(b"HOSTILE-ALLOCATE"):
            if resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY:
                raise MemoryError("no address-space cap: not allocating for real")
            blocks = []
            while True:                      # a MemoryError at the cap
                blocks.append(bytearray(16 * 2 ** 20))
        elif head.startswith(b"HOSTILE-CRASH"):
            os.kill(os.getpid(), signal.SIGSEGV)
        return _real(data, *args, **kwargs)

    parse.parse_bytes = parse_bytes
'''


# --------------------------------------------------------------------- documents

def title(tag: str, year: int = 2022) -> str:
    return f"{AGENCY}{year}年政府信息公开工作年度报告（{tag}）"


def clean_2021(tag: str) -> bytes:
    html = (TABLES / "report_2021_gbk.html").read_bytes().decode("gb18030").replace('<meta charset="utf-8">', "")
    return html.replace('<div class="TRS_Editor">', f'<div class="TRS_Editor">\n<p>案例：{tag}</p>', 1).encode()


def clean_2019(tag: str) -> bytes:
    html = (TABLES / "report_2019.html").read_bytes().decode("utf-8")
    return html.replace("<h1>", f"<p>案例：{tag}</p>\n<h1>", 1).encode()


def ruled_grid_pdf(cells: int, step: float, pages: int = 1) -> bytes:
    """`pages` pages each ruled into cells x cells tiny cells."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(2 * 20 + cells * step, 2 * 20 + cells * step + 30))
    marks = [20 + i * step for i in range(cells + 1)]
    for _ in range(pages):
        c.setLineWidth(0.1)
        c.grid(marks, marks)
        c.drawString(20, marks[-1] + 10, "2022 annual report")
        c.showPage()
    c.save()
    return buf.getvalue()


_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                  'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                  'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                  '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
                  'document.main+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
_BODY_OPEN = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
              'wordprocessingml/2006/main"><w:body>')


def docx(paragraphs, level: int = 1) -> bytes:
    """A DOCX whose document.xml holds the paragraphs given (an iterable of texts, streamed)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        with z.open("word/document.xml", "w") as part:
            part.write(_BODY_OPEN.encode())
            for chunk in paragraphs:
                part.write(chunk.encode())
            part.write(b"</w:body></w:document>")
    return buf.getvalue()


def docx_bomb(inflated_mb: int = 120) -> bytes:
    """~1 MB of zip inflating to `inflated_mb` MB of one repeated paragraph."""
    block = "<w:p><w:r><w:t>0</w:t></w:r></w:p>" * 30_000
    return docx((block for _ in range(inflated_mb * 1_000_000 // len(block))), level=1)


def page(head: str, body: str) -> bytes:
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{head}</title></head>\n'
            f"<body>\n{body}\n</body></html>\n").encode()


def colspan_products() -> bytes:
    """Rows of cells each spanning 1000 x 65534 positions."""
    row = "<tr>" + "".join(f'<td colspan="1000" rowspan="65534">{i}</td>' for i in range(60)) + "</tr>"
    return page(title("colspan"), f"<h1>{title('colspan')}</h1><table>{row * 300}</table>")


def markup_tree() -> bytes:
    """16 MB of empty elements: a few hundred MB once parsed into a tree."""
    return page(title("tree"), "<br>" * 4_000_000)


# --------------------------------------------------------------------- archives

class Archive:
    def __init__(self, root: Path):
        self.root = root
        self.raw = RawArchive(root / "raw")
        self.rows: dict[str, list[dict]] = {}

    def add(self, run_id: str, name: str, body: bytes, content_type: str, link_title: str,
            suffix: str = ".html") -> dict:
        rows = self.rows.setdefault(run_id, [])
        url = f"{BASE}/xxgk/{name}{suffix}"
        row = dict(url=url, final_url=url, status=200, content_type=content_type, encoding=None,
                   sha256=self.raw.put(body), size=len(body),
                   fetched_at=T0 + dt.timedelta(minutes=len(self.rows), seconds=len(rows)),
                   source_id="limits", link_title=link_title, referer=f"{BASE}/xxgk/index.html",
                   kind="report", run_id=run_id, error=None)
        rows.append(row)
        self.raw.write_manifest(rows, run_id)
        return row


def quarantine(parsed: Path) -> dict[str, dict]:
    with duckdb.connect() as con:
        cur = con.execute(f"select * from read_parquet('{current_version(parsed)}/quarantine/*.parquet')")
        names = [d[0] for d in cur.description]
        return {row["url"].rsplit("/", 1)[1]: row for row in (dict(zip(names, r)) for r in cur.fetchall())}


def report_notes(parsed: Path) -> dict[str, str | None]:
    """The reports of the current version: file name of the url -> notes."""
    with duckdb.connect() as con:
        rows = con.execute(f"select url, notes from read_parquet('{current_version(parsed)}/reports/**/*.parquet')").fetchall()
    return {url.rsplit("/", 1)[1]: notes for url, notes in rows}


def report_urls(parsed: Path) -> set[str]:
    return set(report_notes(parsed))


def cache_entry(parsed: Path, sha256: str) -> dict:
    [path] = parsed.glob(f"_cache/*/{sha256}.json")
    return json.loads(path.read_text(encoding="utf-8"))


# Real hostile files: the reasons each may end with. The parser's own checks refuse some
# (`unsupported`) or cut the hostile part (then the page has no report, `not_a_report`, or is a
# `report` whose notes say what was cut); without them, the worker limits stop them.
REAL = {
    # name: (builder, content type, suffix, reasons)
    "tiny-cells-page": (lambda: ruled_grid_pdf(300, 1.5), PDF, ".pdf", {"not_a_report", "unsupported", "timeout"}),
    "tiny-cells-pages": (lambda: ruled_grid_pdf(40, 12, pages=250), PDF, ".pdf", {"timeout"}),
    "docx-bomb": (docx_bomb, DOCX, ".docx", {"unsupported", "memory"}),
    "colspan-products": (colspan_products, HTML, ".html", {"report", "not_a_report", "unsupported", "memory", "timeout"}),
    "markup-tree": (markup_tree, HTML, ".html", {"memory", "unsupported", "timeout"}),
}


@pytest.fixture(scope="module")
def real_hostile(tmp_path_factory):
    """Two clean reports parsed and committed; then a second crawl brought the hostile files
    and a third clean report, and the stage ran under the small limits."""
    archive = Archive(tmp_path_factory.mktemp("limits"))
    parsed = archive.root / "parsed"
    archive.add("crawl-1", "clean-2021", clean_2021("clean-2021"), HTML, title("clean-2021"))
    archive.add("crawl-1", "clean-2019", clean_2019("clean-2019"), HTML, "青禾县农业农村局2020年政府信息公开工作年度报告")
    first = parse_archive(archive.raw.root, parsed, doc_timeout=TIMEOUT, doc_memory_mb=MEMORY_MB)
    assert first.reports == 2 and not first.quarantined, first.as_dict()
    objects_before = sorted(p.name for p in archive.raw.objects.rglob("*") if p.is_file())
    rows = {}
    for name, (build, content_type, suffix, _) in REAL.items():
        rows[name] = archive.add("crawl-2", name, build(), content_type, title(name), suffix)
    archive.add("crawl-2", "clean-late", clean_2021("clean-late"), HTML, title("clean-late"))
    started = time.monotonic()
    summary = parse_archive(archive.raw.root, parsed, doc_timeout=TIMEOUT, doc_memory_mb=MEMORY_MB)
    seconds = time.monotonic() - started
    print("real hostile files:", summary.as_dict(), f"{seconds:.1f} s")
    return archive, parsed, rows, summary, seconds, objects_before


def test_real_hostile_files_are_quarantined_and_the_run_commits(real_hostile):
    archive, parsed, rows, summary, seconds, objects_before = real_hostile
    assert summary.doc_timeout == TIMEOUT and summary.doc_memory_mb == MEMORY_MB
    # the rest of the run committed: the reports of before and the one that came with the hostile files
    reports = report_notes(parsed)
    assert {"clean-2021.html", "clean-2019.html", "clean-late.html"} <= set(reports)
    quarantined = quarantine(parsed)
    problems = []
    for name, (_, _, suffix, reasons) in REAL.items():
        row = quarantined.get(name + suffix)
        if row is None:
            if "report" not in reasons or name + suffix not in reports:
                problems.append(f"{name}: neither quarantined nor a report")
            elif not reports[name + suffix]:
                problems.append(f"{name}: a report without a note of what was cut")
            continue
        if row["reason"] not in reasons:
            problems.append(f"{name}: quarantined as {row['reason']} ({row['detail']}), expected one of {reasons}")
        # provenance: the body in the archive and where it came from
        if (row["content_sha256"], row["url"], row["source_id"]) != (rows[name]["sha256"], rows[name]["url"], "limits"):
            problems.append(f"{name}: provenance {row}")
        if row["reason"] in LIMIT_REASONS:
            entry = cache_entry(parsed, rows[name]["sha256"])
            assert entry["limits"] == {"doc_timeout": TIMEOUT, "doc_memory_mb": MEMORY_MB, "workers": 1}
            if entry["seconds"] > TIMEOUT + 2:
                problems.append(f"{name}: stopped after {entry['seconds']} s, past the {TIMEOUT} s limit")
            if row["reason"] == "timeout" and f"{TIMEOUT:g} s" not in row["detail"]:
                problems.append(f"{name}: detail {row['detail']!r} does not name the limit")
            if row["reason"] == "memory" and f"{MEMORY_MB} MB" not in row["detail"]:
                problems.append(f"{name}: detail {row['detail']!r} does not name the limit")
    assert not problems, "\n".join(problems)
    assert summary.over_limits == sum(r["reason"] in LIMIT_REASONS for r in quarantined.values())
    assert summary.over_limits >= 1   # the pages of ruled grids are slow whatever the checks
    # the slowest documents ran for minutes unbounded: the run took their limits, not that
    assert seconds < len(REAL) * (TIMEOUT + 2) + 30
    # nothing archived is lost
    objects_after = {p.name for p in archive.raw.objects.rglob("*") if p.is_file()}
    assert set(objects_before) <= objects_after


def test_real_hostile_files_are_not_parsed_again(real_hostile):
    archive, parsed, rows, summary, _, _ = real_hostile
    before = quarantine(parsed)
    started = time.monotonic()
    again = parse_archive(archive.raw.root, parsed, doc_timeout=TIMEOUT, doc_memory_mb=MEMORY_MB, force=True)
    assert again.parsed_now == 0 and again.over_limits == 0
    assert time.monotonic() - started < TIMEOUT   # not one of them tried again
    assert quarantine(parsed) == before and again.quarantined == summary.quarantined


# --------------------------------------------------------------------- exact reasons

HOOKED = {  # name: (body, reason)
    "spins": (b"HOSTILE-SPIN", "timeout"),
    "allocates": (b"HOSTILE-ALLOCATE", "memory"),
    "crashes": (b"HOSTILE-CRASH", "worker_died"),
}


@pytest.fixture
def hooked(tmp_path, monkeypatch):
    """An archive of a clean report and the documents of HOOKED, with the hook on the workers' path."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(hook))
    monkeypatch.setenv("PARSE_LIMITS_TEST_HOOK", "1")
    archive = Archive(tmp_path)
    rows = {"clean": archive.add("crawl-1", "clean", clean_2021("clean"), HTML, title("clean"))}
    for name, (marker, _) in HOOKED.items():
        rows[name] = archive.add("crawl-1", name, marker + f" {name} ".encode() + b"x" * 100, HTML, title(name))
    return archive, tmp_path / "parsed", rows


def run_hooked(archive: Archive, parsed: Path, **options):
    return parse_archive(archive.raw.root, parsed, doc_timeout=HOOK_TIMEOUT, doc_memory_mb=MEMORY_MB, **options)


def test_each_limit_has_its_reason_and_is_not_parsed_again_unless_asked(hooked, monkeypatch):
    archive, parsed, rows = hooked
    started = time.monotonic()
    summary = run_hooked(archive, parsed)
    assert time.monotonic() - started < 2 * (HOOK_TIMEOUT + 1) + 20
    quarantined = quarantine(parsed)
    assert {name: quarantined[name + ".html"]["reason"] for name in HOOKED} == \
        {name: reason for name, (_, reason) in HOOKED.items()}
    assert "SIGSEGV" in quarantined["crashes.html"]["detail"]
    assert f"{HOOK_TIMEOUT:g} s" in quarantined["spins.html"]["detail"]
    assert f"{MEMORY_MB} MB" in quarantined["allocates.html"]["detail"]
    assert summary.quarantined == {"timeout": 1, "memory": 1, "worker_died": 1}
    assert summary.over_limits == 3 and summary.reports == 1 and report_urls(parsed) == {"clean.html"}
    for name in HOOKED:   # each stopped within its limit
        assert cache_entry(parsed, rows[name]["sha256"])["seconds"] < HOOK_TIMEOUT + 1.5
    before = quarantined

    # a new document in the same year: the year is rewritten, the hostile ones are not parsed again
    archive.add("crawl-2", "clean-2", clean_2021("clean-2"), HTML, title("clean-2"))
    summary = run_hooked(archive, parsed)
    assert summary.years_rewritten == [2022] and summary.parsed_now == 1 and summary.over_limits == 0
    assert quarantine(parsed) == before and report_urls(parsed) == {"clean.html", "clean-2.html"}
    assert run_hooked(archive, parsed).unchanged
    # asked: exactly the three are parsed again (and stopped again)
    retried = run_hooked(archive, parsed, retry_quarantined=True)
    assert not retried.unchanged and retried.parsed_now == 3 and retried.over_limits == 3
    assert quarantine(parsed) == before and report_urls(parsed) == {"clean.html", "clean-2.html"}
    # a new parser parses everything again, the hostile ones with it
    monkeypatch.setattr("warehouse.stages.parse_archive.parser_fingerprint", lambda: "another-parser")
    changed = run_hooked(archive, parsed)
    assert changed.parsed_now == 5 and changed.over_limits == 3
    assert quarantine(parsed) == before
    # a retry that gets through (the hook off: the documents are what they are, not reports)
    monkeypatch.setenv("PARSE_LIMITS_TEST_HOOK", "0")
    healed = run_hooked(archive, parsed, retry_quarantined=True)
    assert healed.parsed_now == 3 and healed.over_limits == 0
    assert {r["reason"] for r in quarantine(parsed).values()} == {"not_a_report"}
    assert report_urls(parsed) == {"clean.html", "clean-2.html"}


def test_workers_are_reused(hooked):
    """One worker for the clean documents; a fresh one only after each stopped document."""
    from warehouse.stages.workers import DocLimits, Task, WorkerPool

    archive, parsed, rows = hooked
    out = parsed / "out"
    out.mkdir(parents=True)
    clean = [Task(f"clean-{i}", str(archive.raw.object_path(rows["clean"]["sha256"])), "a.html", HTML,
                  str(out / f"clean-{i}.json")) for i in range(20)]
    crash = Task("crash", str(archive.raw.object_path(rows["crashes"]["sha256"])), "c.html", HTML, str(out / "c.json"))
    with WorkerPool(DocLimits(HOOK_TIMEOUT, MEMORY_MB, 1)) as pool:
        outcomes = list(pool.run(clean[:10] + [crash] + clean[10:]))
        assert pool.started == 2
    assert [o.status for o in outcomes] == ["parsed"] * 10 + ["worker_died"] + ["parsed"] * 10
    assert all((out / f"clean-{i}.json").exists() for i in range(20))
