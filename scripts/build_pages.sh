#!/usr/bin/env bash
# Build a subset of the book (for authors): the given pages only, with the book's _config.yml,
# warnings as errors, into a separate output folder.
#   scripts/build_pages.sh OUTDIR notebooks/02_entropy.ipynb [book/notation.md ...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; shift
toc=$(mktemp --suffix=.yml)
# the bibliography page resolves {cite} keys; add it unless given
case " $* " in *" book/bibliography.md "*) ;; *) set -- "$@" book/bibliography.md ;; esac
first=${1%.*}
{
  echo "format: jb-book"
  echo "root: ${first}"
  if [ $# -gt 1 ]; then
    echo "chapters:"
    for f in "${@:2}"; do echo "  - file: ${f%.*}"; done
  fi
} > "$toc"
JB=${JB:-$(dirname "$(command -v python)")/jupyter-book}
[ -x "$JB" ] || JB=jupyter-book
"$JB" build . --toc "$toc" --path-output "$out" --builder html -W --keep-going
echo "built into $out/_build/html"
