"""The owners' side of a station's life: pairing, members, invitations, user certificates.

Tables (:mod:`enrollment.ownership.tables`) and services over a database session, built on the
pure rules of :mod:`enrollment` (pairing codes, lockout, roles and invitations, the device
lifecycle). Station visibility follows one rule (:mod:`enrollment.ownership.access`): a user
sees a station only while they hold a membership on it. What the services need of the platform
(the audit log, the CA, the pairing throttle) comes in through :mod:`enrollment.ownership.ports`;
users are referred to by id. Cards, local lists and their sync to stations are
:mod:`charging`'s; accounts are the platform's (``app.identity``).
"""
