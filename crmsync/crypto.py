"""Credentials at rest: Fernet with `settings.CRM_ENCRYPTION_KEY`."""

import base64
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


def _fernet() -> Fernet:
    key = settings.CRM_ENCRYPTION_KEY
    if not key:
        if not settings.DEBUG:
            raise ImproperlyConfigured("Set CRM_ENCRYPTION_KEY to store Zoho CRM credentials.")
        # `make run` on a fresh machine has no key; a key derived from SECRET_KEY keeps the demo
        # working. prod.py requires CRM_ENCRYPTION_KEY, so this never happens in production.
        key = base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest()).decode()
    return Fernet(key)


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # The key changed: the credentials must be entered again; never show the ciphertext.
        logger.warning("Stored Zoho CRM credentials cannot be decrypted with the current key.")
        return ""
