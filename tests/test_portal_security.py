"""Each attack on the intake portal, tried: it is refused, and nothing is stored (no upload row, no file).

Wrong department's token, a forged token, a revoked one, an expired cycle, a form without its CSRF
token, path-traversal file names, a zip bomb, an oversized upload (with and without a Content-Length),
another department's workbook, and the per-department upload limit.
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta

import pytest

from corpus import make_corpus as corpus
from portal_fixtures import Cycle, client_for, csrf_of, make_cycle, make_portal, stored_files, upload


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Cycle:
    return make_cycle(tmp_path_factory.mktemp("portal-security") / "cycle")


@pytest.fixture
def cycle(made, tmp_path) -> Cycle:
    """The module's workbooks with a cycle folder (strategy, key, an empty portal) of this test's own."""
    root = tmp_path / "cycle"
    root.mkdir()
    for name in ("strategy.yaml", ".cascadebook-key"):
        shutil.copyfile(made.root / name, root / name)
    return Cycle(root, root / "strategy.yaml", made.templates, made.mkt_bad, made.mkt_good, made.sal)


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _nothing_stored(cycle: Cycle, portal) -> None:
    assert portal.store.uploads(portal.cycle) == []
    assert stored_files(cycle) == []
    assert list((cycle.root / "portal" / "tmp").iterdir()) == []


def test_a_good_upload_is_stored_so_the_checks_below_can_fail(cycle):
    portal = make_portal(cycle)
    response = upload(client_for(portal), _path(portal.department_link("MKT")), cycle.mkt_good)
    assert response.status_code == 200
    assert len(portal.store.uploads(portal.cycle)) == 1 and len(stored_files(cycle)) == 1


def test_another_departments_token_opens_nothing(cycle):
    portal = make_portal(cycle)
    client = client_for(portal)
    mkt_token = _path(portal.department_link("MKT")).rsplit("/", 1)[1]
    sal_page = f"/d/SAL/{mkt_token}"
    assert client.get(sal_page).status_code == 404
    own = client.get(_path(portal.department_link("MKT")))  # a valid cookie and CSRF token, from MKT's page
    with open(cycle.sal, "rb") as handle:
        refused = client.post(
            f"{sal_page}/upload", data={"csrf": csrf_of(own.text)}, files={"workbook": ("FY2027_SAL.xlsx", handle)}
        )
    assert refused.status_code == 404
    assert client.get(f"/office/{mkt_token}").status_code == 404  # nor the office's page
    _nothing_stored(cycle, portal)


@pytest.mark.parametrize(
    "token",
    ["1." + "0" * 40, "2.deadbeef", "", "1.63454e0d10d535cb755dc774fc76d068a44de13", "../../etc/passwd"],
)
def test_a_forged_token_opens_nothing(cycle, token):
    portal = make_portal(cycle)
    client = client_for(portal)
    assert client.get(f"/d/MKT/{token}").status_code in (404, 405)
    with open(cycle.mkt_good, "rb") as handle:
        refused = client.post(f"/d/MKT/{token}/upload", files={"workbook": ("FY2027_MKT.xlsx", handle)})
    assert refused.status_code in (404, 405)
    assert client.get(f"/office/{token}").status_code == 404
    _nothing_stored(cycle, portal)


def test_a_revoked_link_stops_working_and_a_new_one_is_made(cycle):
    portal = make_portal(cycle)
    client = client_for(portal)
    old = _path(portal.department_link("MKT"))
    office = _path(portal.office_link())
    page = client.get(office)
    assert client.post(f"{office}/revoke", data={"department": "MKT"}).status_code == 403  # CSRF here too
    assert client.get(old).status_code == 200
    done = client.post(f"{office}/revoke", data={"department": "MKT", "csrf": csrf_of(page.text)})
    assert done.status_code == 200  # back on the office page
    assert client.get(old).status_code == 404
    new = _path(portal.department_link("MKT"))
    assert new != old and client.get(new).status_code == 200
    assert upload(client, old, cycle.mkt_good, csrf="x").status_code == 404
    _nothing_stored(cycle, portal)


def test_an_expired_cycle_refuses_every_department_link(cycle):
    portal = make_portal(cycle)
    portal.today = portal.strategy.closes_on + timedelta(days=1)
    client = client_for(portal)
    link = _path(portal.department_link("MKT"))
    closed = client.get(link)
    assert closed.status_code == 410 and "closed" in closed.text
    with open(cycle.mkt_good, "rb") as handle:
        assert client.post(f"{link}/upload", files={"workbook": ("FY2027_MKT.xlsx", handle)}).status_code == 410
    _nothing_stored(cycle, portal)


@pytest.mark.parametrize("csrf", [None, "", "0" * 40, "forged"])
def test_an_upload_without_its_csrf_token_is_refused(cycle, csrf):
    portal = make_portal(cycle)
    client = client_for(portal)
    link = _path(portal.department_link("MKT"))
    client.get(link)  # the CSRF cookie is set; the form field is missing or wrong
    data = {} if csrf is None else {"csrf": csrf}
    with open(cycle.mkt_good, "rb") as handle:
        refused = client.post(f"{link}/upload", data=data, files={"workbook": ("FY2027_MKT.xlsx", handle)})
    assert refused.status_code == 403
    _nothing_stored(cycle, portal)


def test_a_csrf_token_from_another_browser_is_refused(cycle):
    portal = make_portal(cycle)
    link = _path(portal.department_link("MKT"))
    theirs = csrf_of(client_for(portal).get(link).text)  # the attacker's own page, own cookie
    victim = client_for(portal)
    victim.get(link)
    assert upload(victim, link, cycle.mkt_good, csrf=theirs).status_code == 403
    _nothing_stored(cycle, portal)


@pytest.mark.parametrize(
    "name", ["../../../evil.xlsx", "..\\..\\evil.xlsx", "/etc/cron.d/evil.xlsx", "sub/FY2027_MKT.xlsx", "..xlsx"]
)
def test_a_file_name_with_a_path_is_refused(cycle, name):
    portal = make_portal(cycle)
    refused = upload(client_for(portal), _path(portal.department_link("MKT")), cycle.mkt_good, name)
    assert refused.status_code == 400
    _nothing_stored(cycle, portal)
    assert not (cycle.root.parent / "evil.xlsx").exists()


def test_a_zip_bomb_is_refused_by_the_gate(cycle, tmp_path):
    bomb = corpus.zip_bomb_declared(tmp_path / "FY2027_MKT.xlsx", cycle.mkt_good, megabytes=300)
    assert bomb.stat().st_size < 2 * 1024 * 1024  # small on the wire, 300 MB inflated
    portal = make_portal(cycle)
    refused = upload(client_for(portal), _path(portal.department_link("MKT")), bomb)
    assert refused.status_code == 422 and "zip bomb" in refused.text
    _nothing_stored(cycle, portal)


def test_an_oversized_upload_is_refused_before_it_is_read(cycle, tmp_path):
    portal = make_portal(cycle, max_request=64 * 1024)
    client = client_for(portal)
    link = _path(portal.department_link("MKT"))
    big = tmp_path / "big.xlsx"
    big.write_bytes(cycle.mkt_good.read_bytes() + b"\0" * 100_000)
    assert upload(client, link, big).status_code == 413
    token = csrf_of(client.get(link).text)

    def chunks():  # no Content-Length: the body is counted as it comes
        boundary = b"--x\r\n"
        yield boundary + b'Content-Disposition: form-data; name="csrf"\r\n\r\n' + token.encode() + b"\r\n"
        yield boundary + b'Content-Disposition: form-data; name="workbook"; filename="a.xlsx"\r\n\r\n'
        for _ in range(20):
            yield b"\0" * 10_000
        yield b"\r\n--x--\r\n"

    chunked = client.post(
        f"{link}/upload", content=chunks(), headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert chunked.status_code == 413
    _nothing_stored(cycle, portal)


def test_another_departments_workbook_is_refused_on_this_page(cycle):
    portal = make_portal(cycle)
    refused = upload(client_for(portal), _path(portal.department_link("MKT")), cycle.sal)
    assert refused.status_code == 422
    assert "SAL&#39;s workbook, uploaded on MKT&#39;s page" in refused.text
    _nothing_stored(cycle, portal)


def test_the_per_department_upload_limit(cycle):
    portal = make_portal(cycle, max_uploads=1)
    client = client_for(portal)
    link = _path(portal.department_link("MKT"))
    assert upload(client, link, cycle.mkt_good).status_code == 200
    assert upload(client, link, cycle.mkt_bad).status_code == 429
    assert len(portal.store.uploads(portal.cycle)) == 1


def test_security_headers_on_every_page(cycle):
    portal = make_portal(cycle)
    client = client_for(portal)
    for path in (_path(portal.department_link("MKT")), _path(portal.office_link()), "/d/MKT/wrong", "/"):
        headers = client.get(path).headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
    page = client_for(portal).get(_path(portal.department_link("MKT")))  # a browser without the cookie yet
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "<script>" not in page.text and " style=" not in page.text  # nothing inline: the CSP allows none


def test_a_failure_while_storing_leaves_no_half_recorded_upload(cycle, monkeypatch):
    from sqlalchemy.exc import OperationalError

    portal = make_portal(cycle)
    client = client_for(portal)
    link = _path(portal.department_link("MKT"))

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(portal.store, "put", full_disk)
        refused = upload(client, link, cycle.mkt_good)
    assert refused.status_code == 503 and "upload it again" in refused.text
    _nothing_stored(cycle, portal)

    def database_gone(**kwargs):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(portal.store, "record", database_gone)
        assert upload(client, link, cycle.mkt_good).status_code == 503
    assert portal.store.uploads(portal.cycle) == []  # the file was written first; no row names it
    assert len(stored_files(cycle)) == 1
    assert upload(client, link, cycle.mkt_good).status_code == 200  # again: the same file, now recorded
    assert len(portal.store.uploads(portal.cycle)) == 1 and len(stored_files(cycle)) == 1
    assert any(a["action"] == "store-failed" for a in portal.store.audit_log(portal.cycle))
