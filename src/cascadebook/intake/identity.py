"""Accepting or rejecting a readable return by its identity: metadata, signature, cycle, department."""

from __future__ import annotations

from dataclasses import replace

from cascadebook.findings import Finding
from cascadebook.intake.reader import Return
from cascadebook.model import Strategy
from cascadebook.signing import verify


def identify(ret: Return, strategy: Strategy, key: bytes | None) -> None:
    """Accept or reject a readable return by its metadata; the file name is never trusted."""
    ret.read_findings = len(ret.findings)  # what reading found; a file not used keeps only why (_not_taken)
    meta = ret.metadata
    if meta is None:
        return
    if ret.identity_problem:  # two copies of the identity disagree: copied from another template
        ret.status, ret.reason = "rejected", "identity metadata copied or edited"
        ret.findings.append(
            Finding("signature-mismatch", ret.identity_problem, file=ret.file, department=meta.department)
        )
        return
    content = ret.identified_by == "content"  # no metadata left: titles and ids, nothing to verify
    several = [c for c in ret.content_departments if strategy.department(c) is not None]
    if content and len({c.casefold() for c in several} | {meta.department.casefold()}) > 1:
        shown = ", ".join(sorted({meta.department, *several}, key=str.casefold))
        ret.status, ret.reason = "rejected", f"rows of several departments ({shown})"
        ret.findings.append(
            Finding(
                "several-departments",
                f"the workbook has no cascadebook metadata and its "
                f"rows belong to several departments ({shown}), so it is no single "
                "department's return (a master, or plans merged into one workbook); none "
                "of its rows was taken",
                file=ret.file,
            )
        )
        ret.metadata = replace(meta, department="")  # no department's return: it stands for none of them
        return
    if meta.cycle != strategy.cycle and not (content and not meta.cycle):
        ret.status, ret.reason = "rejected", f"template of cycle {meta.cycle}, not {strategy.cycle}"
        ret.findings.append(
            Finding(
                "other-cycle",
                f"the template belongs to cycle {meta.cycle!r}, this reconcile is {strategy.cycle!r}",
                file=ret.file,
                department=meta.department,
            )
        )
        return
    if strategy.department(meta.department) is None:
        ret.status, ret.reason = "rejected", f"unknown department {meta.department}"
        ret.findings.append(
            Finding(
                "unknown-department",
                f"department {meta.department!r} is not in the strategy",
                file=ret.file,
                department=meta.department,
            )
        )
        return
    if content:
        ret.findings.append(
            Finding(
                "identified-by-content",
                f"no cascadebook metadata is left; the workbook was "
                f"taken as {meta.department}'s from its visible content ({ret.reason}"
                f"{'' if meta.cycle else ', cycle not shown'}), unverified",
                file=ret.file,
                department=meta.department,
            )
        )
        ret.status, ret.reason = "accepted", f"{ret.reason}, unverified"
        return
    if key is None:
        ret.findings.append(
            Finding(
                "signature-unverified",
                "no signing key was found, so the template's identity could not be verified",
                file=ret.file,
                department=meta.department,
            )
        )
    elif not verify(meta, key):
        ret.status, ret.reason = "rejected", "metadata does not match its signature"
        ret.findings.append(
            Finding(
                "signature-mismatch",
                f"the metadata says {meta.department} but its signature does not match; it was edited or copied",
                file=ret.file,
                department=meta.department,
            )
        )
        return
    if ret.spec_problem:  # its rows read by another spec's headers would be thinned: refused instead
        ret.status, ret.reason = "rejected", f"template spec {meta.spec_name}@{meta.spec_version} not found"
        ret.findings.append(Finding("spec-mismatch", ret.spec_problem, file=ret.file, department=meta.department))
        return
    if meta.fingerprint != strategy.fingerprint():
        ret.findings.append(
            Finding(
                "stale-template",
                "the objectives changed after this template was generated",
                file=ret.file,
                department=meta.department,
            )
        )
    ret.status = "accepted"
