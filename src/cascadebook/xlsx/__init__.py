"""The one place that knows xlsxwriter's and Excel's details: A1 addresses, the stream writer."""
