"""The platform's internal certificate authority, as a pure library.

Two hierarchies, as the OCPP 1.6 Security Whitepaper (Ed. 3) and OCPP 2.0.1 Part 2 (A00) ask:
the operator root with its ``station``, ``user`` and ``server`` intermediates, and the
manufacturer root that signs firmware-signing certificates directly. The package checks CSRs,
issues, renews and revokes certificates, publishes CRLs and OCSP answers, and keeps CA keys
encrypted at rest. It reads no environment and imports nothing of the platform: time, keys and
serial numbers come in as arguments, and failures raise.
"""
