"""The floor of an apply: a bare httpx loop making the same requests, nothing else.

Run as its own process, like ``reconciler apply``: list every page, then PUT a
new description to every integration, ``concurrency`` at a time, over one
``httpx.AsyncClient``. Prints the seconds of the PUT phase as JSON.

    python benchmarks/apply_floor.py BASE_URL CONCURRENCY TAG   (API key from WORKOS_API_KEY)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any
from urllib.parse import quote

import httpx


async def apply_all(base_url: str, api_key: str, concurrency: int, tag: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        items: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"limit": 100, "order": "asc"}
        while True:
            response = await http.get("/data-integrations", params=params)
            response.raise_for_status()
            body = response.json()
            items += body["data"]
            if not body["list_metadata"]["after"]:
                break
            params["after"] = body["list_metadata"]["after"]
        gate = asyncio.Semaphore(concurrency)

        async def put(index: int, item: dict[str, Any]) -> None:
            path = f"/data-integrations/{quote(item['slug'], safe='')}"
            if item["ownership"] == "organization":
                path += "/organization"
            async with gate:
                answer = await http.put(path, json={"description": f"{tag} {index}"})
                answer.raise_for_status()

        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for index, item in enumerate(items):
                group.create_task(put(index, item))
        return {"puts": len(items), "phase_seconds": time.perf_counter() - started}


def main() -> None:
    base_url, concurrency, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    result = asyncio.run(apply_all(base_url, os.environ["WORKOS_API_KEY"], concurrency, tag))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
