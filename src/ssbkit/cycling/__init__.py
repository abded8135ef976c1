"""Galvanostatic cycling: cycler records, steps and cycles, per-cycle summaries, rate
tables, dQ/dV, and events placed on the record.
"""

from ssbkit.cycling.cycles import CONVENTIONS, cycle_numbers
from ssbkit.cycling.data import CyclingRecord
from ssbkit.cycling.dqdv import DQDVResult, dqdv
from ssbkit.cycling.events import EventTable, absolute_time, place_events
from ssbkit.cycling.rate import RateResult, rate_capability
from ssbkit.cycling.simulate import simulate_cycling, simulate_rate_test
from ssbkit.cycling.steps import StepTable, find_steps
from ssbkit.cycling.summary import CycleSummary, active_mass, summarize_cycles

__all__ = [
    "CONVENTIONS",
    "CycleSummary",
    "CyclingRecord",
    "DQDVResult",
    "EventTable",
    "RateResult",
    "StepTable",
    "absolute_time",
    "active_mass",
    "cycle_numbers",
    "dqdv",
    "find_steps",
    "place_events",
    "rate_capability",
    "simulate_cycling",
    "simulate_rate_test",
    "summarize_cycles",
]
