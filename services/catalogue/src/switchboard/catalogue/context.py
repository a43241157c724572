"""What the catalogue's handlers and API work with, made once in `build_app`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from switchboard.catalogue.ports import CreditBureau, PaymentProvider
from switchboard.catalogue.settings import CatalogueSettings
from switchboard.common.runtime import Runtime, runtime_of


@dataclass(frozen=True)
class Catalogue:
    runtime: Runtime
    settings: CatalogueSettings
    bureau: CreditBureau
    payments: PaymentProvider

    @classmethod
    def of(cls, request: Request) -> Catalogue:
        context: Catalogue = runtime_of(request).state["catalogue"]
        return context
