"""Which timeline rows and messages each side may see (the one rule every read of them uses)."""

from payments.models import ActorKind

from ..models import Visibility


def visibilities_for(viewer: str) -> list[str]:
    if viewer == ActorKind.CUSTOMER:
        return [Visibility.EVERYONE, Visibility.CUSTOMER]
    if viewer == ActorKind.MERCHANT:
        return [Visibility.EVERYONE, Visibility.MERCHANT]
    return list(Visibility.values)
