"""Who may read an asset's metadata: anyone once it is approved; while it is pending or rejected, only the
administrator and the callers that made it. Everyone else is told it does not exist (404, the answer an
unknown id gets), so neither its prompt nor its existence leaks."""

from __future__ import annotations

from imgedge.generator.assets.creators import AssetCreators
from imgedge.generator.assets.records import AssetRecord
from imgedge.generator.keys.records import Caller


def may_see(record: AssetRecord, viewer: Caller, creators: AssetCreators) -> bool:
    """Blocking (a database read for assets that are not approved)."""
    if record.moderation == "approved" or viewer.admin:
        return True
    return creators.made_by(record.id, viewer.owner)
