"""The intake portal (``cascadebook serve``): departments upload their workbook on a page of their own
and see its findings at once; the strategy office sees the board, the findings and the master.

It adds no rule of its own: an upload is checked by the pipeline ``reconcile`` runs, and the office's
board and master are a reconcile of the stored uploads (README: Intake portal).
"""
