#!/usr/bin/env bash
# Render a bayescale HTML report in headless Chromium and save a full-page PNG.
#
#   scripts/screenshot_report.sh REPORT.html OUT.png [HEIGHT]
#
# Needs Chromium from the system packages (Debian: apt-get install -y chromium).
# The report is opened as a local file with networking disabled, so any image
# that is not embedded in the file would show as broken.
set -euo pipefail
report=${1:?usage: $0 REPORT.html OUT.png [HEIGHT]}
out=${2:?usage: $0 REPORT.html OUT.png [HEIGHT]}
height=${3:-6000}
browser=$(command -v chromium || command -v chromium-browser) || {
    echo "chromium not found (Debian: apt-get install -y chromium)" >&2
    exit 1
}
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --proxy-server="127.0.0.1:9" --proxy-bypass-list="<-loopback>" \
    --window-size=1280,"$height" --screenshot="$(realpath -m "$out")" \
    "file://$(realpath "$report")" 2>/dev/null
echo "wrote $out"
