#!/usr/bin/env bash
# Installs the Debian packages Vigil's demo and tests need, when missing and when we may (root).
# With --test, also what only the tests need: a Java runtime for the lake's tests on Spark.
set -euo pipefail
tests=false
[ "${1:-}" = "--test" ] && tests=true
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v pdftotext >/dev/null || need+=(poppler-utils)
# Backups: the inspection room's evidence checks and `vigil backup` (restic check --read-data).
command -v restic >/dev/null || need+=(restic)
fc-list 2>/dev/null | grep -q 'NotoSans-Regular' || need+=(fonts-noto-core)
{ command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } && id postgres >/dev/null 2>&1 \
  || need+=(postgresql)
# Spark 4 runs on Java 17 or 21; its launcher takes JAVA_HOME's java, else the PATH's.
java_major() {
  "${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 \
    | sed -n 's/.*version "\(1\.\)\{0,1\}\([0-9][0-9]*\).*/\2/p' | head -n 1
}
if $tests; then
  major="$(java_major || true)"
  [ "${major:-0}" -ge 17 ] || need+=(openjdk-17-jre-headless)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]} (run as root or: sudo apt-get install ${need[*]}); tests that need them will skip" >&2
  exit 0
fi
# Debian's postgresql would create and start a cluster of its own; tests start their own.
mkdir -p /etc/postgresql-common
grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf \
  || echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [[ " ${need[*]} " == *" openjdk-17-jre-headless "* ]]; then
  # Debian 12 has Java 17; a release without it has its own default (21 on Debian 13).
  apt-cache policy openjdk-17-jre-headless 2>/dev/null | grep -q 'Candidate: [0-9]' \
    || need=("${need[@]/openjdk-17-jre-headless/default-jre-headless}")
  # The JRE's post-install links its man page; slim images have no man folder to link into.
  mkdir -p /usr/share/man/man1
fi
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
