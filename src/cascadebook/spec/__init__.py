"""The schema: template specs (sheets, columns and their roles) and typed cell values."""
