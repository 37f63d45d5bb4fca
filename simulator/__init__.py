"""The station side: virtual charging stations and fleets.

Each simulated station speaks OCPP-J 1.6, 2.0.1 or 2.1 over a real WebSocket (and TLS for
profiles 2 and 3): it boots, sends heartbeats and status, runs charging sessions with a simulated
meter that draws within its charging profiles (``profiles``: OCPP stacking, the composite
schedule; ``ignore_limits`` to overdraw on purpose), answers the CSMS's commands and reports how
it was refused or failed. Fleets run many of
them on one event loop for the tour, the tests and the benchmarks. It builds on ``ocpp_edge``'s
frames and schemas and never imports ``app``; the ``chargeline simulate`` command in
``app/cli_simulate.py`` is its front-end.
"""
