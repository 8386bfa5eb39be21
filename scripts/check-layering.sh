#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks that every `#include <ninep/LAYER/...>` in include/ninep/L and src/L names a layer L may
# use. The table mirrors the target_link_libraries lines in src/*/CMakeLists.txt: dependencies
# only point down; and that a quoted include stays inside its own folder. Usage: check-layering.sh [SOURCE_ROOT]. Prints each violation; exit 1 if any.
root=${1:-$(dirname "$0")/..}
allowed() {
  case $1 in
    core) echo "core" ;;
    wire) echo "core wire" ;;
    transport) echo "core wire transport" ;;
    server) echo "core wire transport server" ;;
    fs) echo "core wire transport server fs" ;;
    client) echo "core wire transport client" ;;
    synth) echo "core wire transport server synth" ;;
    block) echo "core wire transport client block" ;;
    mount) echo "core wire transport client mount" ;;
    *) echo "" ;;
  esac
}
bad=0
checked=0
for dir in "$root"/include/ninep/* "$root"/src/*; do
  [ -d "$dir" ] || continue
  layer=$(basename "$dir")
  ok=$(allowed "$layer")
  if [ -z "$ok" ]; then
    echo "check-layering: $dir: unknown layer (add it to the table)"
    bad=1
    continue
  fi
  for used in $(grep -rhoE '#include <ninep/[a-z]+/' "$dir" | sed 's|.*<ninep/||; s|/$||' | sort -u); do
    checked=$((checked + 1))
    case " $ok " in
      *" $used "*) ;;
      *)
        grep -rnE "#include <ninep/$used/" "$dir" | sed "s|^|check-layering: $layer may not include $used: |"
        bad=1
        ;;
    esac
  done
done
# A quoted include names a private header of the same layer: it must resolve to a file inside
# the including file's own layer folder (no "../", no reaching into another layer's src/).
quoted=0
for dir in "$root"/include/ninep/* "$root"/src/* "$root"/tools/*; do
  [ -d "$dir" ] || continue
  top=$(cd "$dir" && pwd -P)
  for f in $(grep -rlE '^#include "' "$dir"); do
    for inc in $(sed -nE 's/^#include "([^"]+)".*/\1/p' "$f"); do
      quoted=$((quoted + 1))
      target=$(dirname "$f")/$inc
      real=$(realpath -m "$target")
      case $real in
        "$top"/*) [ -e "$real" ] && continue ;;
      esac
      echo "check-layering: $f: #include \"$inc\" leaves its folder ${dir#"$root"/} (or does not exist)"
      bad=1
    done
  done
done
echo "check-layering: $checked layer dependencies and $quoted quoted includes checked"
exit $bad
