"""Sending one offer to one driver, once every rule allows it (the engine's last step)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from voltbook.core.clock import Clock
from voltbook.offers.geofence import OfferIndex
from voltbook.offers.model import OfferDelivery
from voltbook.offers.ports import OfferOutlet, OffersUowFactory
from voltbook.offers.rules import EngineRules, Target

PENDING_CHANNEL = "pending"


class OfferSender:
    def __init__(
        self,
        uow: OffersUowFactory,
        outlet: OfferOutlet,
        clock: Clock,
        rules: EngineRules,
        index: OfferIndex,
    ) -> None:
        self._uow = uow
        self._outlet = outlet
        self._clock = clock
        self.rules = rules
        self._index = index
        self.idle_told: set[tuple[Any, ...]] = set()  # idle episodes already told about
        self.exhausted: set[tuple[int, str]] = set()  # (offer, driver) at max_per_driver
        self._send_lock = asyncio.Lock()

    async def deliver_all(self, targets: Iterable[Target]) -> int:
        sent = 0
        for target in targets:
            if await self.deliver(target):
                sent += 1
        return sent

    async def deliver(self, target: Target) -> bool:
        """Send one offer to one driver unless a rule says no: consent, quiet hours, the
        offer's per-driver cap, the hourly cap across offers, redemptions used up, or the
        offer ended, expired or changed meanwhile."""
        offer, profile = target.offer, target.profile
        driver_id = profile.driver_id
        assert offer.id is not None
        async with self._send_lock:  # one node's checks and writes for a driver never interleave
            now = self._clock.now()
            if not profile.consent_offers or profile.quiet_at(now):
                return False
            async with self._uow(read_only=True) as uow:
                current = await uow.offers.get(offer.id)
                if current is None or not current.live(now):
                    self._index.remove(offer.id)
                    return False
                deliveries = uow.offer_deliveries
                already = await deliveries.count_for(offer.id, driver_id)
                if already >= current.max_per_driver:
                    self.exhausted.add((offer.id, driver_id))
                    return False
                hour_ago = now - timedelta(hours=1)
                if await deliveries.count_since(driver_id, hour_ago) >= self.rules.max_per_hour:
                    return False
                if current.max_redemptions is not None and (
                    await deliveries.redemptions(offer.id) >= current.max_redemptions
                ):
                    return False
            async with self._uow() as uow:
                delivery = await uow.offer_deliveries.add(
                    OfferDelivery(offer.id, driver_id, target.station_id, PENDING_CHANNEL, now)
                )
                await uow.commit()
            assert delivery.id is not None
            if target.told is not None:
                self.idle_told.add(target.told)
            if already + 1 >= current.max_per_driver:
                self.exhausted.add((offer.id, driver_id))
            channel = await self._outlet.send(driver_id, current, target.station_id, delivery.id)
            async with self._uow() as uow:
                await uow.offer_deliveries.set_channel(delivery.id, channel)
                await uow.commit()
        return True
