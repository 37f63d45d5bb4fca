"""The protocol-independent transaction core.

Stations and their connectors, transactions, meter values, RFID id tokens and local lists.
It speaks the platform's own vocabulary of events (what a
station reported) and commands (what the platform asks of a station); it never sees an OCPP
message.
"""
