"""`voltbook demo` brings up the bundled network, alive with simulated chargers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.e2e.conftest import free_port


async def test_the_demo_serves_real_stations_with_live_simulated_chargers(tmp_path: Path) -> None:
    port = free_port()
    env = os.environ | {"VOLTBOOK_DATA_DIR": str(tmp_path), "VOLTBOOK_DATABASE_URL": ""}
    demo = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voltbook", "demo", "--port", str(port), "--stations", "4",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert demo.stdout is not None
    try:
        async with asyncio.timeout(120):
            banner = ""
            while "Ctrl+C stops" not in banner:
                line = await demo.stdout.readline()
                assert line, f"the demo ended early:\n{banner}"
                banner += line.decode()
        assert f"http://127.0.0.1:{port}" in banner
        assert "created 8925" in banner
        assert f"driver app: http://127.0.0.1:{port}/" in banner
        assert "driver sign-in: driver@voltbook.example / " in banner
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                found = await client.get(
                    "/api/v1/stations/nearby",
                    params={"lat": 42.3555, "lon": -71.0605, "radius_m": 3000, "available": True},
                )
                if found.json()["items"]:
                    break
                await asyncio.sleep(0.2)
            live = found.json()["items"]
            shell = await client.get("/")
            assert shell.status_code == 200
            assert "voltbook" in shell.text
            password = banner.split("driver sign-in: driver@voltbook.example / ", 1)[1].split()[0]
            signed = await client.post(
                "/api/v1/auth/token",
                data={"username": "driver@voltbook.example", "password": password},
            )
            assert signed.status_code == 200
            driver = {"Authorization": f"Bearer {signed.json()['access_token']}"}
            me = (await client.get("/api/v1/me", headers=driver)).json()
            assert me["consent_location"]
            assert me["consent_offers"]
            assert (await client.get("/api/v1/vehicles", headers=driver)).json()["items"]
            assert live, "no simulated charger reported Available"
            assert all(
                any(c["status"] == "Available" for s in item["stations"] for c in s["connectors"])
                for item in live
            )
    finally:
        demo.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            await demo.wait()
