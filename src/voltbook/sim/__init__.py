"""Charging-station simulator: N stations, each a real OCPP 1.6J or 2.0.1 client.

It imports nothing else from voltbook, so it can run against any voltbook server.
"""

from voltbook.sim.model import ConnectorSpec, SimOptions, StationSpec, use_simulated_time
from voltbook.sim.runner import SimError, SimulatedStation, fetch_station_specs, run_stations

__all__ = [
    "ConnectorSpec",
    "SimError",
    "SimOptions",
    "SimulatedStation",
    "StationSpec",
    "fetch_station_specs",
    "run_stations",
    "use_simulated_time",
]
