"""Stack pressure of solid-state cells: pressure logs, their alignment with the cycling
record, per-cycle pressure, growth per cycle and drift, a forward model and plots.
"""

from ssbkit.pressure.analysis import Correlation, PressureResult, analyze_pressure
from ssbkit.pressure.data import PressureLog
from ssbkit.pressure.simulate import simulate_pressure

__all__ = ["Correlation", "PressureLog", "PressureResult", "analyze_pressure", "simulate_pressure"]
