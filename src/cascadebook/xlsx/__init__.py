"""The one place that knows xlsxwriter's and Excel's details: A1 addresses (cells), Excel's limits
(limits), writing values and streamed rows (writer), and every use of xlsxwriter's internals (internals).
"""
