#!/usr/bin/env bash
# Installs the build into a temporary prefix and checks what a packager and a downstream user
# get: the file layout, the unit and .pc pointing into the prefix, a preserved config on
# reinstall, and a consumer built with find_package(mdfeed) and with pkg-config (C++17,
# -Wall -Wextra -Werror) that reads a real ring through the installed headers.
set -euo pipefail

while (($#)); do
  case "$1" in
    --build-dir) build=$2 ;;
    --consumer) consumer=$2 ;;
    --cmake) cmake=$2 ;;
    --generator) generator=$2 ;;
    --cxx) cxx=$2 ;;
    --pkg-config) pkgconfig=$2 ;;
    --have-daemon) have_daemon=$2 ;;
    --build-daemon-parts) daemon_parts=$2 ;;
    --fake) fake=$2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mdfeed-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }
must_exist() { for f in "$@"; do [[ -e $f ]] || fail "missing after install: ${f#"$prefix"/}"; done; }

echo "== install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }

echo "== layout"
must_exist "$prefix"/include/mdfeed/{reader.hpp,watcher.hpp,error.hpp,layout.hpp,doorbell_layout.hpp,names.hpp,seqlock.hpp,mapped_file.hpp} \
  "$prefix"/share/cmake/mdfeed/{mdfeedConfig.cmake,mdfeedConfigVersion.cmake,mdfeedTargets.cmake} \
  "$prefix"/share/pkgconfig/mdfeed.pc
for h in ring_writer.hpp mapped_file_writer.hpp wake_scheduler.hpp doorbell_writer.hpp; do
  [[ ! -e $prefix/include/mdfeed/$h ]] || fail "the writer header $h must not be installed"
done
if [[ $daemon_parts == ON ]]; then
  must_exist "$prefix"/bin/mdfeed-ctl "$prefix"/lib/systemd/system/mdfeed.service \
    "$prefix"/lib/tmpfiles.d/mdfeed.conf "$prefix"/lib/sysusers.d/mdfeed.conf \
    "$prefix"/etc/mdfeed/mdfeed.yaml
  [[ $have_daemon == 1 ]] && must_exist "$prefix"/bin/mdfeed
  unit=$prefix/lib/systemd/system/mdfeed.service
  want="ExecStart=$prefix/bin/mdfeed --config $prefix/etc/mdfeed/mdfeed.yaml"
  grep -qxF "$want" "$unit" || fail "unit ExecStart: want '$want', have '$(grep ExecStart= "$unit")'"
  "$prefix"/bin/mdfeed-ctl --version | grep -q '^mdfeed-ctl ' || fail "installed mdfeed-ctl runs"

  echo "== reinstall keeps an edited config"
  echo "# edited by the administrator" >>"$prefix/etc/mdfeed/mdfeed.yaml"
  "$cmake" --install "$build" --prefix "$prefix" >"$tmp/install2.log"
  grep -q "edited by the administrator" "$prefix/etc/mdfeed/mdfeed.yaml" || fail "config overwritten"
  must_exist "$prefix/etc/mdfeed/mdfeed.yaml.dist"
fi

# A real ring for the consumers to read (written by the build tree's RingWriter), if available.
shm=$tmp/shm
mkdir "$shm"
want_out="not found"
if [[ -n $fake ]]; then
  "$fake" --dir "$shm" --mode stopped >/dev/null
  want_out="closed=100 latest=5 forming=yes"
fi

check_consumer() {  # $1: binary, $2: label
  local out rc=0
  out=$("$1" "$shm") || rc=$?
  [[ $out == "$want_out"* ]] || fail "$2 consumer printed '$out' (exit $rc), want '$want_out...'"
  out=$("$1" "$tmp/no-such-dir") && rc=0 || rc=$?
  [[ $rc == 3 && $out == "not found:"* ]] || fail "$2 consumer on a missing dir: exit $rc, '$out'"
  echo "$2 consumer: ok"
}

echo "== find_package(mdfeed) consumer"
"$cmake" -S "$consumer" -B "$tmp/cbuild" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/configure.log" ||
  { cat "$tmp/configure.log"; fail "consumer configure"; }
"$cmake" --build "$tmp/cbuild" >"$tmp/build.log" || { cat "$tmp/build.log"; fail "consumer build"; }
check_consumer "$tmp/cbuild/consumer" "CMake"

echo "== pkg-config consumer"
if [[ -z $pkgconfig ]]; then
  echo "pkg-config not installed: skipping that half" >&2
else
  export PKG_CONFIG_PATH=$prefix/share/pkgconfig
  [[ $("$pkgconfig" --modversion mdfeed) =~ ^[0-9]+\.[0-9]+ ]] || fail "pkg-config --modversion"
  cflags=$("$pkgconfig" --cflags mdfeed)
  [[ $cflags == *"-I$prefix/include"* ]] || fail "pkg-config cflags '$cflags' do not point into the prefix"
  # shellcheck disable=SC2086 # cflags is a list of flags
  "$cxx" -std=c++17 -Wall -Wextra -Werror $cflags "$consumer/main.cpp" $("$pkgconfig" --libs mdfeed) \
    -o "$tmp/pc-consumer"
  check_consumer "$tmp/pc-consumer" "pkg-config"
fi
echo "PASS install"
