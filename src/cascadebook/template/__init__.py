"""The department template workbooks that generate writes."""
