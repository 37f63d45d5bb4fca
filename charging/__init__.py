"""The protocol-independent transaction core.

Stations and their connectors, transactions, meter values, RFID id tokens, owners' cards and
local lists (kept in step on the stations by :mod:`charging.sync`), and session visibility.
Tariffs (:mod:`charging.tariffs`) turn into price slots and session costs (:mod:`charging.costs`).
It speaks the platform's own vocabulary of events (what a
station reported) and commands (what the platform asks of a station); it never sees an OCPP
message.
"""
