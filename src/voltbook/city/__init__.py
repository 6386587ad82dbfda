"""A simulated city on a real voltbook server (issue 17): drivers with needs, chargers that
fault, and arms that use more or less of voltbook, measured with common random numbers.

The package imports nothing of the server: it starts one as a separate process, and talks
to it over its public HTTP API and OCPP (through voltbook's own charger simulator,
`voltbook.sim`), so what is measured is what ships.
"""
