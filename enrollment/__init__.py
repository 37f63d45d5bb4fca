"""A device's way from the factory line to its owner.

The device whitelist, the MAC address pool, the two QR security codes and their labels, factory
and field enrollment, release to market, and owner pairing with co-owners, guests and
invitations. The lifecycle ``registered -> enrolled -> released -> paired -> decommissioned`` is
an explicit state machine in plain Python; persistence sits at the package's edge.
"""
