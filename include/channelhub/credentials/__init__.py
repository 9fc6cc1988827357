"""Push credentials: the store, what each may do (its grant), and signed requests."""

from channelhub.credentials.grant import Grant, Resource
from channelhub.credentials.store import Caller, CredentialInfo, CredentialStore, ExternalCredential, Refused

__all__ = ["Caller", "CredentialInfo", "CredentialStore", "ExternalCredential", "Grant", "Refused", "Resource"]
