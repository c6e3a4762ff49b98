# Sourced by scripts/test: the browser tests drive Debian's chromium through
# Playwright (never `playwright install`). Root installs the package when it is
# missing; anyone else gets the tests skipped with the reason (failed under CI=true).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing chromium (apt-get) for the browser tests"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
