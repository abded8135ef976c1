"""Write constraints.txt: exact versions of everything ssbkit and all its extras install.

Run through `make lock`: pip resolves '.[all,gpl,dev,bench]' without installing
(--dry-run --report) and this script turns the report into pins.
"""

import json
import sys

report = json.load(open(sys.argv[1], encoding="utf-8"))
pins = sorted(
    (item["metadata"]["name"], item["metadata"]["version"])
    for item in report["install"]
    if item["metadata"]["name"].lower() != "ssbkit"
)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("# Exact versions for a reproducible install; regenerate with `make lock`.\n")
    out.write(f"# Resolved for Python {sys.version_info.major}.{sys.version_info.minor} on Linux.\n")
    for name, version in sorted(pins, key=lambda p: p[0].lower()):
        out.write(f"{name}=={version}\n")
