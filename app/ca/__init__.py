"""The CA service over ``pki``: the hierarchies and their sealed keys kept in the platform's
database (``hierarchy``, ``keys``, ``tables``), issuance (``issuance``), revocation with its
CRLs, OCSP and announcements (``service``, ``revocation``) and the edge's side of it, closing
sessions whose certificate was revoked (``revocation_watch``). A platform service with its own
tables; the domain packages reach it through their ports (``enrollment.ports``)."""

from app.ca.errors import AlreadyRevoked, CAError, CANotInitialized, UnknownCertificate
from app.ca.issuance import IssuedCertificate
from app.ca.service import CertificateAuthority

__all__ = [
    "AlreadyRevoked",
    "CAError",
    "CANotInitialized",
    "CertificateAuthority",
    "IssuedCertificate",
    "UnknownCertificate",
]
