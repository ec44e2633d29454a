"""send's branches no test reached (issue 17): a password never goes over an unencrypted connection,
and a connection lost in the middle of a message stops the run so that running it again sends exactly
the rest. A small plain SMTP server on 127.0.0.1 that can hang up during a message."""

from __future__ import annotations

import socket
import socketserver
import threading

from click.testing import CliRunner

from cascadebook.cli import cli
from cascadebook.mail.compose import mail_settings, plan_requests
from cascadebook.mail.smtp import SendLog, SmtpConfig, send_all
from mail_fixtures import cycle  # noqa: F401 - fixture

CODES = ["FIN", "HR", "MKT", "OPS", "RND", "SAL"]


class PlainSmtp:
    """SMTP without TLS or login on 127.0.0.1; hangs up after reading message number ``drop_at`` (1-based)."""

    def __init__(self, drop_at: int | None = None):
        self.drop_at = drop_at
        self.connections = 0
        self.messages: list[bytes] = []  # accepted (250 after DATA)
        self.dropped: list[bytes] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10

            def handle(self) -> None:
                outer.connections += 1
                self.wfile.write(b"220 localhost plain test server\r\n")
                while True:
                    line = self.rfile.readline(65536)
                    if not line:
                        return
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.wfile.write(b"250-localhost\r\n250 8BITMIME\r\n")
                    elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                        self.wfile.write(b"250 OK\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        body = []
                        while (chunk := self.rfile.readline(1 << 20)) not in (b".\r\n", b""):
                            body.append(chunk)
                        data = b"".join(body)
                        if outer.drop_at is not None and len(outer.messages) + len(outer.dropped) + 1 == outer.drop_at:
                            outer.dropped.append(data)
                            self.connection.shutdown(socket.SHUT_RDWR)  # gone before answering
                            return
                        outer.messages.append(data)
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"502 not here\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def __enter__(self) -> PlainSmtp:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _to(data: bytes) -> str:
    from email import message_from_bytes

    return message_from_bytes(data)["To"]


def test_a_password_is_never_sent_over_an_unencrypted_connection(cycle):
    """--security none with a login: a one-line error saying what to do, before any connection is made."""
    with PlainSmtp() as server:
        result = CliRunner().invoke(
            cli,
            [
                "send",
                str(cycle.strategy_path),
                str(cycle.outbox),
                "--smtp-host",
                "127.0.0.1",
                "--smtp-port",
                str(server.port),
                "--security",
                "none",
                "--user",
                "planner",
            ],
            env={"CASCADEBOOK_SMTP_PASSWORD": "s3cret-pw"},
        )
    assert result.exit_code == 1
    assert "Error: refusing to send the SMTP password unencrypted: use --security starttls or ssl" in result.output
    assert "Traceback" not in result.output and "s3cret-pw" not in result.output
    assert server.connections == 0 and not server.messages


def test_a_connection_lost_mid_message_stops_the_run_and_a_rerun_sends_the_rest(cycle):
    """The server hangs up while the third message is being sent: two are sent, the third is failed with
    the reason, the other three are pending, the run says it stopped; the same run again (a server that
    stays up) sends the four not sent, nothing twice."""
    planned = plan_requests(cycle.strategy, cycle.outbox, mail_settings(cycle.strategy, cycle.strategy_path))
    assert [p.department for p in planned] == CODES
    log = SendLog(cycle.root / "send-log.jsonl")
    with PlainSmtp(drop_at=3) as server:
        config = SmtpConfig("127.0.0.1", server.port, "none")
        report = send_all(planned, config, log)
    assert [i.department for i in report.sent] == CODES[:2]
    assert [i.department for i, _ in report.failed] == [CODES[2]]
    assert [i.department for i in report.pending] == CODES[3:]
    assert report.stopped.startswith(f"lost the connection to 127.0.0.1:{server.port}") and not report.ok
    assert len(server.messages) == 2 and len(server.dropped) == 1
    events = [(e["event"]) for e in log.entries()]
    assert events == ["sending", "sent", "sending", "sent", "sending", "failed"]

    with PlainSmtp() as again:
        report = send_all(planned, SmtpConfig("127.0.0.1", again.port, "none"), log)
    assert [i.department for i in report.sent] == CODES[2:] and report.ok
    assert [i.department for i, _ in report.already] == CODES[:2]
    heads = sorted(_to(m) for m in server.messages + again.messages)
    assert len(heads) == 6 and len(set(heads)) == 6
    assert {cycle.head(c) for c in CODES} == {h.split("<")[-1].rstrip(">") for h in heads}
