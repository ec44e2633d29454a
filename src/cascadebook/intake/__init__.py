"""Reading a returned workbook: the package safety gate, the reader, rules and validation."""
