"""What the catalogue's handlers and API work with, made once in `build_app`."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.catalogue.ports import CreditBureau, PaymentProvider
from switchboard.catalogue.settings import CatalogueSettings
from switchboard.common.runtime import Runtime, ServiceContext


@dataclass(frozen=True)
class Catalogue(ServiceContext):
    runtime: Runtime
    settings: CatalogueSettings
    bureau: CreditBureau
    payments: PaymentProvider
