"""The e-mail side of a cycle: send templates, collect returns, chase the missing, send feedback.

Every command of ``cascadebook.commands.mail`` is a thin shell over plain functions here:

    compose   messages from text templates (request, reminder, feedback) and .eml drafts
    smtp      sending over SMTP with a resumable send log
    collect   spreadsheet attachments out of folders, .zip, .eml, .mbox, Maildir and .msg
    status    who has returned, who is late, who returned with errors; reminders
    feedback  an annotated copy of a returned workbook and a reply to its sender

Heavy imports stay inside functions so ``cascadebook --help`` stays fast.
"""

from __future__ import annotations

from cascadebook.inbox.common import MailError

__all__ = ["MailError"]
