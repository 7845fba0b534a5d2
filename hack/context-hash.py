#!/usr/bin/env python3
"""Print a content hash of an image's inputs: its Dockerfile and the build-context files it can see.

Used by hack/images.sh to rebuild an image only when an input changed. File modification times are no
use for that: a fresh clone (CI) makes every file look new, which would rebuild the 6 GB operator image
on every run. Files are those git knows or would track (ignored files excluded), filtered by the
context's .dockerignore (last matching pattern wins, `!` re-includes).
Usage: hack/context-hash.py DOCKERFILE CONTEXT
"""

import fnmatch
import hashlib
import subprocess
import sys
from pathlib import Path


def ignored(path: str, patterns: list[str]) -> bool:
    verdict = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/") or \
                fnmatch.fnmatch(path, pattern.replace("**/", "*/")) or fnmatch.fnmatch(Path(path).name, pattern.removeprefix("**/")):
            verdict = not negate
    return verdict


def main() -> None:
    dockerfile, context = Path(sys.argv[1]), Path(sys.argv[2])
    ignore_file = context / ".dockerignore"
    patterns = [line.strip() for line in ignore_file.read_text().splitlines()
                if line.strip() and not line.startswith("#")] if ignore_file.exists() else []
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "."], cwd=context,
                            capture_output=True, text=True, check=True).stdout.split()
    digest = hashlib.sha256(dockerfile.read_bytes())
    for name in sorted(p for p in listed if not ignored(p, patterns) and (context / p).is_file()):
        digest.update(name.encode() + b"\0" + (context / name).read_bytes() + b"\0")
    print(digest.hexdigest())


if __name__ == "__main__":
    main()
