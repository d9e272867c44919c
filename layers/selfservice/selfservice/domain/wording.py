"""The wording an SAO acknowledges ("I understand"), versioned: an acknowledgement records the version
that was shown, so a later change of the text never rewrites what someone agreed to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Wording:
    key: str
    version: str
    text: str


SEAT_REDUCTION = Wording(
    "seat_reduction",
    "seat-reduction/2026-01",
    "The reduction takes effect at the start of the next subscription period. Until then your current "
    "licences stay available. You can undo the reduction at any time until the end of the period.",
)
SEAT_REDUCTION_UNDO = Wording(
    "seat_reduction_undo",
    "seat-reduction-undo/2026-01",
    "Your subscription keeps its current number of licences in the next period and renews at that size.",
)
CANCELLATION = Wording(
    "cancellation",
    "cancellation/2026-01",
    "Your subscription ends at the end of the last paid period. Until then everything keeps working. "
    "After that date the tenant and its users lose access. You can undo the cancellation until it "
    "takes effect.",
)
CANCELLATION_UNDO = Wording(
    "cancellation_undo",
    "cancellation-undo/2026-01",
    "Your subscription continues and renews at the end of the current period.",
)

ALL_WORDINGS = {w.key: w for w in (SEAT_REDUCTION, SEAT_REDUCTION_UNDO, CANCELLATION, CANCELLATION_UNDO)}
