"""Named connection profiles: a cluster, its security settings, its schema registry,
how its topics are read, its folds and masking rules, and the topics it is locked to,
saved without secrets (those live in the OS keyring) and handed between people as
``.evx-profile`` files (TOML).

No Qt here: the CLI and the GUI use the same profiles.
"""

from app.masking.rules import MaskHow, MaskingRules
from app.profiles.connect import (
    PasswordProvider,
    SecretMissing,
    SecretRequest,
    connection_profile,
    gather_secrets,
    profile_to_source,
    source_for,
)
from app.profiles.credentials import SERVICE, Credentials, KeyringUnavailable
from app.profiles.fileformat import FORMAT_VERSION, ProfileFormatError, dumps, loads
from app.profiles.lock import LockedClusterSource, TopicLock, TopicLocked
from app.profiles.model import EXTENSION, REGISTRY_SECRET, Profile, SecretInProfile
from app.profiles.store import ProfileNotFound, ProfileStore
from app.profiles.transfer import (
    ProfileExists,
    delete_profile,
    export_text,
    from_connection,
    import_profile,
    read_profile_file,
)

__all__ = [
    "EXTENSION",
    "FORMAT_VERSION",
    "REGISTRY_SECRET",
    "SERVICE",
    "Credentials",
    "KeyringUnavailable",
    "LockedClusterSource",
    "MaskHow",
    "MaskingRules",
    "PasswordProvider",
    "Profile",
    "ProfileExists",
    "ProfileFormatError",
    "ProfileNotFound",
    "ProfileStore",
    "SecretInProfile",
    "SecretMissing",
    "SecretRequest",
    "TopicLock",
    "TopicLocked",
    "connection_profile",
    "delete_profile",
    "dumps",
    "export_text",
    "from_connection",
    "gather_secrets",
    "import_profile",
    "loads",
    "profile_to_source",
    "read_profile_file",
    "source_for",
]
