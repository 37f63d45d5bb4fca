"""The owners' side of the platform: accounts, pairing, members, cards, guest certificates.

Tables (:mod:`app.owners.tables`) and services over a database session, built on the pure rules
of :mod:`enrollment` (pairing codes, lockout, roles and invitations, the device lifecycle).
Station visibility follows one rule (:mod:`app.owners.access`): a user sees a station only
while they hold a membership on it. :mod:`app.owners.sync` pushes local authorization lists and
the user CA to stations; :mod:`app.owners.events` fans station events out to the app.
"""
