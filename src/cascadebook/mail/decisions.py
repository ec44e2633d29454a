"""Reply drafts that carry finance's decisions back to each department (``cascadebook decisions``).

The decisions themselves are worked out by cycle/decisions.py, beside this module in the layers; the
command hands over, per department, the decision workbook and the placeholder values of the
``decisions`` message template (``email_decisions.txt``: bundled, beside the strategy, or the
strategy's ``email: decisions:``), and this module composes the message as the other mail does: to
the department head, from the strategy's sender, the workbook attached.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cascadebook.inbox.common import MailError
from cascadebook.mail.compose import MailSettings, Outgoing, build_message, common_values, head_address, write_eml
from cascadebook.model import Strategy

KIND = "decisions"


@dataclass(frozen=True)
class DecisionReply:
    """What one department's reply says: its code, the decision workbook to attach, and the values of
    the template's ``decisions`` placeholders (compose.PLACEHOLDERS["decisions"])."""

    department: str
    attachment: Path
    values: Mapping[str, str]


def plan_decision_replies(
    strategy: Strategy,
    settings: MailSettings,
    replies: Sequence[DecisionReply],
    *,
    spec=None,
    template: str | Path | None = None,
) -> tuple[list[Outgoing], list[str]]:
    """One message per reply, and a line for each department that gets none (not in the strategy, or
    no e-mail address there): a draft cannot be addressed, the rest are still made."""
    tpl = settings.template(KIND, template)
    planned: list[Outgoing] = []
    skipped: list[str] = []
    for reply in replies:
        department = strategy.department(reply.department)
        if department is None:
            skipped.append(f"{reply.department}: not a department of the strategy, so no reply draft")
            continue
        try:
            to = head_address(department)
        except MailError as exc:
            skipped.append(f"{department.code}: {exc}, so no reply draft")
            continue
        values = {**common_values(strategy, department, reply.attachment.name, spec), **reply.values}
        subject, body = tpl.render(values)
        msg = build_message(
            settings,
            to=[to],
            subject=subject,
            body=body,
            attachments=[reply.attachment],
            kind=KIND,
            cycle=strategy.cycle,
            department=department.code,
        )
        planned.append(Outgoing(KIND, strategy.cycle, department.code, msg, reply.attachment))
    return planned, skipped


def write_decision_drafts(outgoing: Sequence[Outgoing], folder: str | Path) -> dict[str, Path]:
    """Each message as an .eml draft in ``folder`` (``<cycle>_<CODE> decisions.eml``), by department code."""
    folder = Path(folder)
    return {item.department: write_eml(item.message, folder / item.eml_name) for item in outgoing}
