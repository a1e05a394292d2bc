#!/usr/bin/env bash
# Time for headless Chromium to open an HTML report: the page's own navigation timing (first
# paint, DOMContentLoaded, load event, after its script has built the first table pages) and
# the wall time of the whole browser run. See BENCHMARKS.md.
#
#   benches/report_open.sh OUT/report.html [RUNS]
set -euo pipefail
report=${1:?usage: benches/report_open.sh REPORT.html [RUNS]}
runs=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The probe is appended to a copy; the report itself is not changed.
python3 - "$report" "$work/probe.html" <<'PY'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
probe = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  var n = performance.getEntriesByType("navigation")[0];
  var p = performance.getEntriesByType("paint").filter(function (e) { return e.name == "first-contentful-paint"; })[0];
  document.body.setAttribute("data-probe", "first_paint_ms=" + Math.round(p ? p.startTime : -1) +
    " dom_content_loaded_ms=" + Math.round(n.domContentLoadedEventEnd) + " load_ms=" + Math.round(n.loadEventEnd) +
    " table_rows=" + document.querySelectorAll("tbody tr").length);
}, 0); });
</script></body>"""
i = s.rindex("</body>")
open(sys.argv[2], "w", encoding="utf-8").write(s[:i] + probe + s[i + 7:])
PY
echo "$(du -h "$report" | cut -f1) $report"
for _ in $(seq "$runs"); do
  rm -rf "$work/profile"
  start=$(date +%s.%N)
  dom=$(timeout 300 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$work/profile" \
    --dump-dom "file://$work/probe.html" 2>/dev/null)
  end=$(date +%s.%N)
  echo "$(grep -o 'data-probe="[^"]*"' <<<"$dom" | cut -d'"' -f2) browser_wall_s=$(echo "$end - $start" | bc)"
done
