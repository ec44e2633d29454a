"""E-mail commands: send the templates, collect the returns, chase the missing, send feedback.

Thin click wrappers over ``cascadebook.mail``; every user-fixable problem is a one-line error.
"""

from __future__ import annotations

import json
import os
import sys

import click

from cascadebook.commands import (
    SPEC_HELP,
    STDOUT,
    JsonCommand,
    UserError,
    check_json_output,
    check_outputs,
    emit_json,
    json_option,
    load_strategy_or_exit,
    resolve_spec_or_exit,
)
from cascadebook.commands.portal import DATABASE_HELP, from_portal_options, open_portal, with_portal_inputs

PASSWORD_ENV = "CASCADEBOOK_SMTP_PASSWORD"


def _spec(spec_path: str | None, strategy=None):
    return resolve_spec_or_exit(spec_path, strategy)


def _settings(strategy, strategy_path: str, sender: str | None, cc, reply_to):
    from cascadebook.mail.compose import mail_settings

    return mail_settings(strategy, strategy_path, sender=sender, cc=cc, reply_to=reply_to)


class _Errors:
    """Turn library errors into one-line click errors."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        from cascadebook.atomic import OutputError
        from cascadebook.inbox.common import MailError

        if isinstance(exc, OutputError):  # an output that cannot be written: exit 2, nothing half-written
            raise UserError(str(exc)) from None
        if exc is not None and isinstance(exc, MailError):
            raise click.ClickException(str(exc)) from None
        if exc is not None and isinstance(exc, OSError) and not isinstance(exc, (BlockingIOError,)):
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None
        return False


_addressing = [
    click.option("--from", "sender", metavar="ADDRESS", help="From address [default: the strategy's contact]."),
    click.option("--cc", multiple=True, metavar="ADDRESS", help="Copy every message to ADDRESS (repeatable)."),
    click.option("--reply-to", multiple=True, metavar="ADDRESS", help="Reply-To address (repeatable)."),
    click.option(
        "--template",
        "template",
        type=click.Path(exists=True, dir_okay=False),
        help="Message text template: a 'Subject:' line, a blank line, the body with ${placeholders}.",
    ),
]


def _with(options):
    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


@click.command()
@click.argument("strategy", type=click.Path(exists=True, dir_okay=False))
@click.argument("outbox", type=click.Path(exists=True, file_okay=False))
@_with(_addressing)
@click.option("--department", "departments", multiple=True, metavar="CODE", help="Only this department (repeatable).")
@click.option(
    "--eml",
    "eml_dir",
    type=click.Path(file_okay=False),
    help="Write the messages as .eml drafts into this folder instead of sending them.",
)
@click.option("--dry-run", is_flag=True, help="Show what would go where; send and write nothing.")
@click.option("--smtp-host", envvar="CASCADEBOOK_SMTP_HOST", help="SMTP server [env: CASCADEBOOK_SMTP_HOST].")
@click.option(
    "--smtp-port",
    type=click.IntRange(1, 65535),
    envvar="CASCADEBOOK_SMTP_PORT",
    help="SMTP port [default: 587 starttls, 465 ssl, 25 none; env: CASCADEBOOK_SMTP_PORT].",
)
@click.option(
    "--security",
    type=click.Choice(["starttls", "ssl", "none"]),
    default="starttls",
    show_default=True,
    envvar="CASCADEBOOK_SMTP_SECURITY",
    help="STARTTLS, implicit TLS (ssl), or none.",
)
@click.option("--user", envvar="CASCADEBOOK_SMTP_USER", help="SMTP login [env: CASCADEBOOK_SMTP_USER].")
@click.option(
    "--password-env",
    default=PASSWORD_ENV,
    show_default=True,
    metavar="NAME",
    help="Environment variable holding the SMTP password (asked for when unset).",
)
@click.option(
    "--cafile",
    type=click.Path(exists=True, dir_okay=False),
    help="Also trust this CA certificate (a company CA, or a test server's own certificate).",
)
@click.option("--log", "log_path", type=click.Path(dir_okay=False), help="Send log [default: OUTBOX/send-log.jsonl].")
@click.option("--resend", is_flag=True, help="Send even what the send log says was sent (or may have been).")
@click.option("--spec", "spec_path", default=None, help=SPEC_HELP)
@click.option(
    "--portal-url",
    default=None,
    metavar="URL",
    help="Put each department's intake portal link (`cascadebook serve`, at URL) in its message, beside the template.",
)
@click.option(
    "--portal-only",
    is_flag=True,
    help="With --portal-url: the link instead of the attached template (the head downloads it from the page).",
)
@click.option(
    "--portal-database", envvar="CASCADEBOOK_PORTAL_DATABASE", default=None, metavar="URL", help=DATABASE_HELP
)
def send(
    strategy,
    outbox,
    sender,
    cc,
    reply_to,
    template,
    departments,
    eml_dir,
    dry_run,
    smtp_host,
    smtp_port,
    security,
    user,
    password_env,
    cafile,
    log_path,
    resend,
    spec_path,
    portal_url=None,
    portal_only=False,
    portal_database=None,
):
    """E-mail each department head its template from OUTBOX.

    One message per department, to the head's address in STRATEGY, with the subject and body from
    a text template (see README, 'Message templates') and the department's template attached.

    \b
    --eml DIR   writes .eml drafts (Outlook/Thunderbird open them ready to send)
    otherwise   sends over SMTP; the password comes from $CASCADEBOOK_SMTP_PASSWORD
                (or --password-env NAME) or a prompt, never from the command line

    Every message sent is recorded in a send log (OUTBOX/send-log.jsonl): running the same command
    again after an interruption sends only what is left. --dry-run shows what would go where.
    """
    from pathlib import Path

    from cascadebook.mail.compose import plan_requests, write_drafts
    from cascadebook.mail.smtp import LOG_NAME, SendLog, SmtpConfig, plan_state, send_all
    from cascadebook.signing import load_key

    loaded = load_strategy_or_exit(strategy)
    spec = _spec(spec_path, loaded)
    if portal_only and not portal_url:
        raise click.UsageError("--portal-only needs --portal-url: the address the links carry")
    if eml_dir and not dry_run:
        check_outputs(folders=[eml_dir])
    with _Errors():
        settings = _settings(loaded, strategy, sender, cc, reply_to)
        links = None
        if portal_url:
            portal = open_portal(str(Path(strategy).parent), portal_database, portal_url)
            links = {d.code: portal.department_link(d.code) for d in loaded.departments}
            portal.store.dispose()
        planned = plan_requests(
            loaded,
            outbox,
            settings,
            spec=spec,
            key=load_key(strategy),
            departments=departments,
            template=template,
            links=links,
            link_only=portal_only,
        )
        if eml_dir:
            if dry_run:
                for item in planned:
                    click.echo(
                        f"would write {Path(eml_dir) / item.eml_name}: to {', '.join(item.recipients)}: {item.subject}"
                    )
                return
            from cascadebook.atomic import all_or_nothing

            with all_or_nothing():  # every draft, or none
                drafts = write_drafts(planned, eml_dir)
            for path in drafts:
                click.echo(f"wrote {path}")
            click.echo(f"{len(planned)} draft(s) in {eml_dir}: open each and press Send")
            return
        log = SendLog(log_path or Path(outbox) / LOG_NAME)
        if dry_run:
            state = plan_state(planned, log, resend=resend)
            for item in state.pending:
                size = item.attachment.stat().st_size if item.attachment else 0
                click.echo(
                    f"would send {item.department} to {', '.join(item.recipients)}: {item.subject} "
                    f"[{item.attachment.name if item.attachment else 'no attachment'}, {size:,} bytes]"
                )
            _report_skips(state)
            click.echo(
                f"{len(state.pending)} to send, {len(state.already)} already sent"
                + (f", {len(state.uncertain)} uncertain" if state.uncertain else "")
                + (f" (server {smtp_host})" if smtp_host else "")
            )
            return
        if not smtp_host:
            raise click.UsageError("give --smtp-host (or CASCADEBOOK_SMTP_HOST) to send, or --eml DIR for drafts")
        check_outputs([log.path], what="send log")  # a message sent but not logged would be sent twice
        todo = plan_state(planned, log, resend=resend)
        password = ""
        if user and todo.pending:
            password = os.environ.get(password_env, "")
            if not password:
                if not sys.stdin.isatty():
                    raise click.ClickException(
                        f"no SMTP password: set ${password_env} (it is never taken from the command line)"
                    )
                password = click.prompt(f"SMTP password for {user}", hide_input=True, err=True)
        config = SmtpConfig(smtp_host, smtp_port, security, user or "", password, cafile=cafile)

        def event(what, item, detail):
            if what == "sent":
                click.echo(
                    f"sent {item.department} to {', '.join(item.recipients)}" + (f" ({detail})" if detail else "")
                )
            else:
                click.echo(f"FAILED {item.department} to {', '.join(item.recipients)}: {detail}", err=True)

        report = send_all(planned, config, log, resend=resend, on_event=event)
    _report_skips(report)
    click.echo(
        f"{len(report.sent)} sent, {len(report.already)} already sent before, {len(report.failed)} failed"
        + (f", {len(report.pending)} not sent" if report.pending else "")
        + f"; log: {log.path}"
    )
    if report.stopped:
        raise click.ClickException(f"stopped: {report.stopped}; run the same command again to send the rest")
    if not report.ok:
        sys.exit(1)


def _report_skips(report) -> None:
    for item, entry in report.already:
        click.echo(f"already sent {item.department} on {entry.get('at', '?')} (skipped; --resend to send again)")
    for item, entry in report.uncertain:
        click.echo(
            f"UNCERTAIN {item.department}: a send was interrupted on {entry.get('at', '?')} and may have "
            f"arrived; check the Sent folder, then --department {item.department} --resend",
            err=True,
        )


@click.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "-o",
    "--output",
    "folder",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for the collected workbooks and manifest.json/manifest.csv.",
)
@click.option(
    "--strategy",
    "strategy_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Check each sender against the department head's address in this strategy.",
)
@click.option("--spec", "spec_path", default=None, help=SPEC_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def collect(sources, folder, strategy_path, spec_path, as_json):
    """Extract the returned workbooks from SOURCES into a folder.

    SOURCES are folders, .zip archives, .eml files, .mbox files, Maildir folders and Outlook .msg
    files (an attachment may itself be a .zip or a forwarded message). Spreadsheet attachments are
    written once each (byte-identical duplicates are dropped) with the mail date in the name, and
    manifest.json / manifest.csv say for each: source, sender, date, subject, sha256 and the
    department found in the workbook's metadata. With --strategy, a workbook sent by someone other
    than the department head is reported (sender-not-head). Then: cascadebook reconcile STRATEGY FOLDER.
    """
    from cascadebook.inbox.collect import collect as run

    strategy = load_strategy_or_exit(strategy_path) if strategy_path else None
    spec = _spec(spec_path, strategy)
    check_outputs(folders=[folder])
    with _Errors():
        result = run(sources, folder, strategy=strategy, spec=spec)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    for entry in result.entries:
        if entry.status == "collected":
            who = f" from {entry.sender}" if entry.sender else ""
            dep = entry.department or "no department"
            click.echo(f"collected {entry.file} ({dep}){who}")
        elif entry.status == "duplicate":
            click.echo(f"duplicate {entry.source} (same bytes as {entry.duplicate_of})")
        elif entry.status in ("unreadable", "no-attachment"):
            click.echo(f"{entry.status} {entry.source}: {entry.note}")
    for f in result.findings:
        click.echo(f"{f.severity.value}: {f.message} [{f.code}]", err=True)
    counts = {s: len(result.by_status(s)) for s in ("collected", "duplicate", "skipped", "no-attachment", "unreadable")}
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()) + f"; manifest: {result.folder / 'manifest.json'}")


@click.command(cls=JsonCommand)
@click.argument("strategy", type=click.Path(exists=True, dir_okay=False))
@click.argument("inputs", nargs=-1, type=click.Path(exists=True))
@from_portal_options
@json_option("the status")
@click.option(
    "--remind",
    "remind_dir",
    type=click.Path(file_okay=False),
    help="Write a reminder .eml for each department without a usable return into this folder.",
)
@click.option(
    "--outbox",
    type=click.Path(exists=True, file_okay=False),
    help="Attach each department's template from OUTBOX to its reminder.",
)
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Judge lateness as of this date [default: today].")
@_with(_addressing)
@click.option("--spec", "spec_path", default=None, help=SPEC_HELP)
def status(strategy, inputs, json_out, remind_dir, outbox, today, sender, cc, reply_to, template, spec_path, **portal):
    """Who has returned, who is late, who returned with errors.

    INPUTS are what reconcile reads: workbooks, folders, and the mail sources collect reads.
    States: returned, returned with errors, waiting (not yet, deadline ahead), late (deadline
    passed), rejected (a workbook came but cannot be used). --remind DIR writes reminder drafts
    for every department without a usable return.
    """
    from cascadebook.atomic import all_or_nothing
    from cascadebook.mail.status import department_status, write_reminders
    from cascadebook.signing import load_key

    loaded = load_strategy_or_exit(strategy)
    inputs = with_portal_inputs(inputs, portal["from_portal"], portal["portal_database"])
    spec = _spec(spec_path, loaded)
    key = load_key(strategy)
    check_outputs(folders=[remind_dir])
    check_json_output(json_out)
    as_json = json_out == STDOUT
    with _Errors():
        settings = _settings(loaded, strategy, sender, cc, reply_to) if remind_dir else None
        if remind_dir:  # check the message template before the slow part
            settings.template("reminder", template)
        report = department_status(loaded, inputs, spec=spec, key=key, today=today.date() if today else None, jobs=None)
    if not as_json:
        _status_table(report)
    with _Errors(), all_or_nothing():  # the reminders and the JSON file: all new, or all as they were
        reminders = (
            write_reminders(report, loaded, remind_dir, settings, spec=spec, outbox=outbox, key=key, template=template)
            if remind_dir
            else []
        )
        if json_out:
            data = report.to_dict()
            data["reminders"] = [str(p) for p in reminders]
            if not as_json:
                emit_json(data, json_out)
    if as_json:
        emit_json(data, STDOUT)
        return
    if json_out:
        click.echo(f"wrote {json_out}")
    for path in reminders:
        click.echo(f"wrote {path}")


def _status_table(report) -> None:
    from rich.console import Console
    from rich.table import Table

    from cascadebook.inbox.common import address_of

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    deadline = report.deadline.isoformat() if report.deadline else "none"
    table = Table(title=f"{report.cycle}: deadline {deadline}, today {report.today.isoformat()}", title_justify="left")
    for column in ("Department", "Head", "Status", "Returned", "Errors", "Warnings", "File", "Note"):
        table.add_column(column, no_wrap=column in ("Department", "Status", "Returned"))
    colours = {
        "returned": "green",
        "returned with errors": "red",
        "waiting": "yellow",
        "late": "bold red",
        "rejected": "red",
    }
    for row in report.departments:
        notes = []
        if row.late and not row.missing:
            notes.append("after the deadline")
        if row.sender and address_of(row.sender) != address_of(row.email):
            notes.append(f"sent by {row.sender}, not the head")
        if row.reason:
            notes.append(row.reason)
        returned = row.returned_at[:16].replace("T", " ")
        table.add_row(
            "  " * (row.level - 1) + row.code,  # indented under its parent when units report to units
            row.head,
            f"[{colours.get(row.state, 'white')}]{row.state}[/]",
            returned,
            "" if row.missing else str(row.errors),
            "" if row.missing else str(row.warnings),
            row.file,
            "; ".join(notes),
        )
    console.print(table)
    if report.nested:
        _status_rollups(console, report, colours)
    counts = ", ".join(
        f"{report.count(s)} {s}"
        for s in ("returned", "returned with errors", "waiting", "late", "rejected")
        if report.count(s)
    )
    console.print(counts)


def _status_rollups(console, report, colours: dict[str, str]) -> None:
    """Units with units below them, each counted with all of those, then each level's units."""
    from rich.table import Table

    from cascadebook.mail.status import STATES

    table = Table(title="By unit, with the units below it", title_justify="left")
    for column in ("Unit", "Name", "Level", "Units", *STATES):
        table.add_column(column, no_wrap=column == "Unit", justify="left" if column in ("Unit", "Name") else "right")
    for unit in report.by_unit():
        shown = [f"[{colours[s]}]{unit.counts[s]}[/]" if unit.counts[s] else "0" for s in STATES]
        table.add_row(
            "  " * (unit.level - 1) + unit.code, unit.name, str(unit.level), str(unit.counts["units"]), *shown
        )
    console.print(table)
    for level, counts in report.by_level().items():
        done = ", ".join(f"{counts[s]} {s}" for s in STATES if counts[s])
        console.print(f"level {level}: {counts['units']} unit(s): {done}")


@click.command()
@click.argument("strategy", type=click.Path(exists=True, dir_okay=False))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "-o",
    "--output",
    "folder",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for the annotated copies and the reply drafts.",
)
@click.option("--department", "departments", multiple=True, metavar="CODE", help="Only this department (repeatable).")
@_with(_addressing)
@click.option("--spec", "spec_path", default=None, help=SPEC_HELP)
def feedback(strategy, inputs, folder, departments, sender, cc, reply_to, template, spec_path):
    """Give each department its workbook back with the problems marked, and a reply draft.

    For every returned workbook with errors or warnings the department can fix: a copy
    (the original is never changed) with each problem as a cell comment, the cells in red and a
    "To fix" sheet listing them, plus a reply .eml to whoever sent it (else the head) with the
    copy attached. Once fixed and returned, the copy reconciles as the department's submission.
    """
    from cascadebook.mail.feedback import feedback as run
    from cascadebook.signing import load_key

    loaded = load_strategy_or_exit(strategy)
    spec = _spec(spec_path, loaded)
    check_outputs(folders=[folder])
    with _Errors():
        settings = _settings(loaded, strategy, sender, cc, reply_to)
        items = run(
            loaded,
            inputs,
            folder,
            settings,
            spec=spec,
            key=load_key(strategy),
            template=template,
            departments=departments,
            jobs=None,
        )
    for item in items:
        errors = sum(1 for f in item.findings if f.severity.value == "error")
        click.echo(
            f"{item.department}: {len(item.findings)} point(s) ({errors} error(s)) -> "
            f"{item.workbook or '(no copy: ' + item.note + ')'} and {item.eml} to {item.to}"
        )
    click.echo(f"{len(items)} department(s) to get feedback" if items else "nothing to fix: no feedback written")


COMMANDS = [send, collect, status, feedback]
