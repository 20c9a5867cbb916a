# Prints the `path` of every local_path_override(...) call in a MODULE.bazel, one per line, as
# written (relative paths are relative to the module's directory). tools/bazel mounts them.
# Comments are dropped first; a `#` inside a string would cut it short (not seen in paths).
{
  sub(/#.*/, "")
  text = text " " $0
}
END {
  while (match(text, /local_path_override[ \t]*\([^)]*\)/)) {
    call = substr(text, RSTART, RLENGTH)
    text = substr(text, RSTART + RLENGTH)
    if (match(call, /[(, \t]path[ \t]*=[ \t]*"[^"]*"/)) {
      path = substr(call, RSTART, RLENGTH)
      sub(/^[^"]*"/, "", path)
      sub(/"$/, "", path)
      print path
    }
  }
}
