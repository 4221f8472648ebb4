#!/usr/bin/env python3
"""Copy the front-end dist files from node_modules/ into static/vendor/ (no CDN, ever).

The copied files are committed, so the quickstart needs no Node. Only to upgrade:

    npm install                          # versions pinned exactly in package.json
    python scripts/vendor_assets.py      # refreshes static/vendor/ and VERSIONS.txt
    git diff --stat static/vendor/

Source maps are copied too: the hashed-manifest storage (collectstatic) follows each
`sourceMappingURL` and fails if the referenced file is missing.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

# package -> [(file in the package, destination under static/vendor/)]
FILES: dict[str, list[tuple[str, str]]] = {
    "bootstrap": [
        ("dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css"),
        ("dist/css/bootstrap.min.css.map", "bootstrap/bootstrap.min.css.map"),
        ("dist/js/bootstrap.bundle.min.js", "bootstrap/bootstrap.bundle.min.js"),
        ("dist/js/bootstrap.bundle.min.js.map", "bootstrap/bootstrap.bundle.min.js.map"),
        ("LICENSE", "bootstrap/LICENSE"),
    ],
    "bootstrap-icons": [
        ("font/bootstrap-icons.min.css", "bootstrap-icons/bootstrap-icons.min.css"),
        ("font/fonts/bootstrap-icons.woff2", "bootstrap-icons/fonts/bootstrap-icons.woff2"),
        ("font/fonts/bootstrap-icons.woff", "bootstrap-icons/fonts/bootstrap-icons.woff"),
        ("LICENSE", "bootstrap-icons/LICENSE"),
    ],
    "htmx.org": [
        ("dist/htmx.min.js", "htmx/htmx.min.js"),
        ("LICENSE", "htmx/LICENSE"),
    ],
    # FullCalendar's standard bundle (core, day/time grids, list, drag and drop) injects
    # its own CSS; the Chinese locale comes from @fullcalendar/core.
    "fullcalendar": [
        ("index.global.min.js", "fullcalendar/index.global.min.js"),
        ("LICENSE.md", "fullcalendar/LICENSE.md"),
    ],
    "@fullcalendar/core": [
        ("locales/zh-cn.global.min.js", "fullcalendar/zh-cn.global.min.js"),
    ],
    "chart.js": [
        ("dist/chart.umd.min.js", "chartjs/chart.umd.min.js"),
        ("dist/chart.umd.min.js.map", "chartjs/chart.umd.min.js.map"),
        ("LICENSE.md", "chartjs/LICENSE.md"),
    ],
}


def main() -> int:
    if not NODE.is_dir():
        print("node_modules/ is missing: run `npm install` first.", file=sys.stderr)
        return 1
    versions = []
    for package, files in FILES.items():
        meta = json.loads((NODE / package / "package.json").read_text(encoding="utf-8"))
        versions.append(f"{package}=={meta['version']}")
        for src, dest in files:
            target = VENDOR / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(NODE / package / src, target)
            print(f"{package}/{src} -> static/vendor/{dest}")
    (VENDOR / "VERSIONS.txt").write_text(
        "# Written by scripts/vendor_assets.py from package-lock.json's versions.\n"
        + "\n".join(versions) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
