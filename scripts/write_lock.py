"""Write requirements.lock from a `pip install --dry-run --report` JSON report."""

import json
import sys

HEADER = """\
# Every package `make test` and `make run` install (pyproject.toml's dependencies with the dev,
# postgres and thumbnails extras), pinned: installs use it as constraints and `make audit`
# checks it.
# Regenerate with `make lock` after changing pyproject.toml.
"""


def main(report_path: str, lock_path: str) -> None:
    with open(report_path) as report:
        installs = json.load(report)["install"]
    pins = sorted(
        (item["metadata"]["name"].lower(), item["metadata"]["version"])
        for item in installs
        if item["metadata"]["name"].lower() != "paperfeed"
    )
    with open(lock_path, "w") as lock:
        lock.write(HEADER + "".join(f"{name}=={version}\n" for name, version in pins))


if __name__ == "__main__":
    main(*sys.argv[1:3])
