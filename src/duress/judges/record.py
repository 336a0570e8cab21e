"""What the judges read of a sample: its action record (:mod:`duress.record`), the inbox the agent
was shown, and the verdicts they give (:mod:`duress.verdicts`).

``ActionRecord``, ``Turn``, ``Evidence`` and ``Verdict`` live in those neutral modules (readers of
logs use them without the judges); they are named here too for the families and judges that
import them from this module.
"""

from __future__ import annotations

from typing import Any

from duress.record import ActionRecord, Turn
from duress.tools.mailbox import Email
from duress.verdicts import Evidence, Verdict

__all__ = ["ActionRecord", "Turn", "Evidence", "Verdict", "inbox_of"]


def inbox_of(metadata: dict[str, Any], environment: dict[str, Any]) -> list[Email]:
    """What the agent was shown as its inbox: the mailbox's emails in the sample's ``environment``
    (its scenario's, or for an imported transcript the emails its prompt listed). An imported
    prompt that listed none reaches the judges as :attr:`JudgeContext.prompt` instead."""
    return [Email.from_dict(e) for e in environment.get("mailbox", {}).get("inbox", [])]
