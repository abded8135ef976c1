"""Galvanostatic cycling: cycler records, steps and cycles, per-cycle summaries, rate
tables, dQ/dV, and events placed on the record.
"""

from ssbkit.cycling.data import CyclingRecord

__all__ = ["CyclingRecord"]
