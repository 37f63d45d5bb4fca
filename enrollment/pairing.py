"""Rules for pairing a released station with its first owner.

The owner's app posts both label payloads (:func:`enrollment.qr.decode_pair`). The service then
applies, in this order, so that an attacker learns nothing before proving possession:

1. the throttle (a port the platform passes in), counted per (station, user), per user and
   per station: a locked caller is told when to try again, whatever the codes;
2. :func:`check_pairing_codes`: both codes must match, and the answer does not say which one
   failed; a failure is recorded against the station;
3. the lifecycle move ``released -> paired`` (:func:`enrollment.lifecycle.apply`), whose refusal
   ("device is paired") is only shown to someone who holds both codes.

Guessing is hopeless anyway (two 140-bit codes); the lockout limits the damage of a buggy or
abusive client and keeps the audit log readable.
"""

from __future__ import annotations

from enrollment.codes import code_matches

__all__ = ["check_pairing_codes"]


def check_pairing_codes(
    device_code: str,
    packaging_code: str,
    *,
    device_code_hash: str,
    packaging_code_hash: str,
    pepper: bytes,
) -> bool:
    """Whether both codes match their stored hashes.

    Both comparisons always run and take constant time, so neither timing nor the answer
    reveals which code was wrong.
    """
    device_ok = code_matches(device_code, device_code_hash, pepper=pepper)
    packaging_ok = code_matches(packaging_code, packaging_code_hash, pepper=pepper)
    return device_ok & packaging_ok
