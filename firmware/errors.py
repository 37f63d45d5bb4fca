"""Firmware's errors, one root for the package. The tree::

FirmwareError
+-- UnknownFamily        no hardware family of that name
+-- UnknownImage         no image with that id
+-- UnknownChannel       the family has no channel of that name
+-- UnknownStation       no device (so no family) behind that station id
+-- InvalidChannelName   not a channel name (letters, digits, ``._-``, at most 32)
+-- ChannelExists        a custom channel of that name is already there
+-- InvalidVersion       not a version string
+-- DuplicateVersion     the family already has an image of that version
+-- MalformedUpload      a form that is truncated, lacks the file or a field, or is empty
+-- ImageTooLarge        more bytes than ``firmware_max_bytes``
+-- ChecksumMismatch     a declared sha256/MD5 that the received bytes do not have
+-- WrongFamily          an image put on a channel of another family
+-- SigningUnavailable   the platform cannot sign for this family (a vendor's root)
+-- InvalidSigningRoot   a family signing root that is not a self-signed CA certificate
+-- ImageInUse           an image a channel still carries cannot be deleted
+-- ImageUnreadable      the stored bytes are missing or differ from the recorded digest
+-- SignatureError       (``firmware.signatures``) the signature or its signer is refused
"""

from __future__ import annotations


class FirmwareError(Exception):
    """Root of firmware's errors."""


class UnknownFamily(FirmwareError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no hardware family {name[:64]!r}")


class UnknownImage(FirmwareError):
    def __init__(self, image_id: int) -> None:
        super().__init__(f"no firmware image {image_id}")


class UnknownChannel(FirmwareError):
    def __init__(self, family: str, channel: str) -> None:
        super().__init__(f"hardware family {family!r} has no channel {channel[:32]!r}")


class UnknownStation(FirmwareError):
    def __init__(self, station_id: str) -> None:
        super().__init__(f"no device behind station {station_id[:48]!r}")


class InvalidChannelName(FirmwareError):
    pass


class ChannelExists(FirmwareError):
    def __init__(self, family: str, channel: str) -> None:
        super().__init__(f"hardware family {family!r} already has a channel {channel!r}")


class _FieldError(FirmwareError):
    """An error about one field of an upload, named in ``field`` when it is known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidVersion(_FieldError):
    pass


class DuplicateVersion(FirmwareError):
    def __init__(self, family: str, version: str) -> None:
        super().__init__(f"hardware family {family!r} already has firmware {version!r}")


class MalformedUpload(_FieldError):
    pass


class ImageTooLarge(FirmwareError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"firmware images are limited to {limit} bytes")
        self.limit = limit


class ChecksumMismatch(FirmwareError):
    pass


class WrongFamily(FirmwareError):
    pass


class Downgrade(FirmwareError):
    pass


class SigningUnavailable(FirmwareError):
    pass


class InvalidSigningRoot(FirmwareError):
    pass


class ImageInUse(FirmwareError):
    pass


class ImageUnreadable(FirmwareError):
    pass
