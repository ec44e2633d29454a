"""The intake portal as a head and the strategy office use it (Starlette's TestClient, no server):
an upload's findings are reconcile's for that file, a fixed re-upload is accepted, the office's board,
reminders and master follow, and the master equals the one `reconcile --from-portal` writes."""

from __future__ import annotations

import json
import re

import openpyxl
import pytest
from click.testing import CliRunner

from cascadebook.cli import cli
from cascadebook.inbox.sources import Input
from cascadebook.pipeline import reconcile
from cascadebook.portal.store import Store
from portal_fixtures import TODAY, client_for, make_cycle, make_portal, stored_files, upload

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture(scope="module")
def used(tmp_path_factory):
    """One cycle taken through the portal: MKT uploads mistakes then the fix, SAL a clean workbook."""
    cycle = make_cycle(tmp_path_factory.mktemp("portal") / "cycle")
    portal = make_portal(cycle)
    client = client_for(portal)
    mkt, sal = _path(portal.department_link("MKT")), _path(portal.department_link("SAL"))
    first = upload(client, mkt, cycle.mkt_bad)
    after_first = portal.store.uploads(portal.cycle, "MKT")
    second = upload(client, mkt, cycle.mkt_good)
    third = upload(client, sal, cycle.sal)
    return cycle, portal, client, first, after_first, second, third


def _comparable(findings) -> list[tuple]:
    return sorted((f["code"], f["severity"], f["sheet"], f["cell"], f["message"]) for f in findings)


def test_an_upload_shows_reconciles_findings_for_that_file(used):
    cycle, portal, _, first, after_first, *_ = used
    assert first.status_code == 200
    assert "Received with 4 error(s) to fix" in first.text
    for where in ("Initiatives!B5", "Initiatives!L5", "Initiatives!I6", "KPIs!J5"):
        assert where in first.text
    stored = after_first[0]
    name = stored.name  # reconcile of the stored file under the same name: the same findings
    alone = reconcile(portal.strategy, [Input(cycle.mkt_bad, name)], key=portal.key, jobs=1)
    expected = [f.to_dict() for f in alone.findings if f.file == name]
    assert _comparable(stored.findings) == _comparable(expected)
    assert stored.errors == 4 and stored.status == "accepted"


def test_a_fixed_reupload_is_accepted_and_both_are_kept(used):
    cycle, portal, _, _, _, second, _ = used
    assert second.status_code == 200
    assert 'id="verdict">Accepted' in second.text
    history = portal.store.uploads(portal.cycle, "MKT")
    assert [u.errors for u in history] == [4, 0]
    assert history[0].sha256 != history[1].sha256
    assert len(stored_files(cycle)) == 3  # every upload kept, none modified
    assert history[1].uploaded_at > history[0].uploaded_at


def test_the_office_board_shows_who_returned(used):
    _, portal, client, *_ = used
    page = client.get(_path(portal.office_link()))
    assert page.status_code == 200
    rows = dict(re.findall(r'<tr id="dep-(\w+)" class="state-([\w-]+)"', page.text))
    assert rows["MKT"] == "returned" and rows["SAL"] == "returned"
    assert {rows[c] for c in ("OPS", "RND", "FIN", "HR")} == {"waiting"}
    assert "Superseded submission" in page.text  # MKT's first upload, on the office's page only
    assert "department-not-returned" not in page.text and "has not returned" in page.text
    assert "upload" in page.text and "MKT" in page.text  # the audit log


def test_reminder_drafts_for_the_missing_only(used):
    _, portal, client, *_ = used
    office = _path(portal.office_link())
    draft = client.get(f"{office}/reminder/OPS.eml")
    assert draft.status_code == 200 and b"elena.novak@northwind.example" in draft.content
    assert client.get(f"{office}/reminder/MKT.eml").status_code == 404


def test_the_template_download_is_the_departments_signed_template(used, tmp_path):
    _, portal, client, *_ = used
    got = client.get(f"{_path(portal.department_link('RND'))}/template")
    assert got.status_code == 200
    (tmp_path / "t.xlsx").write_bytes(got.content)
    book = openpyxl.load_workbook(tmp_path / "t.xlsx", read_only=True)
    assert "Initiatives" in book.sheetnames


def _cells(path) -> dict[tuple[str, str], object]:
    book = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.value for ws in book.worksheets for row in ws.iter_rows() for c in row}


def test_the_portals_master_equals_reconcile_from_portal(used, tmp_path):
    cycle, portal, client, *_ = used
    got = client.get(f"{_path(portal.office_link())}/master.xlsx")
    assert got.status_code == 200
    (tmp_path / "portal.xlsx").write_bytes(got.content)
    cli_master = tmp_path / "cli.xlsx"
    run = CliRunner().invoke(
        cli, ["reconcile", str(cycle.strategy_path), "--from-portal", str(cycle.root), "-o", str(cli_master), "-q"]
    )
    assert run.exit_code == 0, run.output
    ours, theirs = _cells(tmp_path / "portal.xlsx"), _cells(cli_master)
    assert ours.keys() == theirs.keys()
    differing = {k: (ours[k], theirs[k]) for k in ours if ours[k] != theirs[k]}
    assert all(TIMESTAMP.search(str(a)) and TIMESTAMP.search(str(b)) for a, b in differing.values()), differing
    assert len(differing) <= 3  # the reconcile time, nothing else
    sources = [v for (sheet, _), v in ours.items() if sheet == "Sources" and isinstance(v, str)]
    assert any("portal/MKT/" in v for v in sources) and any("portal/SAL/" in v for v in sources)


def test_status_from_portal_agrees_with_the_board(used):
    cycle, portal, *_ = used
    args = ["status", str(cycle.strategy_path), "--from-portal", str(cycle.root), "--json", "-"]
    run = CliRunner().invoke(cli, [*args, "--today", TODAY.isoformat()])  # the portal's day
    assert run.exit_code == 0, run.output
    states = {d["code"]: d["state"] for d in json.loads(run.stdout)["departments"]}
    board = {d.code: d.state for d in portal.office.board().report.departments}
    assert states == board and states["MKT"] == "returned"


def test_reconcile_wants_inputs_or_a_portal(used):
    cycle, *_ = used
    run = CliRunner().invoke(cli, ["reconcile", str(cycle.strategy_path), "-o", str(cycle.root / "m.xlsx")])
    assert run.exit_code == 2 and "--from-portal" in run.output


def test_the_store_reopens_with_its_schema_current(used):
    cycle, portal, *_ = used
    again = Store(cycle.root)  # the migrations run again: nothing to do, nothing lost
    assert len(again.uploads(portal.cycle)) == 3
    again.dispose()


def test_portal_links_prints_every_departments_link(used):
    cycle, portal, *_ = used
    run = CliRunner().invoke(cli, ["portal-links", str(cycle.root), "--public-url", "https://plans.example"])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert len(lines) == len(portal.strategy.departments)
    assert lines[0].startswith("MKT\tpriya.raman@northwind.example\thttps://plans.example/d/MKT/1.")


def test_the_cycle_closes_at_closes_at_else_six_weeks_after_the_deadline(tmp_path):
    from datetime import date

    from cascadebook import load_strategy
    from conftest import SAMPLE_STRATEGY

    text = SAMPLE_STRATEGY.read_text(encoding="utf-8")
    assert load_strategy(SAMPLE_STRATEGY).closes_on == date(2027, 3, 12)  # 2027-01-29 + 6 weeks
    (tmp_path / "strategy.yaml").write_text(
        text.replace("response_deadline:", "closes_at: 2027-02-15\nresponse_deadline:")
    )
    assert load_strategy(tmp_path / "strategy.yaml").closes_on == date(2027, 2, 15)
    (tmp_path / "strategy.yaml").write_text(text.replace("response_deadline:", "closes_at: soon\nresponse_deadline:"))
    run = CliRunner().invoke(cli, ["portal-links", str(tmp_path)])
    assert run.exit_code == 2 and "closes_at" in run.output.lower().replace("cycle closes", "closes_at")


def test_serve_prints_the_office_link_and_how_to_put_it_behind_tls(used, monkeypatch):
    import uvicorn

    cycle, portal, *_ = used
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw))
    run = CliRunner().invoke(cli, ["serve", str(cycle.root), "--host", "0.0.0.0", "--port", "8123"])
    assert run.exit_code == 0, run.output
    assert f"http://0.0.0.0:8123/office/{_path(portal.office_link()).rsplit('/', 1)[1]}" in run.output
    assert "TLS" in run.output and "--public-url" in run.output
    assert started == [{"host": "0.0.0.0", "port": 8123, "log_level": "info", "proxy_headers": False}]
    local = CliRunner().invoke(cli, ["serve", str(cycle.root)])
    assert local.exit_code == 0 and "TLS" not in local.output


def test_serve_without_a_key_says_what_to_do(tmp_path):
    from conftest import SAMPLE_STRATEGY

    (tmp_path / "strategy.yaml").write_text(SAMPLE_STRATEGY.read_text())
    run = CliRunner().invoke(cli, ["serve", str(tmp_path)])
    assert run.exit_code == 2 and "cascadebook generate" in run.output
    assert CliRunner().invoke(cli, ["serve", str(tmp_path / "..")]).exit_code == 2  # no strategy there


def test_send_puts_each_departments_link_beside_the_template(used, tmp_path):
    from email import policy
    from email.parser import BytesParser

    cycle, portal, *_ = used
    drafts = tmp_path / "drafts"
    args = ["send", str(cycle.strategy_path), str(cycle.root / "outbox"), "--eml", str(drafts)]
    run = CliRunner().invoke(cli, [*args, "--portal-url", "https://plans.example/"])
    assert run.exit_code == 0, run.output
    for code in ("MKT", "SAL"):
        (path,) = drafts.glob(f"*_{code}*.eml")
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert f"checked at once:\nhttps://plans.example{_path(portal.department_link(code))}\n" in body
        assert [p.get_filename() for p in message.iter_attachments()] == [f"FY2027_{code}.xlsx"]
    plain = CliRunner().invoke(cli, [*args[:-1], str(tmp_path / "plain")])
    assert plain.exit_code == 0 and "/d/MKT/" not in next((tmp_path / "plain").glob("*_MKT*.eml")).read_text()


def test_send_portal_only_puts_the_link_instead_of_the_template(used, tmp_path):
    from email import policy
    from email.parser import BytesParser

    cycle, portal, *_ = used
    drafts = tmp_path / "drafts"
    args = ["send", str(cycle.strategy_path), str(cycle.root / "outbox"), "--eml", str(drafts)]
    run = CliRunner().invoke(cli, [*args, "--portal-url", "https://plans.example/", "--portal-only"])
    assert run.exit_code == 0, run.output
    (path,) = drafts.glob("*_MKT*.eml")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f"on your own page:\nhttps://plans.example{_path(portal.department_link('MKT'))}\n" in body
    assert "please upload it by" in message["Subject"]
    assert list(message.iter_attachments()) == []
    refused = CliRunner().invoke(cli, [*args[:-1], str(tmp_path / "x"), "--portal-only"])
    assert refused.exit_code == 2 and "--portal-only needs --portal-url" in refused.output
