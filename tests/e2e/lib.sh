# What run.sh and run_distributed.sh share (sourced): their two arguments, the checks that
# chromium, playwright-core and the built web app are there, and running a node:test file.
# The screenshot folder is shared: the distributed test's files are named *distributed-*.png.

# e2e_setup RELIANT_BINARY SCREENSHOT_DIR → sets reliant, shots, here (tests/e2e), root, web.
e2e_setup() {
  reliant=$(realpath "$1")
  shots=$(mkdir -p "$2" && realpath "$2")
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  root=$(cd "$here/../.." && pwd)
  source "$root/tools/ports.sh"
  [ -x /usr/bin/chromium ] || { echo "e2e: /usr/bin/chromium is missing (tools/setup.sh installs Debian's chromium)"; exit 1; }
  [ -d "$here/node_modules/playwright-core" ] || { echo "e2e: run npm ci --prefix tests/e2e (tools/setup.sh does)"; exit 1; }
  web=${E2E_WEB_DIR:-$root/web/dist}  # another build of the app, to compare
  [ -s "$web/index.html" ] || { echo "e2e: $web is not built (npm run build --prefix web)"; exit 1; }
}

# e2e_node TEST_FILE [NODE_TEST_OPTION...]: one node:test process, its spec report on stdout;
# the caller sets the E2E_* variables (tests/e2e/harness.mjs reads them).
e2e_node() {
  local file=$1
  shift
  E2E_SCREENSHOTS="$shots" E2E_RELIANT="$reliant" \
    node --test --test-reporter=spec --test-timeout=150000 "$@" "$here/$file"
}
