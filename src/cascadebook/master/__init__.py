"""The master goal-hierarchy workbook: writing its sheets and reading one back."""
