"""The ERP sync engine (SPEC §10): ``execute(run_id)`` carries out one queued run of one connection.

run.py holds the run (lock, handshake, plan, bookkeeping), pull.py the ERP → CRM half, push.py the
CRM → ERP half and base.py what they share."""

from .base import PAGE, RecordProblem, RunAborted
from .run import Run, execute

__all__ = ["PAGE", "RecordProblem", "Run", "RunAborted", "execute"]
