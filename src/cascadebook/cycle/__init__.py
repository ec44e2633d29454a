"""What happens between cycles: check-in workbooks, diffs of masters, text exports."""
