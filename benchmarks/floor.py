"""The floor of a plan: what any plan must at least do, and nothing more.

Run as its own process, like ``reconciler plan``: fetch every page of
``GET /data-integrations`` with a bare httpx loop (JSON-decoding each page to
follow its cursor) and parse the manifest with PyYAML's C loader.

    python benchmarks/floor.py BASE_URL MANIFEST      (API key from WORKOS_API_KEY)
"""

from __future__ import annotations

import os
import sys

import httpx
import yaml


def fetch_all(base_url: str, api_key: str) -> int:
    """Every integration, page by page, as the client asks (limit 100, ascending)."""
    count = 0
    params: dict[str, str | int] = {"limit": 100, "order": "asc"}
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base_url, headers=headers) as http:
        while True:
            response = http.get("/data-integrations", params=params)
            response.raise_for_status()
            body = response.json()
            count += len(body["data"])
            after = body["list_metadata"]["after"]
            if not after:
                return count
            params["after"] = after


def parse_manifest(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        manifest = yaml.load(handle.read(), Loader=yaml.CSafeLoader)
    return len(manifest["integrations"])


def main() -> None:
    base_url, manifest = sys.argv[1], sys.argv[2]
    remote = fetch_all(base_url, os.environ["WORKOS_API_KEY"])
    desired = parse_manifest(manifest)
    print(f"{remote} remote, {desired} desired")


if __name__ == "__main__":
    main()
