"""The OCPP gateway.

A ``websockets`` server at ``/ocpp/{station_id}`` for OCPP-J 1.6 (with the Security Whitepaper
messages), 2.0.1 and 2.1 under security profiles 1-3, and one pure adapter per protocol version
that turns OCPP messages into the platform's events and the platform's commands into OCPP calls.
"""
