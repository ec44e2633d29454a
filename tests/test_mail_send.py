"""cascadebook send: messages from templates, .eml drafts, and a real SMTP server with STARTTLS and login."""

from __future__ import annotations

import json
import re
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner

from cascadebook.cli import cli
from cascadebook.mail import MailError
from cascadebook.mail.compose import MessageTemplate, mail_settings, plan_requests
from cascadebook.mail.smtp import SendLog, SmtpConfig, send_all
from mail_fixtures import XLSX, SmtpServer, cycle  # noqa: F401 - fixture

CODES = ["FIN", "HR", "MKT", "OPS", "RND", "SAL"]
# aiosmtpd does not count implicit TLS as TLS for auth_require_tls, so that server allows AUTH without it
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def run(*args, env=None, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, input=input, catch_exceptions=False)


def smtp_args(server: SmtpServer, *extra):
    return [
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        server.port,
        "--user",
        server.user,
        "--cafile",
        server.cert,
        *(["--security", "ssl"] if server.implicit_tls else []),
        *extra,
    ]


def attachment_of(msg):
    parts = list(msg.iter_attachments())
    assert len(parts) == 1
    return parts[0]


# ------------------------------------------------------------------ composing


def test_request_message_from_the_bundled_template(cycle):
    settings = mail_settings(
        cycle.strategy, cycle.strategy_path, cc=["cfo@northwind.example"], reply_to=["planning@northwind.example"]
    )
    planned = plan_requests(cycle.strategy, cycle.outbox, settings, key=b"mail-tests-key")
    assert [p.department for p in planned] == CODES
    mkt = next(p for p in planned if p.department == "MKT")
    msg = mkt.message
    assert msg["To"] == "Priya Raman <priya.raman@northwind.example>"
    assert msg["Cc"] == "cfo@northwind.example"
    assert msg["Reply-To"] == "planning@northwind.example"
    assert msg["From"] == "\"Dana Whitfield, Strategy Office\" <strategy@northwind.example>"
    assert msg["Subject"] == "FY2027 goal plan for Marketing: please reply by Friday 29 January 2027"
    body = msg.get_body(("plain",)).get_content()
    assert "Dear Priya Raman," in body
    for objective in cycle.strategy.objectives:  # every objective's title, the deadline, the contact, what to fill
        assert f"- {objective.id}  {objective.title}" in body
    assert "Friday 29 January 2027" in body and "strategy@northwind.example" in body
    assert "- Initiatives: One row per initiative" in body and "- KPIs:" in body
    part = attachment_of(msg)
    assert part.get_content_type() == XLSX
    assert part.get_filename() == "FY2027_MKT.xlsx"
    assert part.get_content() == cycle.templates["MKT"].read_bytes()
    assert mkt.recipients == ["priya.raman@northwind.example", "cfo@northwind.example"]


def test_template_from_the_strategy_and_placeholder_errors(cycle):
    text = cycle.strategy_path.read_text()
    cycle.strategy_path.write_text(
        text + "\nemail:\n  from: Planning <planning@northwind.example>\n"
        "  cc: [coo@northwind.example]\n  request: my_request.txt\n"
    )
    (cycle.root / "my_request.txt").write_text(
        "Subject: ${department_code} plan, ${cycle}\n\nHi ${head}: ${deadline_iso}.\n"
    )
    settings = mail_settings(cycle.strategy, cycle.strategy_path)
    assert settings.sender == "Planning <planning@northwind.example>" and settings.cc == ("coo@northwind.example",)
    [item] = plan_requests(cycle.strategy, cycle.outbox, settings, departments=["sal"])
    assert item.subject == "SAL plan, FY2027"
    assert item.message.get_body(("plain",)).get_content() == "Hi Marcus Bell: 2027-01-29.\n"

    (cycle.root / "my_request.txt").write_text("Subject: ${departmnet}\n\nbody\n")
    with pytest.raises(MailError, match=r"unknown placeholder\(s\) \$\{departmnet\}"):
        plan_requests(cycle.strategy, cycle.outbox, settings)
    with pytest.raises(MailError, match=re.escape("starts with a 'Subject: ...' line")):
        MessageTemplate.parse("no subject here\n\nbody", "t.txt")


def test_missing_or_foreign_template_is_refused_before_anything_is_sent(cycle):
    cycle.templates["HR"].unlink()
    settings = mail_settings(cycle.strategy, cycle.strategy_path)
    with pytest.raises(MailError, match="no current template for HR"):
        plan_requests(cycle.strategy, cycle.outbox, settings, key=b"mail-tests-key")
    # a renamed template is still found by its metadata; a template signed with another key is not
    cycle.templates["MKT"].rename(cycle.outbox / "marketing.xlsx")
    assert (
        plan_requests(cycle.strategy, cycle.outbox, settings, departments=["MKT"])[0].attachment.name
        == "marketing.xlsx"
    )
    with pytest.raises(MailError, match="no current template for MKT"):
        plan_requests(cycle.strategy, cycle.outbox, settings, departments=["MKT"], key=b"another key")


def test_eml_drafts_open_ready_to_send(cycle):
    out = cycle.root / "drafts"
    result = run("send", cycle.strategy_path, cycle.outbox, "--eml", out, "--cc", "cfo@northwind.example")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [f"FY2027_{c}.eml" for c in CODES]
    raw = (out / "FY2027_OPS.eml").read_bytes()
    assert b"\r\n" in raw  # CRLF, as Outlook expects
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["X-Unsent"] == "1"
    assert msg["To"] == "Elena Novak <elena.novak@northwind.example>" and msg["Cc"] == "cfo@northwind.example"
    assert attachment_of(msg).get_content() == cycle.templates["OPS"].read_bytes()
    assert attachment_of(msg).get_content_type() == XLSX


def test_dry_run_shows_what_would_go_where_and_sends_nothing(cycle):
    result = run("send", cycle.strategy_path, cycle.outbox, "--dry-run", "--smtp-host", "127.0.0.1")
    assert result.exit_code == 0, result.output
    assert "would send MKT to priya.raman@northwind.example: FY2027 goal plan for Marketing" in result.output
    assert "6 to send, 0 already sent" in result.output
    assert not (cycle.outbox / "send-log.jsonl").exists()


def test_errors_are_one_line(cycle):
    result = CliRunner().invoke(
        cli,
        ["send", str(cycle.strategy_path), str(cycle.outbox), "--department", "XYZ", "--eml", str(cycle.root / "x")],
    )
    assert result.exit_code == 1 and "Error: unknown department code 'XYZ'" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["send", str(cycle.strategy_path), str(cycle.outbox)])
    assert result.exit_code == 2 and "--smtp-host" in result.output
    # no way to give the password on the command line; without the variable and a terminal, a clear error
    result = CliRunner().invoke(
        cli,
        ["send", str(cycle.strategy_path), str(cycle.outbox), "--smtp-host", "127.0.0.1", "--user", "me"],
        env={"CASCADEBOOK_SMTP_PASSWORD": ""},
    )
    assert result.exit_code == 1 and "set $CASCADEBOOK_SMTP_PASSWORD" in result.output
    result = CliRunner().invoke(cli, ["send", str(cycle.strategy_path), str(cycle.outbox), "--password", "x"])
    assert result.exit_code == 2 and "No such option" in result.output


# ------------------------------------------------------------------ a real server


def test_send_over_starttls_with_login(cycle):
    with SmtpServer(cycle.root) as server:
        result = run(
            "send",
            cycle.strategy_path,
            cycle.outbox,
            *smtp_args(server),
            "--cc",
            "cfo@northwind.example",
            env={"CASCADEBOOK_SMTP_PASSWORD": server.password},
        )
        assert result.exit_code == 0, result.output
        assert "6 sent, 0 already sent before, 0 failed" in result.output
    assert len(server.received) == 6
    by_to = {r.message["To"]: r for r in server.received}
    for dep in cycle.strategy.departments:
        got = next(r for r in server.received if dep.email in r.message["To"])
        assert got.user == "planner"
        assert got.sender == "strategy@northwind.example"
        assert sorted(got.recipients) == sorted([dep.email, "cfo@northwind.example"])
        assert (
            got.message["Subject"].strip() == f"FY2027 goal plan for {dep.name}: please reply by Friday 29 January 2027"
        )
        assert f"Dear {dep.head}," in got.message.get_body(("plain",)).get_content()
        assert "X-Unsent" not in got.message
        part = attachment_of(got.message)
        assert part.get_content_type() == XLSX and part.get_filename() == f"FY2027_{dep.code}.xlsx"
        assert part.get_content() == cycle.templates[dep.code].read_bytes()
    assert len(by_to) == 6
    log = [json.loads(line) for line in (cycle.outbox / "send-log.jsonl").read_text().splitlines()]
    assert [e["event"] for e in log].count("sent") == 6

    # a second run sends nothing
    with SmtpServer(cycle.root) as again:
        result = run(
            "send",
            cycle.strategy_path,
            cycle.outbox,
            *smtp_args(again),
            env={"CASCADEBOOK_SMTP_PASSWORD": again.password},
        )
    assert result.exit_code == 0 and "0 sent, 6 already sent before" in result.output
    assert again.received == []


def test_interrupted_send_resumes_with_only_the_rest(cycle):
    with SmtpServer(cycle.root, fail_from=3) as server:  # the server goes away at the third message
        result = CliRunner().invoke(
            cli,
            ["send", str(cycle.strategy_path), str(cycle.outbox), *map(str, smtp_args(server))],
            env={"CASCADEBOOK_SMTP_PASSWORD": server.password},
        )
    assert result.exit_code == 1
    assert "stopped:" in result.output and "run the same command again" in result.output
    first = sorted(r.message["To"] for r in server.received)
    assert len(first) == 2

    with SmtpServer(cycle.root) as server2:
        result = run(
            "send",
            cycle.strategy_path,
            cycle.outbox,
            *smtp_args(server2),
            env={"CASCADEBOOK_SMTP_PASSWORD": server2.password},
        )
    assert result.exit_code == 0, result.output
    assert "4 sent, 2 already sent before" in result.output
    second = sorted(r.message["To"] for r in server2.received)
    assert len(second) == 4 and not set(first) & set(second)
    assert len(set(first) | set(second)) == 6


def test_a_send_cut_off_mid_message_is_not_repeated_blindly(cycle):
    settings = mail_settings(cycle.strategy, cycle.strategy_path)
    planned = plan_requests(cycle.strategy, cycle.outbox, settings)
    log = SendLog(cycle.root / "log.jsonl")
    with SmtpServer(cycle.root) as server:
        config = SmtpConfig("127.0.0.1", server.port, "starttls", server.user, server.password, cafile=str(server.cert))
        seen = []

        def crash_after_two(what, item, detail):
            seen.append(item.department)
            if len(seen) == 2:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            send_all(planned, config, log, on_event=crash_after_two)
        # simulate a crash while the third message was with the server: "sending" with no outcome
        from cascadebook.mail.smtp import _entry

        log.append(_entry(planned[2], "sending", config))
        with open(log.path, "ab") as handle:
            handle.write(b'{"event": "sent", "key": "torn')  # a torn last line is ignored
        report = send_all(planned, config, log)
        assert [i.department for i in report.sent] == CODES[3:]
        assert [i.department for i, _ in report.uncertain] == [CODES[2]]
        assert not report.ok
        report = send_all(planned[2:3], config, log, resend=True)
        assert [i.department for i in report.sent] == [CODES[2]]
    assert sorted(r.message["To"].split("<")[1].rstrip(">") for r in server.received) == sorted(
        cycle.head(c) for c in CODES
    )


def test_implicit_tls_and_a_wrong_password(cycle):
    with SmtpServer(cycle.root, implicit_tls=True) as server:
        result = CliRunner().invoke(
            cli,
            ["send", str(cycle.strategy_path), str(cycle.outbox), "--department", "FIN", *map(str, smtp_args(server))],
            env={"CASCADEBOOK_SMTP_PASSWORD": "wrong"},
        )
        assert result.exit_code == 1 and "refused the login of 'planner'" in result.output
        assert "Traceback" not in result.output
        result = run(
            "send",
            cycle.strategy_path,
            cycle.outbox,
            "--department",
            "FIN",
            *smtp_args(server),
            input=server.password + "\n",
            env={"CASCADEBOOK_SMTP_PASSWORD": server.password},
        )
        assert result.exit_code == 0, result.output
    assert [r.message["To"] for r in server.received] == ["Grace Okafor <grace.okafor@northwind.example>"]


def test_untrusted_certificate_is_a_clear_error(cycle):
    with SmtpServer(cycle.root) as server:
        args = list(map(str, smtp_args(server)))
        cut = args.index("--cafile")
        del args[cut : cut + 2]
        result = CliRunner().invoke(
            cli,
            ["send", str(cycle.strategy_path), str(cycle.outbox), *args],
            env={"CASCADEBOOK_SMTP_PASSWORD": server.password},
        )
    assert result.exit_code == 1 and "certificate is not trusted" in result.output and "--cafile" in result.output
    assert server.received == []
