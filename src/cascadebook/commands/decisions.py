"""``cascadebook decisions``: finance's decisions in the master, checked, and sent back per department."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cascadebook.commands import JsonCommand, json_option

DECISIONS_HELP = """Read finance's decisions from MASTER, check them, and write each department's answer into OUTDIR.

\b
  cascadebook decisions cycle/master.xlsx -o cycle/decisions
  cascadebook decisions cycle/master.xlsx -s cycle/strategy.yaml -o cycle/decisions --json -

For each department with initiatives in the master: <cycle>_<CODE>_decisions.xlsx (its initiatives
with the request, the decision, the approved amounts, the reviewer and the comment, and the totals
requested against approved) and, when something is decided, a reply draft <cycle>_<CODE> decisions.eml
to the department head with the workbook attached (text: email_decisions.txt, bundled or beside the
strategy). Drafts need the strategy: --strategy, else strategy.yaml beside MASTER; without one the
workbooks are still written.

The decisions are checked: an approval above the request, Revise without a comment, a label not in
the dropdown, an approval of an initiative the master has errors for, a decision whose initiative
changed since; each finding names the master's cell. Exit status 0, 1 when a finding is an error
(the outputs are still written), 2 when MASTER cannot be read (its review columns damaged: the cells
are named) or an output cannot be written.
"""


@click.command(help=DECISIONS_HELP, cls=JsonCommand)
@click.argument("master", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o", "--outdir", required=True, type=click.Path(file_okay=False), help="Folder for the workbooks and drafts."
)
@click.option(
    "-s",
    "--strategy",
    "strategy_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The cycle's strategy: department names and heads' addresses for the drafts [default: strategy.yaml "
    "beside MASTER, if there].",
)
@click.option(
    "--spec",
    "spec_path",
    default=None,
    help="Template spec the master was written with: a bundled name or a YAML file [default: the strategy's "
    "`spec:` field, else department.yaml beside the strategy or MASTER, else the bundled department spec].",
)
@json_option("the decisions and findings per department (for automation)")
def decisions(master: str, outdir: str, strategy_path: str | None, spec_path: str | None, json_out: str | None) -> None:
    from cascadebook.atomic import all_or_nothing
    from cascadebook.commands import (
        STDOUT,
        UserError,
        check_json_output,
        check_outputs,
        emit_json,
        load_strategy_or_exit,
        output_errors,
        resolve_spec_or_exit,
    )
    from cascadebook.cycle.decisions import reply_values, review_decisions
    from cascadebook.cycle.decisions_book import write_decision_workbooks
    from cascadebook.findings import Severity, finding_lines
    from cascadebook.inbox.common import MailError
    from cascadebook.mail.compose import mail_settings
    from cascadebook.mail.decisions import DecisionReply, plan_decision_replies, write_decision_drafts
    from cascadebook.master.decisions_read import ReviewDamaged
    from cascadebook.master.read import MasterError

    to_err = json_out == STDOUT  # the JSON alone on standard output
    if strategy_path is None and (Path(master).parent / "strategy.yaml").is_file():
        strategy_path = str(Path(master).parent / "strategy.yaml")
    strategy = load_strategy_or_exit(strategy_path) if strategy_path else None
    spec = resolve_spec_or_exit(spec_path, strategy if strategy is not None else master)
    check_outputs(folders=[outdir])
    check_json_output(json_out)
    try:
        review = review_decisions(master, spec, strategy)
    except ReviewDamaged as exc:
        raise UserError(f"{Path(master).name}: the review columns are damaged: {'; '.join(exc.damage)}") from None
    except MasterError as exc:
        raise UserError(str(exc)) from None
    notes: list[str] = []
    outputs: dict[str, dict[str, str]] = {}
    with output_errors(), all_or_nothing():  # workbooks, drafts and the JSON file: all new, or as they were
        paths = write_decision_workbooks(review, outdir)
        replies = []
        for department, path in zip(review.departments, paths):
            outputs[department.code] = {"workbook": str(path)}
            if department.counts()["decided"]:
                replies.append(DecisionReply(department.code, path, reply_values(department, spec, review.currency)))
            else:
                notes.append(f"{department.code}: nothing decided yet, so no reply draft")
        if strategy is None:
            notes.append("no strategy (give --strategy, or keep strategy.yaml beside the master): no reply drafts")
        elif replies:
            try:
                settings = mail_settings(strategy, strategy_path)
                planned, skipped = plan_decision_replies(strategy, settings, replies, spec=spec)
            except MailError as exc:
                raise UserError(str(exc)) from None
            notes += skipped
            for code, eml in write_decision_drafts(planned, outdir).items():
                outputs[code]["draft"] = str(eml)
        if json_out and json_out != STDOUT:
            emit_json(review.to_dict(outputs), json_out)
    if json_out == STDOUT:
        emit_json(review.to_dict(outputs), STDOUT)
    for d in review.departments:
        counts = d.counts()
        click.echo(
            f"{d.code}: {counts['decided']} of {len(d.initiatives)} decided -> {outputs[d.code]['workbook']}"
            + (f" + {Path(outputs[d.code]['draft']).name}" if "draft" in outputs[d.code] else ""),
            err=to_err,
        )
    for note in notes:
        click.echo(note, err=to_err)
    for line in finding_lines(review.findings, (Severity.ERROR, Severity.WARNING), more="see --json"):
        click.echo(line, err=True)
    c = {s.value: sum(1 for f in review.findings if f.severity is s) for s in (Severity.ERROR, Severity.WARNING)}
    click.echo(f"{len(review.departments)} department(s); {c['error']} error(s), {c['warning']} warning(s)", err=to_err)
    if json_out and json_out != STDOUT:
        click.echo(f"wrote {json_out}", err=to_err)
    sys.exit(review.exit_code)


COMMANDS = [decisions]
